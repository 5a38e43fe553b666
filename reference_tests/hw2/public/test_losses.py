import pytest
import torch
import torch.nn.functional as F

from grader.judge.checks import check_function
from hw2_refs import cross_entropy_grad, linear_mse_grad, nan_hint, values_hint


@pytest.mark.part("linear_mse_grad")
def test_linear_mse_grad_small(student, rng):
    x = torch.randn(8, 3, generator=rng, dtype=torch.float64)
    y = torch.randn(8, generator=rng, dtype=torch.float64)
    w = torch.randn(3, generator=rng, dtype=torch.float64)
    b = torch.randn((), generator=rng, dtype=torch.float64)
    check_function(student, "linear_mse_grad", linear_mse_grad, x, y, w, b, profile="accumulate",
                   hint=values_hint("L is a mean: both gradients carry a factor 2/N"))


@pytest.mark.part("cross_entropy")
def test_cross_entropy_small(student, rng):
    logits = torch.randn(5, 4, generator=rng, dtype=torch.float64)
    target = torch.randint(0, 4, (5,), generator=rng)
    check_function(student, "cross_entropy", F.cross_entropy, logits, target, grad=True,
                   profile="accumulate", hint=nan_hint("use log-sum-exp with the row max"))


@pytest.mark.part("cross_entropy_grad")
def test_cross_entropy_grad_small(student, rng):
    logits = torch.randn(6, 3, generator=rng, dtype=torch.float64)
    target = torch.randint(0, 3, (6,), generator=rng)
    check_function(student, "cross_entropy_grad", cross_entropy_grad, logits, target,
                   profile="accumulate",
                   hint=values_hint("the loss is a mean over the batch: divide by N"))
