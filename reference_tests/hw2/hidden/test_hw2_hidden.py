"""Hidden hw2 tests: edge cases, float32, larger sizes, and the large-N memory test.

Expected values come from the reference solution (the ``reference`` fixture) or from torch,
computed at test time on seeded inputs.
"""

import math

import pytest
import torch
import torch.nn.functional as F
from hw2_refs import derivative, nan_hint, softmax_jacobian, values_hint

from grader.judge.checks import check_function

EXTREMES = [-1000.0, -100.0, -30.0, -1.0, 0.0, 1.0, 30.0, 100.0, 1000.0]


@pytest.mark.part("sigmoid_grad")
@pytest.mark.parametrize("dtype", [torch.float64, torch.float32])
def test_sigmoid_grad_extremes(student, dtype):
    x = torch.tensor(EXTREMES, dtype=dtype)
    check_function(student, "sigmoid_grad", derivative(torch.sigmoid), x,
                   hint=nan_hint("exp(-x) overflows for large negative x: use torch.sigmoid"))


@pytest.mark.part("sigmoid_grad")
def test_sigmoid_grad_float32_large(student, rng):
    x = torch.randn(64, 33, generator=rng, dtype=torch.float32) * 5
    check_function(student, "sigmoid_grad", derivative(torch.sigmoid), x)


@pytest.mark.part("tanh_grad")
def test_tanh_grad_extremes(student):
    x = torch.tensor(EXTREMES, dtype=torch.float64)
    check_function(student, "tanh_grad", derivative(torch.tanh), x,
                   hint=nan_hint("1 - tanh(x)**2 never overflows"))


@pytest.mark.part("tanh_grad")
def test_tanh_grad_float32_3d(student, rng):
    x = torch.randn(4, 16, 9, generator=rng, dtype=torch.float32) * 3
    check_function(student, "tanh_grad", derivative(torch.tanh), x,
                   hint=values_hint("the derivative is 1 - tanh(x)**2 (squared)"))


@pytest.mark.part("relu_grad")
def test_relu_grad_float32_with_zeros(student, rng):
    x = torch.randn(50, 20, generator=rng, dtype=torch.float32)
    x[::3, ::2] = 0.0
    check_function(student, "relu_grad", derivative(torch.relu), x,
                   hint=values_hint("PyTorch's ReLU derivative is 0 at exactly x = 0"))


@pytest.mark.part("relu_grad")
def test_relu_grad_3d(student, rng):
    x = torch.randn(3, 4, 5, generator=rng, dtype=torch.float64)
    check_function(student, "relu_grad", derivative(torch.relu), x)


@pytest.mark.part("softmax")
def test_softmax_huge_logits_float32(student, rng):
    a = torch.randn(6, 12, generator=rng, dtype=torch.float32) * 1e4
    check_function(student, "softmax", torch.softmax, a, dim=-1,
                   hint=nan_hint("subtract the row maximum before exp"))


@pytest.mark.part("softmax")
@pytest.mark.parametrize("dim", [0, 1])
def test_softmax_other_dims(student, rng, dim):
    a = torch.randn(5, 7, 3, generator=rng, dtype=torch.float64)
    check_function(student, "softmax", torch.softmax, a, dim=dim, grad=True,
                   hint=values_hint("normalise along `dim`, not always the last one"))


@pytest.mark.part("softmax_jacobian")
def test_softmax_jacobian_batched(student, rng):
    a = torch.randn(2, 3, 7, generator=rng, dtype=torch.float64)
    check_function(student, "softmax_jacobian", softmax_jacobian, a,
                   hint=values_hint("J = diag(p) - p p^T: check the diagonal term p_i"))


@pytest.mark.part("softmax_jacobian")
def test_softmax_jacobian_float32_shifted(student, rng):
    a = torch.randn(5, 6, generator=rng, dtype=torch.float32) + 100
    check_function(student, "softmax_jacobian", softmax_jacobian, a,
                   hint=nan_hint("subtract the row maximum before exp"))


@pytest.mark.part("softmax_backward")
def test_softmax_backward_float32_batch(student, reference, rng):
    p = torch.softmax(torch.randn(8, 50, generator=rng, dtype=torch.float64), -1)
    g = torch.randn(8, 50, generator=rng, dtype=torch.float64)
    check_function(student, "softmax_backward", reference.softmax_backward,
                   p.float(), g.float(), profile="accumulate")


@pytest.mark.part("softmax_backward")
def test_softmax_backward_large_n(student, reference, rng, settings):
    # An N x N float64 Jacobian needs more than twice the executor's memory budget.
    n = math.isqrt(2 * settings.memory_bytes // 8) + 1
    assert n * n * 8 > 2 * settings.memory_bytes
    p = torch.softmax(torch.randn(1, n, generator=rng, dtype=torch.float64), -1)
    g = torch.randn(1, n, generator=rng, dtype=torch.float64)
    check_function(student, "softmax_backward", reference.softmax_backward, p, g,
                   profile="accumulate",
                   hint=values_hint("compute p * (g - sum(g * p)) without the N x N Jacobian"))


@pytest.mark.part("linear_mse_grad")
def test_linear_mse_grad_float32(student, reference, rng):
    x = torch.randn(64, 10, generator=rng, dtype=torch.float32)
    y = torch.randn(64, generator=rng, dtype=torch.float32)
    w = torch.randn(10, generator=rng, dtype=torch.float32)
    b = torch.randn((), generator=rng, dtype=torch.float32)
    check_function(student, "linear_mse_grad", reference.linear_mse_grad, x, y, w, b,
                   profile="accumulate",
                   hint=values_hint("L is a mean: both gradients carry a factor 2/N"))


@pytest.mark.part("linear_mse_grad")
def test_linear_mse_grad_larger(student, reference, rng):
    x = torch.randn(200, 5, generator=rng, dtype=torch.float64) * 2
    y = torch.randn(200, generator=rng, dtype=torch.float64)
    w = torch.randn(5, generator=rng, dtype=torch.float64)
    b = torch.randn((), generator=rng, dtype=torch.float64)
    check_function(student, "linear_mse_grad", reference.linear_mse_grad, x, y, w, b,
                   profile="accumulate")


@pytest.mark.part("cross_entropy")
def test_cross_entropy_large_logits(student, rng):
    logits = torch.randn(6, 5, generator=rng, dtype=torch.float64) * 1000
    target = torch.randint(0, 5, (6,), generator=rng)
    check_function(student, "cross_entropy", F.cross_entropy, logits, target,
                   profile="accumulate", hint=nan_hint("use log-sum-exp with the row max"))


@pytest.mark.part("cross_entropy")
def test_cross_entropy_float32_grad(student, rng):
    logits = torch.randn(32, 10, generator=rng, dtype=torch.float32) * 3
    target = torch.randint(0, 10, (32,), generator=rng)
    check_function(student, "cross_entropy", F.cross_entropy, logits, target, grad=True,
                   profile="accumulate")


@pytest.mark.part("cross_entropy_grad")
def test_cross_entropy_grad_large_logits_float32(student, reference, rng):
    logits = torch.randn(16, 7, generator=rng, dtype=torch.float32) * 1e3
    target = torch.randint(0, 7, (16,), generator=rng)
    check_function(student, "cross_entropy_grad", reference.cross_entropy_grad, logits, target,
                   profile="accumulate", hint=nan_hint("subtract the row maximum before exp"))


@pytest.mark.part("cross_entropy_grad")
def test_cross_entropy_grad_larger(student, reference, rng):
    logits = torch.randn(128, 20, generator=rng, dtype=torch.float64)
    target = torch.randint(0, 20, (128,), generator=rng)
    check_function(student, "cross_entropy_grad", reference.cross_entropy_grad, logits, target,
                   profile="accumulate",
                   hint=values_hint("the loss is a mean over the batch: divide by N"))
