import pytest
import torch

from grader.judge.checks import check_function
from hw3_refs import batch_hint, mlp_forward, mlp_grads, random_mlp, values_hint


@pytest.mark.part("mlp_forward")
def test_mlp_forward_two_layers(student, rng):
    x, weights, biases, _ = random_mlp((4, 5, 3), 6, rng)
    check_function(student, "mlp_forward", mlp_forward, x, weights, biases, profile="accumulate",
                   hint=values_hint("every layer is sigmoid(O_prev @ W + b), the last one too"))


@pytest.mark.part("mlp_forward")
def test_mlp_forward_float32(student, rng):
    x, weights, biases, _ = random_mlp((3, 8, 8, 2), 5, rng, torch.float32)
    check_function(student, "mlp_forward", mlp_forward, x, weights, biases, profile="accumulate")


def _check_backward(student, sizes, batch, rng, dtype=torch.float64):
    x, weights, biases, target = random_mlp(sizes, batch, rng, dtype)
    activations = mlp_forward(x, weights, biases)

    def reference(activations, weights, target):
        return mlp_grads(x, weights, biases, target)

    check_function(student, "mlp_backward", reference, activations, weights, target,
                   profile="accumulate", hint=batch_hint(batch))


@pytest.mark.part("mlp_backward")
def test_mlp_backward_one_layer(student, rng):
    _check_backward(student, (3, 2), 4, rng)


@pytest.mark.part("mlp_backward")
def test_mlp_backward_two_layers(student, rng):
    _check_backward(student, (4, 6, 3), 8, rng)


@pytest.mark.part("mlp_backward")
def test_mlp_backward_three_layers_float32(student, rng):
    _check_backward(student, (5, 7, 6, 2), 16, rng, torch.float32)
