import pytest
import torch

from grader.judge.checks import check_function
from hw1_refs import (check_one_hot_rejects, check_raises_value_error, one_hot, one_hot_hint,
                      patches_hint, to_patches)


@pytest.mark.part("one_hot")
@pytest.mark.parametrize("n, c", [(1, 1), (7, 2), (0, 5), (20, 100)])
def test_one_hot_sizes(student, rng, n, c):
    target = torch.randint(0, c, (n,), generator=rng)
    check_function(student, "one_hot", one_hot, target, c, profile="exact", hint=one_hot_hint)


@pytest.mark.part("one_hot")
def test_one_hot_every_class_once(student, rng):
    target = torch.randperm(12, generator=rng)
    check_function(student, "one_hot", one_hot, target, 12, profile="exact", hint=one_hot_hint)


@pytest.mark.part("one_hot")
def test_one_hot_large(student, rng):
    # A million rows: a Python loop over the targets runs past the time limit.
    target = torch.randint(0, 4, (1_000_000,), generator=rng)
    check_function(student, "one_hot", one_hot, target, 4, profile="exact", hint=one_hot_hint)


@pytest.mark.part("one_hot")
def test_one_hot_negative_target_raises(student):
    check_one_hot_rejects(student, torch.tensor([1, 0, -3, 2]), 5, bad=-3)


@pytest.mark.part("one_hot")
def test_one_hot_target_equal_to_num_classes_raises(student):
    check_one_hot_rejects(student, torch.tensor([0, 1, 2, 7, 3]), 7, bad=7)


@pytest.mark.part("to_patches")
@pytest.mark.parametrize("shape, p", [((2, 3, 4, 4), 1), ((2, 3, 6, 6), 6), ((1, 2, 8, 12), 4),
                                      ((3, 5, 6, 9), 3)])
def test_to_patches_shapes(student, rng, shape, p):
    x = torch.randn(*shape, generator=rng, dtype=torch.float64)
    check_function(student, "to_patches", to_patches, x, p, grad=True, hint=patches_hint(x, p))


@pytest.mark.part("to_patches")
def test_to_patches_large_float32(student, rng):
    x = torch.randn(64, 3, 32, 32, generator=rng)
    check_function(student, "to_patches", to_patches, x, 4, grad=True, hint=patches_hint(x, 4))


@pytest.mark.part("to_patches")
def test_to_patches_width_not_divisible_raises(student, rng):
    x = torch.randn(2, 3, 6, 7, generator=rng, dtype=torch.float64)
    check_raises_value_error(student, "to_patches", x, 3, why="W = 7 is not divisible by 3")
