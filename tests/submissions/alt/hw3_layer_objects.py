# A correct hw3 in the notes' layer-object style: a class of its own with methods named
# forward and backward, used by hidden_delta, mlp_forward and mlp_backward, and no autograd
# anywhere. Full marks, and no warning (method names alone are never flagged).
from __future__ import annotations

import torch


class SigmoidLayer:
    """One layer ``O = σ(O_prev @ W + b)`` with a hand-written backward (no autograd)."""

    def __init__(self, w: torch.Tensor, b: torch.Tensor | None = None) -> None:
        self.w = w
        self.b = b

    def forward(self, o_prev: torch.Tensor) -> torch.Tensor:
        z = o_prev @ self.w
        return torch.sigmoid(z if self.b is None else z + self.b)

    def backward(self, o: torch.Tensor, delta_next: torch.Tensor) -> torch.Tensor:
        """The deltas of the layer whose outputs ``o`` feed this layer's ``w``."""
        return o * (1 - o) * (delta_next @ self.w.T)


def perceptron_grad(x: torch.Tensor, w: torch.Tensor, t: float) -> torch.Tensor:
    o = torch.sigmoid(x @ w)
    return (o - t) * o * (1 - o) * x


def output_delta(o: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
    return o * (1 - o) * (o - t)


def hidden_delta(o: torch.Tensor, delta_next: torch.Tensor, w_next: torch.Tensor) -> torch.Tensor:
    return SigmoidLayer(w_next).backward(o, delta_next)


def mlp_forward(x: torch.Tensor, weights: list[torch.Tensor],
                biases: list[torch.Tensor]) -> list[torch.Tensor]:
    activations = [x]
    for w, b in zip(weights, biases):
        activations.append(SigmoidLayer(w, b).forward(activations[-1]))
    return activations


def mlp_backward(activations: list[torch.Tensor], weights: list[torch.Tensor],
                 target: torch.Tensor) -> tuple[list[torch.Tensor], list[torch.Tensor]]:
    layers = [SigmoidLayer(w) for w in weights]
    delta = output_delta(activations[-1], target)
    grad_weights, grad_biases = [], []
    for i in range(len(layers) - 1, -1, -1):
        grad_weights.insert(0, activations[i].T @ delta)
        grad_biases.insert(0, delta.sum(dim=0))
        if i > 0:
            delta = layers[i].backward(activations[i], delta)
    return grad_weights, grad_biases


def himmelblau(p: torch.Tensor) -> torch.Tensor:
    x, y = p[0], p[1]
    return (x ** 2 + y - 11) ** 2 + (x + y ** 2 - 7) ** 2


def himmelblau_grad(p: torch.Tensor) -> torch.Tensor:
    x, y = p[0], p[1]
    a = x ** 2 + y - 11
    b = x + y ** 2 - 7
    return torch.stack([4 * x * a + 2 * b, 2 * a + 4 * y * b])


def descend(p0: torch.Tensor, lr: float, steps: int) -> torch.Tensor:
    p = p0.clone()
    for _ in range(steps):
        p = p - lr * himmelblau_grad(p)
    return p
