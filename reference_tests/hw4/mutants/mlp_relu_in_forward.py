# part: MLP
# bug: the layers are right, but forward clips the logits (a ReLU on the model's output)
"""hw4 reference solution: classifiers and training tricks."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import torch
import torch.nn.functional as F
from torch import nn


class MLP(nn.Module):
    def __init__(self, sizes: Sequence[int] = (784, 200, 200, 10), dropout: float = 0.0) -> None:
        super().__init__()
        sizes = list(sizes)
        layers: list[nn.Module] = []
        for i, (fan_in, fan_out) in enumerate(zip(sizes[:-1], sizes[1:], strict=True)):
            linear = nn.Linear(fan_in, fan_out)
            nn.init.kaiming_normal_(linear.weight, mode="fan_in", nonlinearity="relu")
            nn.init.zeros_(linear.bias)
            layers.append(linear)
            if i < len(sizes) - 2:
                layers.append(nn.ReLU())
                if dropout > 0:
                    layers.append(nn.Dropout(dropout))
        self.model = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.relu(self.model(x))


def accuracy(logits: torch.Tensor, target: torch.Tensor) -> float:
    return (logits.argmax(dim=1) == target).sum().item() / target.shape[0]


def l1_penalty(params: Iterable[torch.Tensor]) -> torch.Tensor:
    return sum(p.abs().sum() for p in params)


def l2_penalty(params: Iterable[torch.Tensor]) -> torch.Tensor:
    return 0.5 * sum((p * p).sum() for p in params)


def sgd_step(params: list[torch.Tensor], grads: list[torch.Tensor],
             velocities: list[torch.Tensor | None], lr: float, momentum: float = 0.0,
             weight_decay: float = 0.0) -> tuple[list[torch.Tensor], list[torch.Tensor]]:
    new_params, new_velocities = [], []
    for w, g, v in zip(params, grads, velocities, strict=True):
        g = g + weight_decay * w
        v = g.clone() if v is None else momentum * v + g
        new_params.append(w - lr * v)
        new_velocities.append(v)
    return new_params, new_velocities


def dropout(x: torch.Tensor, p: float, training: bool,
            generator: torch.Generator) -> torch.Tensor:
    if not training:
        return x
    keep = torch.rand(x.shape, generator=generator, dtype=x.dtype, device=x.device) >= p
    if p >= 1:
        return x * keep
    return x * keep / (1 - p)


def step_lr(base_lr: float, epoch: int, step_size: int, gamma: float) -> float:
    return base_lr * gamma ** (epoch // step_size)


def kfold_indices(n: int, k: int) -> list[tuple[torch.Tensor, torch.Tensor]]:
    index = torch.arange(n)
    base, extra = divmod(n, k)
    folds = []
    start = 0
    for i in range(k):
        stop = start + base + (1 if i < extra else 0)
        folds.append((torch.cat([index[:start], index[stop:]]), index[start:stop]))
        start = stop
    return folds


def train_step(model: nn.Module, optimizer: torch.optim.Optimizer, x: torch.Tensor,
               y: torch.Tensor) -> float:
    optimizer.zero_grad()
    loss = F.cross_entropy(model(x), y)
    loss.backward()
    optimizer.step()
    return loss.item()
