import pytest
import torch

from grader.judge.checks import check_function
from hw1_refs import norm_hint, vector_norm


def nonzero(shape, rng, dtype=torch.float64, scale=1.0):
    x = torch.randn(*shape, generator=rng, dtype=torch.float64)
    return ((x + x.sign() * 0.1) * scale).to(dtype)


@pytest.mark.part("vector_norm")
@pytest.mark.parametrize("p", [1.0, 1.5, 2.0, 3.5, 7.0])
@pytest.mark.parametrize("dim", [None, 0, 2])
def test_vector_norm_3d(student, rng, p, dim):
    x = nonzero((3, 4, 5), rng)
    check_function(student, "vector_norm", vector_norm, x, p, dim, grad=True,
                   profile="accumulate", hint=norm_hint(p))


@pytest.mark.part("vector_norm")
@pytest.mark.parametrize("dim", [None, 1])
def test_vector_norm_keepdim(student, rng, dim):
    x = nonzero((2, 3, 4), rng)
    check_function(student, "vector_norm", vector_norm, x, 2.5, dim=dim, keepdim=True,
                   grad=True, profile="accumulate", hint=norm_hint(2.5))


@pytest.mark.part("vector_norm")
def test_vector_norm_integer_p_and_1d(student, rng):
    x = nonzero((9,), rng, scale=3.0)
    check_function(student, "vector_norm", vector_norm, x, 3, grad=True, profile="accumulate",
                   hint=norm_hint(3))


@pytest.mark.part("vector_norm")
@pytest.mark.parametrize("p", [1.0, 2.0, 3.5])
def test_vector_norm_large_float32(student, rng, p):
    x = nonzero((200, 300), rng, torch.float32)
    check_function(student, "vector_norm", vector_norm, x, p, dim=1, grad=True,
                   profile="accumulate", hint=norm_hint(p))
    check_function(student, "vector_norm", vector_norm, x, p, grad=True, profile="accumulate",
                   hint=norm_hint(p))
