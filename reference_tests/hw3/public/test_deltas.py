import pytest
import torch

from grader.judge.checks import check_function
from hw3_refs import (
    PERCEPTRON_HINT,
    SIGMOID_HINT,
    hidden_delta,
    output_delta,
    output_delta_formula,
    perceptron_grad,
    values_hint,
)


@pytest.mark.part("perceptron_grad")
def test_perceptron_grad_small(student, rng):
    x = torch.randn(5, generator=rng, dtype=torch.float64)
    w = torch.randn(5, generator=rng, dtype=torch.float64) * 0.5
    check_function(student, "perceptron_grad", perceptron_grad, x, w, 0.8,
                   profile="accumulate", hint=values_hint(PERCEPTRON_HINT))


@pytest.mark.part("perceptron_grad")
def test_perceptron_grad_float32(student, rng):
    x = torch.randn(16, generator=rng)
    w = torch.randn(16, generator=rng) * 0.25
    check_function(student, "perceptron_grad", perceptron_grad, x, w, 0.0,
                   profile="accumulate", hint=values_hint(PERCEPTRON_HINT))


@pytest.mark.part("output_delta")
def test_output_delta_formula(student, rng):
    o = torch.rand(4, 3, generator=rng, dtype=torch.float64) * 0.96 + 0.02
    t = torch.rand(4, 3, generator=rng, dtype=torch.float64)
    check_function(student, "output_delta", output_delta_formula, o, t,
                   hint=values_hint(SIGMOID_HINT))


@pytest.mark.part("output_delta")
def test_output_delta_autograd_float32(student, rng):
    o = torch.rand(8, 5, generator=rng) * 0.96 + 0.02
    t = torch.rand(8, 5, generator=rng)
    check_function(student, "output_delta", output_delta, o, t, hint=values_hint(SIGMOID_HINT))


@pytest.mark.part("hidden_delta")
def test_hidden_delta_small(student, rng):
    o = torch.rand(4, 6, generator=rng, dtype=torch.float64) * 0.96 + 0.02
    delta_next = torch.randn(4, 3, generator=rng, dtype=torch.float64)
    w_next = torch.randn(6, 3, generator=rng, dtype=torch.float64)
    check_function(student, "hidden_delta", hidden_delta, o, delta_next, w_next,
                   profile="accumulate",
                   hint=values_hint("delta_j = O_j(1 - O_j) sum_k delta_k w_jk: sum over k, the "
                                    "columns of w_next; did you multiply by O(1-O)?"))


@pytest.mark.part("hidden_delta")
def test_hidden_delta_float32(student, rng):
    o = torch.rand(10, 7, generator=rng) * 0.96 + 0.02
    delta_next = torch.randn(10, 5, generator=rng)
    w_next = torch.randn(7, 5, generator=rng)
    check_function(student, "hidden_delta", hidden_delta, o, delta_next, w_next,
                   profile="accumulate", hint=values_hint(SIGMOID_HINT))
