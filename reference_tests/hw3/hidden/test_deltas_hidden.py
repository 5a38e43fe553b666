import pytest
import torch

from grader.judge.checks import check_function
from hw3_refs import PERCEPTRON_HINT, SIGMOID_HINT, hidden_delta, output_delta, perceptron_grad, values_hint


@pytest.mark.part("perceptron_grad")
@pytest.mark.parametrize("t", [0.0, 1.0, 0.3])
def test_perceptron_grad_targets(student, rng, t):
    x = torch.randn(1000, generator=rng, dtype=torch.float64)
    w = torch.randn(1000, generator=rng, dtype=torch.float64) * 0.05
    check_function(student, "perceptron_grad", perceptron_grad, x, w, t, profile="accumulate",
                   hint=values_hint(PERCEPTRON_HINT))


@pytest.mark.part("perceptron_grad")
def test_perceptron_grad_saturated(student, rng):
    # x . w is large: O(1 - O) is tiny and the gradient nearly zero, never nan
    x = torch.rand(8, generator=rng, dtype=torch.float64) + 1.0
    w = torch.full((8,), 4.0, dtype=torch.float64)
    check_function(student, "perceptron_grad", perceptron_grad, x, w, 0.0, profile="accumulate",
                   hint=values_hint(PERCEPTRON_HINT))


@pytest.mark.part("perceptron_grad")
def test_perceptron_grad_large_float32(student, rng):
    x = torch.randn(200_000, generator=rng)
    w = torch.randn(200_000, generator=rng) * 0.003
    check_function(student, "perceptron_grad", perceptron_grad, x, w, 0.5, profile="accumulate")


@pytest.mark.part("output_delta")
def test_output_delta_autograd(student, rng):
    o = torch.rand(64, 10, generator=rng, dtype=torch.float64) * 0.998 + 0.001
    t = (torch.rand(64, 10, generator=rng, dtype=torch.float64) > 0.5).to(torch.float64)
    check_function(student, "output_delta", output_delta, o, t, hint=values_hint(SIGMOID_HINT))


@pytest.mark.part("output_delta")
def test_output_delta_saturated(student):
    o = torch.tensor([[1e-6, 1 - 1e-6, 0.5], [1e-3, 0.999, 0.25]], dtype=torch.float64)
    t = torch.tensor([[1.0, 0.0, 0.5], [0.0, 1.0, 0.75]], dtype=torch.float64)
    check_function(student, "output_delta", output_delta, o, t, hint=values_hint(SIGMOID_HINT))


@pytest.mark.part("output_delta")
def test_output_delta_large_float32(student, rng):
    o = torch.rand(1024, 512, generator=rng) * 0.98 + 0.01
    t = torch.rand(1024, 512, generator=rng)
    check_function(student, "output_delta", output_delta, o, t, hint=values_hint(SIGMOID_HINT))


@pytest.mark.part("hidden_delta")
@pytest.mark.parametrize("batch,j,k", [(1, 5, 3), (16, 3, 9), (33, 8, 8)])
def test_hidden_delta_shapes(student, rng, batch, j, k):
    o = torch.rand(batch, j, generator=rng, dtype=torch.float64) * 0.98 + 0.01
    delta_next = torch.randn(batch, k, generator=rng, dtype=torch.float64)
    w_next = torch.randn(j, k, generator=rng, dtype=torch.float64)
    check_function(student, "hidden_delta", hidden_delta, o, delta_next, w_next,
                   profile="accumulate",
                   hint=values_hint("sum delta_k w_jk over k, the columns of w_next [J, K]; "
                                    "did you multiply by O(1-O)?"))


@pytest.mark.part("hidden_delta")
def test_hidden_delta_large_float32(student, rng):
    o = torch.rand(1024, 512, generator=rng) * 0.98 + 0.01
    delta_next = torch.randn(1024, 128, generator=rng) * 0.1
    w_next = torch.randn(512, 128, generator=rng) / 12
    check_function(student, "hidden_delta", hidden_delta, o, delta_next, w_next,
                   profile="accumulate")
