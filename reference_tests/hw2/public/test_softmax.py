import pytest
import torch

from grader.judge.checks import check_function
from hw2_refs import nan_hint, softmax_backward, softmax_jacobian, values_hint


@pytest.mark.part("softmax")
def test_softmax_rows(student, rng):
    a = torch.randn(4, 10, generator=rng, dtype=torch.float64)
    check_function(student, "softmax", torch.softmax, a, dim=-1, grad=True)


def softmax_last(a):
    return torch.softmax(a, dim=-1)


@pytest.mark.part("softmax")
@pytest.mark.parametrize("shape", [(4, 10), (2, 3, 5)])
def test_softmax_default_dim(student, rng, shape):
    a = torch.randn(*shape, generator=rng, dtype=torch.float64)
    check_function(student, "softmax", softmax_last, a, grad=True,
                   hint=values_hint("without `dim`, softmax normalises the last dimension "
                                    "(dim=-1)"))


@pytest.mark.part("softmax")
def test_softmax_stable(student):
    a = torch.tensor([[1000.0, 0.0], [-1000.0, 0.0]], dtype=torch.float64)
    check_function(student, "softmax", torch.softmax, a, dim=-1,
                   hint=nan_hint("subtract the row maximum before exp"))


@pytest.mark.part("softmax_jacobian")
def test_softmax_jacobian_small(student, rng):
    a = torch.randn(3, 5, generator=rng, dtype=torch.float64)
    check_function(student, "softmax_jacobian", softmax_jacobian, a,
                   hint=values_hint("J = diag(p) - p p^T: check the diagonal term p_i"))


@pytest.mark.part("softmax_backward")
def test_softmax_backward_small(student, rng):
    p = torch.softmax(torch.randn(4, 6, generator=rng, dtype=torch.float64), -1)
    g = torch.randn(4, 6, generator=rng, dtype=torch.float64)
    check_function(student, "softmax_backward", softmax_backward, p, g, profile="accumulate")
