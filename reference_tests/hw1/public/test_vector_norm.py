import pytest
import torch

from grader.judge.checks import check_function
from hw1_refs import norm_hint, vector_norm


def nonzero(shape, rng, dtype=torch.float64):
    x = torch.randn(*shape, generator=rng, dtype=torch.float64)
    return (x + x.sign() * 0.1).to(dtype)


@pytest.mark.part("vector_norm")
@pytest.mark.parametrize("p", [1.0, 2.0, 3.5])
def test_vector_norm_all_elements(student, rng, p):
    x = nonzero((4, 5), rng)
    check_function(student, "vector_norm", vector_norm, x, p, grad=True, profile="accumulate",
                   hint=norm_hint(p))


@pytest.mark.part("vector_norm")
@pytest.mark.parametrize("dim, keepdim", [(1, False), (0, True), (-1, True)])
def test_vector_norm_dim(student, rng, dim, keepdim):
    x = nonzero((3, 6), rng)
    check_function(student, "vector_norm", vector_norm, x, 3.5, dim=dim, keepdim=keepdim,
                   grad=True, profile="accumulate", hint=norm_hint(3.5))


@pytest.mark.part("vector_norm")
def test_vector_norm_float32(student, rng):
    x = nonzero((8, 5), rng, torch.float32)
    check_function(student, "vector_norm", vector_norm, x, 2.0, dim=0, grad=True,
                   profile="accumulate", hint=norm_hint(2.0))
