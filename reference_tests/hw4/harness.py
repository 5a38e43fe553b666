"""hw4's harness: helpers the grader runs next to your code (they hold no expected values).

Each helper takes your module (``training.py``) as its first argument.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn


def run_train_step(mod: Any, state_dict: dict[str, torch.Tensor], x: torch.Tensor,
                   y: torch.Tensor, lr: float, momentum: float, steps: int = 1) -> dict[str, Any]:
    """Build a small classifier (Linear, ReLU, Linear) holding ``state_dict``, an SGD
    optimizer over it, and call ``mod.train_step(model, optimizer, x, y)`` ``steps`` times.
    Returns the values train_step returned, the parameters after the last step and after
    each step (``trajectory``), so the grader can say at which step a run goes wrong."""
    w0, w2 = state_dict["0.weight"], state_dict["2.weight"]
    model = nn.Sequential(nn.Linear(w0.shape[1], w0.shape[0]), nn.ReLU(),
                          nn.Linear(w2.shape[1], w2.shape[0]))
    model.to(device=x.device, dtype=x.dtype)
    model.load_state_dict(state_dict)
    optimizer = torch.optim.SGD(model.parameters(), lr=lr, momentum=momentum)
    losses, trajectory = [], []
    while len(losses) < steps:
        losses.append(mod.train_step(model, optimizer, x, y))
        trajectory.append({k: v.detach().clone() for k, v in model.state_dict().items()})
    losses = [v.detach() if isinstance(v, torch.Tensor) else v for v in losses]
    return {"losses": losses, "params": trajectory[-1] if trajectory else {},
            "trajectory": trajectory}


def mlp_structure(mod: Any, sizes: list[int], dropout: float = 0.0) -> list[str]:
    """The layers of ``mod.MLP(sizes, dropout).model``, one string each."""
    net = mod.MLP(sizes, dropout=dropout)
    out = []
    for layer in net.model:
        if isinstance(layer, nn.Linear):
            out.append(f"Linear({layer.in_features}, {layer.out_features})")
        elif isinstance(layer, nn.Dropout):
            out.append(f"Dropout({layer.p})")
        else:
            out.append(type(layer).__name__)
    return out


def penalty_of_generator(mod: Any, name: str, params: list[torch.Tensor]) -> Any:
    """``mod.<name>(...)`` with the params passed as a one-shot generator, the way
    ``model.parameters()`` arrives in a training loop."""
    value = getattr(mod, name)(p for p in params)
    return value.detach() if isinstance(value, torch.Tensor) else value
