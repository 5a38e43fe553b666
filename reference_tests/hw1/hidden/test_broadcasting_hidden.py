import pytest
import torch

from grader.judge.checks import check_function
from hw1_refs import (check_broadcast_shape, check_expand_view, check_raises_value_error,
                      expand_to, random_broadcastable)


@pytest.mark.part("broadcast_shape")
@pytest.mark.parametrize("a, b", [((), ()), ((0,), (1,)), ((1,), (0,)), ((3, 1, 5), (0, 1)),
                                  ((2, 3), (3,)), ((4, 1), (4,)), ((1, 1, 1), (7,)),
                                  ((6, 1, 4, 1), (5, 1, 3))])
def test_broadcast_shape_edges(student, a, b):
    check_broadcast_shape(student, a, b)


@pytest.mark.part("broadcast_shape")
def test_broadcast_shape_lists_and_sizes(student):
    check_broadcast_shape(student, [2, 1, 4], [3, 1])
    check_broadcast_shape(student, torch.Size([5, 1]), torch.Size([1, 6]))


@pytest.mark.part("broadcast_shape")
def test_broadcast_shape_random_long(student, rng):
    for _ in range(20):
        a, b = random_broadcastable(rng, max_dims=6, max_size=4)
        check_broadcast_shape(student, a, b)
        check_broadcast_shape(student, b, a)


@pytest.mark.part("broadcast_shape")
@pytest.mark.parametrize("a, b, why", [
    ((0,), (2,), "sizes 0 and 2 differ and neither is 1"),
    ((4, 3), (4,), "aligned from the last dimension, sizes 3 and 4 differ"),
    ((3, 4), (2, 1, 5), "sizes 4 and 5 differ and neither is 1"),
    ((2, 1, 3), (5, 2, 3), "sizes 2 and 5 differ and neither is 1"),
])
def test_broadcast_shape_errors(student, a, b, why):
    check_raises_value_error(student, "broadcast_shape", a, b, why=why)


@pytest.mark.part("expand_to")
@pytest.mark.parametrize("src, shape", [((), (2, 3)), ((2, 1, 3, 1), (5, 2, 4, 3, 6)),
                                        ((4, 5), (4, 5)), ((1,), (3, 1, 7))])
def test_expand_to_views(student, rng, src, shape):
    t = torch.randn(src, generator=rng, dtype=torch.float64)
    check_function(student, "expand_to", expand_to, t, shape, grad=True)
    check_expand_view(student, t, shape)


@pytest.mark.part("expand_to")
def test_expand_to_non_contiguous_input(student, rng):
    t = torch.randn(1, 4, 3, generator=rng, dtype=torch.float64).transpose(1, 2)
    check_function(student, "expand_to", expand_to, t, (2, 5, 3, 4), grad=True)
    check_expand_view(student, t, (2, 5, 3, 4))


@pytest.mark.part("expand_to")
def test_expand_to_integer_and_empty(student, rng):
    t = torch.randint(-5, 5, (3, 1), generator=rng)
    check_function(student, "expand_to", expand_to, t, (2, 3, 4), profile="exact")
    check_expand_view(student, t, (2, 3, 4))
    e = torch.randn(1, 3, generator=rng, dtype=torch.float64)
    check_function(student, "expand_to", expand_to, e, (0, 3))


@pytest.mark.part("expand_to")
def test_expand_to_large_float32(student, rng):
    t = torch.randn(1, 2000, generator=rng, dtype=torch.float32)
    check_function(student, "expand_to", expand_to, t, (300, 2000), grad=True)
    check_expand_view(student, t, (300, 2000))


@pytest.mark.part("expand_to")
@pytest.mark.parametrize("src, shape, why", [
    ((2, 3), (3,), "the target has fewer dimensions than t"),
    ((3, 2), (2, 3, 4), "a dimension of size 2 cannot become 4"),
    ((3, 1), (2, 3), "aligned from the last dimension, 3 cannot become 2"),
])
def test_expand_to_errors(student, rng, src, shape, why):
    t = torch.randn(src, generator=rng, dtype=torch.float64)
    check_raises_value_error(student, "expand_to", t, shape, why=why)
