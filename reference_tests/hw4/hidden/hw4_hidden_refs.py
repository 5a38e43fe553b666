"""hw4's hidden-only references: a torch-built MLP and the whole dropout, which are the
solutions of their parts and so never ship with the student bundle. The public tests check
those parts by tables and properties (``hw4_refs``); these compare every value."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch
from hw4_refs import check_layers
from torch import nn


class ReferenceMLP(nn.Module):
    """The architecture of the MLP part (PyTorch's default init; tests load its state)."""

    def __init__(self, sizes: Sequence[int], dropout: float = 0.0) -> None:
        super().__init__()
        layers: list[nn.Module] = []
        for i in range(len(sizes) - 1):
            layers.append(nn.Linear(sizes[i], sizes[i + 1]))
            if i < len(sizes) - 2:
                layers.append(nn.ReLU())
                if dropout > 0:
                    layers.append(nn.Dropout(dropout))
        self.model = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.model(x)


def structure(module: nn.Module) -> list[str]:
    """The layers of ``module.model`` as strings, like the harness's ``mlp_structure``."""
    out = []
    for layer in module.model:
        if isinstance(layer, nn.Linear):
            out.append(f"Linear({layer.in_features}, {layer.out_features})")
        elif isinstance(layer, nn.Dropout):
            out.append(f"Dropout({layer.p})")
        else:
            out.append(type(layer).__name__)
    return out


def check_structure(student, sizes: Sequence[int], dropout: float = 0.0) -> None:
    """The layers of the student's ``MLP(sizes, dropout).model`` equal the reference's."""
    check_layers(student, sizes, dropout, structure(ReferenceMLP(sizes, dropout)))


def randomize(module: nn.Module, rng: torch.Generator) -> nn.Module:
    """Fill a module's parameters from ``rng`` (so tests do not depend on global RNG)."""
    with torch.no_grad():
        for p in module.parameters():
            fan_in = p.shape[1] if p.dim() > 1 else 4
            p.copy_(torch.randn(p.shape, generator=rng, dtype=p.dtype) / fan_in ** 0.5)
    return module


def dropout_reference(seed: int, dtype: torch.dtype, device: str = "cpu"):
    """The dropout of the docstring, with the mask drawn as the student must draw it (in the
    student's dtype, on the student's device); the values are then computed in float64."""

    def ref(x: torch.Tensor, p: float, training: bool, generator: Any = None) -> torch.Tensor:
        if not training:
            return x * 1
        gen = torch.Generator(device=device).manual_seed(seed)
        keep = (torch.rand(x.shape, generator=gen, dtype=dtype, device=device) >= p).cpu()
        if p >= 1:
            return x * keep
        return x * keep / (1 - p)

    return ref

