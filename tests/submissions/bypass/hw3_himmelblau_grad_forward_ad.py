# Bypass: himmelblau_grad through forward-mode AD (dual tensors) through importlib.
# A whole correct submission of hw3; only himmelblau_grad takes the route, and computes the
# right values with it.
# part: himmelblau_grad
# expect: forward-mode AD
from __future__ import annotations

import importlib

import torch


def perceptron_grad(x: torch.Tensor, w: torch.Tensor, t: float) -> torch.Tensor:
    o = torch.sigmoid(x @ w)
    return (o - t) * o * (1 - o) * x


def output_delta(o: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
    return o * (1 - o) * (o - t)


def hidden_delta(o: torch.Tensor, delta_next: torch.Tensor, w_next: torch.Tensor) -> torch.Tensor:
    return o * (1 - o) * (delta_next @ w_next.T)


def mlp_forward(x: torch.Tensor, weights: list[torch.Tensor],
                biases: list[torch.Tensor]) -> list[torch.Tensor]:
    activations = [x]
    for w, b in zip(weights, biases):
        activations.append(torch.sigmoid(activations[-1] @ w + b))
    return activations


def mlp_backward(activations: list[torch.Tensor], weights: list[torch.Tensor],
                 target: torch.Tensor) -> tuple[list[torch.Tensor], list[torch.Tensor]]:
    n_layers = len(weights)
    grad_weights: list[torch.Tensor] = [None] * n_layers  # type: ignore[list-item]
    grad_biases: list[torch.Tensor] = [None] * n_layers  # type: ignore[list-item]
    delta = output_delta(activations[-1], target)
    for layer in range(n_layers - 1, -1, -1):
        grad_weights[layer] = activations[layer].T @ delta
        grad_biases[layer] = delta.sum(dim=0)
        if layer > 0:
            delta = hidden_delta(activations[layer], delta, weights[layer])
    return grad_weights, grad_biases


def himmelblau(p: torch.Tensor) -> torch.Tensor:
    x, y = p[0], p[1]
    return (x ** 2 + y - 11) ** 2 + (x + y ** 2 - 7) ** 2


def himmelblau_grad(p: torch.Tensor) -> torch.Tensor:
    fwad = importlib.import_module("torch.autograd.forward_ad")
    parts = []
    with fwad.dual_level():
        for i in range(2):
            direction = torch.zeros_like(p)
            direction[i] = 1
            dual = fwad.make_dual(p, direction)  # bypass
            parts.append(fwad.unpack_dual(himmelblau(dual)).tangent)
    return torch.stack(parts)


def descend(p0: torch.Tensor, lr: float, steps: int) -> torch.Tensor:
    # The gradient by hand here: this part must not reach the bypass through himmelblau_grad.
    p = p0.clone()
    for _ in range(steps):
        x, y = p[0], p[1]
        a, b = x ** 2 + y - 11, x + y ** 2 - 7
        p = p - lr * torch.stack([4 * x * a + 2 * b, 2 * a + 4 * y * b])
    return p
