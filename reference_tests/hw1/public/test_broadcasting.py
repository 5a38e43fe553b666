import pytest
import torch

from grader.judge.checks import check_function
from hw1_refs import (check_broadcast_shape, check_expand_view, check_raises_value_error,
                      expand_to, random_broadcastable)


@pytest.mark.part("broadcast_shape")
@pytest.mark.parametrize("a, b", [((4, 32, 14, 14), (14, 14)), ((0, 3), (1, 3)), ((), (2,)),
                                  ((5, 1, 3), (4, 1))])
def test_broadcast_shape_examples(student, a, b):
    check_broadcast_shape(student, a, b)


@pytest.mark.part("broadcast_shape")
def test_broadcast_shape_random(student, rng):
    for _ in range(10):
        check_broadcast_shape(student, *random_broadcastable(rng))


@pytest.mark.part("broadcast_shape")
def test_broadcast_shape_mismatch_raises(student):
    check_raises_value_error(student, "broadcast_shape", (2, 3), (4, 3),
                             why="sizes 2 and 4 differ and neither is 1")


@pytest.mark.part("expand_to")
def test_expand_to_values_and_grad(student, rng):
    t = torch.randn(3, 1, generator=rng, dtype=torch.float64)
    check_function(student, "expand_to", expand_to, t, (2, 3, 4), grad=True)


@pytest.mark.part("expand_to")
def test_expand_to_is_a_view(student, rng):
    t = torch.randn(3, 1, generator=rng, dtype=torch.float64)
    check_function(student, "expand_to", expand_to, t, (2, 3, 4))
    check_expand_view(student, t, (2, 3, 4))


@pytest.mark.part("expand_to")
def test_expand_to_float32(student, rng):
    t = torch.randn(1, 5, generator=rng, dtype=torch.float32)
    check_function(student, "expand_to", expand_to, t, (4, 5), grad=True)


@pytest.mark.part("expand_to")
def test_expand_to_not_broadcastable_raises(student, rng):
    t = torch.randn(3, 2, generator=rng, dtype=torch.float64)
    check_raises_value_error(student, "expand_to", t, (3, 4),
                             why="a dimension of size 2 cannot become 4")
