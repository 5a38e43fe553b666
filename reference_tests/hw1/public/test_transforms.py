import pytest
import torch

from grader.judge.checks import check_function
from hw1_refs import (check_one_hot_rejects, check_raises_value_error, one_hot, one_hot_hint,
                      patches_hint, to_patches)


@pytest.mark.part("one_hot")
def test_one_hot_example(student):
    check_function(student, "one_hot", one_hot, torch.tensor([2, 0, 1]), 3, profile="exact",
                   hint=one_hot_hint)


@pytest.mark.part("one_hot")
def test_one_hot_random(student, rng):
    target = torch.randint(0, 10, (50,), generator=rng)
    check_function(student, "one_hot", one_hot, target, 10, profile="exact", hint=one_hot_hint)


@pytest.mark.part("one_hot")
def test_one_hot_target_too_large_raises(student):
    check_one_hot_rejects(student, torch.tensor([0, 6, 2]), 4, bad=6)


@pytest.mark.part("to_patches")
def test_to_patches_example(student):
    x = torch.arange(16, dtype=torch.float64).view(1, 1, 4, 4)
    check_function(student, "to_patches", to_patches, x, 2, hint=patches_hint(x, 2))


@pytest.mark.part("to_patches")
def test_to_patches_channels_and_grad(student, rng):
    x = torch.randn(2, 3, 6, 4, generator=rng, dtype=torch.float64)
    check_function(student, "to_patches", to_patches, x, 2, grad=True, hint=patches_hint(x, 2))


@pytest.mark.part("to_patches")
def test_to_patches_float32(student, rng):
    x = torch.randn(3, 2, 8, 8, generator=rng)
    check_function(student, "to_patches", to_patches, x, 4, grad=True, hint=patches_hint(x, 4))


@pytest.mark.part("to_patches")
def test_to_patches_not_divisible_raises(student, rng):
    x = torch.randn(1, 1, 5, 4, generator=rng, dtype=torch.float64)
    check_raises_value_error(student, "to_patches", x, 2, why="H = 5 is not divisible by 2")
