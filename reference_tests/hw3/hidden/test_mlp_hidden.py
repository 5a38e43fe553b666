import pytest
import torch

from grader.judge.checks import check_function
from hw3_refs import batch_hint, mlp_forward, mlp_grads, random_mlp

SIZES = {1: (6, 4), 2: (6, 9, 4), 3: (5, 12, 7, 3), 4: (8, 16, 10, 6, 2)}


@pytest.mark.part("mlp_forward")
@pytest.mark.parametrize("layers", [1, 3, 4])
def test_mlp_forward_layers(student, rng, layers):
    x, weights, biases, _ = random_mlp(SIZES[layers], 7, rng)
    check_function(student, "mlp_forward", mlp_forward, x, weights, biases, profile="accumulate")


@pytest.mark.part("mlp_forward")
def test_mlp_forward_batch_one_float32(student, rng):
    x, weights, biases, _ = random_mlp((20, 30, 10), 1, rng, torch.float32)
    check_function(student, "mlp_forward", mlp_forward, x, weights, biases, profile="accumulate")


def _check_backward(student, sizes, batch, rng, dtype=torch.float64):
    x, weights, biases, target = random_mlp(sizes, batch, rng, dtype)
    activations = mlp_forward(x, weights, biases)

    def reference(activations, weights, target):
        return mlp_grads(x, weights, biases, target)

    check_function(student, "mlp_backward", reference, activations, weights, target,
                   profile="accumulate", hint=batch_hint(batch))


@pytest.mark.part("mlp_backward")
@pytest.mark.parametrize("layers", [1, 2, 3, 4])
@pytest.mark.parametrize("batch", [1, 13, 64])
def test_mlp_backward_against_autograd(student, rng, layers, batch):
    _check_backward(student, SIZES[layers], batch, rng)


@pytest.mark.part("mlp_backward")
@pytest.mark.parametrize("layers", [1, 4])
def test_mlp_backward_float32(student, rng, layers):
    _check_backward(student, SIZES[layers], 64, rng, torch.float32)


@pytest.mark.part("mlp_backward")
def test_mlp_backward_wide(student, rng):
    _check_backward(student, (256, 512, 128, 10), 64, rng, torch.float32)
