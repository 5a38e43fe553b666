import pytest
import torch

from grader.judge.checks import check_function
from hw2_refs import derivative, values_hint


@pytest.mark.part("sigmoid_grad")
def test_sigmoid_grad_values(student, rng):
    x = torch.randn(6, 7, generator=rng, dtype=torch.float64) * 3
    check_function(student, "sigmoid_grad", derivative(torch.sigmoid), x)


@pytest.mark.part("tanh_grad")
def test_tanh_grad_values(student, rng):
    x = torch.randn(6, 7, generator=rng, dtype=torch.float64) * 3
    check_function(student, "tanh_grad", derivative(torch.tanh), x)


@pytest.mark.part("relu_grad")
def test_relu_grad_at_zero(student, rng):
    x = torch.tensor([-2.0, -0.5, 0.0, 0.0, 0.5, 3.0], dtype=torch.float64)
    check_function(student, "relu_grad", derivative(torch.relu), x,
                   hint=values_hint("PyTorch's ReLU derivative is 0 at exactly x = 0"))
