"""hw6's harness: helpers the grader runs next to your code (they hold no expected values).

Each helper takes your module (``modules.py``) as its first argument.

- ``predict`` gives the logits of the model your ``train_classifier`` returned (the grader
  keeps that model in the sandbox and passes it back here), in eval mode, without a graph.
- ``probe_evaluate`` calls your ``evaluate`` on a small model holding BatchNorm and Dropout
  and reports what it saw: the grad mode and train/eval mode of every forward, the batch
  sizes, the mode afterwards and the parameters and buffers afterwards.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn


def predict(mod: Any, model: Any, x: torch.Tensor, batch_size: int = 1024) -> torch.Tensor:
    """The logits of ``model`` on ``x`` in eval mode and without grad, ``batch_size`` rows at
    a time."""
    if not isinstance(model, nn.Module):
        raise TypeError(f"train_classifier returned a {type(model).__name__}, expected an "
                        "nn.Module")
    model.train(False)
    with torch.set_grad_enabled(False):
        return torch.cat([model(x[i:i + batch_size]) for i in range(0, x.shape[0], batch_size)])


def probe_net(state: dict[str, torch.Tensor]) -> nn.Module:
    """Flatten, Linear, BatchNorm1d, ReLU, Dropout(0.5), Linear, sized by ``state``."""
    hidden, features = state["1.weight"].shape
    classes = state["5.weight"].shape[0]
    net = nn.Sequential(nn.Flatten(), nn.Linear(features, hidden), nn.BatchNorm1d(hidden),
                        nn.ReLU(), nn.Dropout(0.5), nn.Linear(hidden, classes))
    net.to(state["1.weight"].dtype)
    net.load_state_dict(state)
    return net


def probe_evaluate(mod: Any, state: dict[str, torch.Tensor], x: torch.Tensor, y: torch.Tensor,
                   batch_size: int, training: bool) -> dict[str, Any]:
    """Call ``mod.evaluate`` on ``probe_net(state)`` (in train mode when ``training``)."""
    net = probe_net(state).to(x.device)
    net.train(training)
    seen: list[dict[str, Any]] = []

    def record(module: nn.Module, args: tuple[Any, ...]) -> None:
        seen.append({"grad": torch.is_grad_enabled(),
                     "training": any(m.training for m in module.modules()),
                     "rows": int(args[0].shape[0]) if args and hasattr(args[0], "shape") else -1})

    net.register_forward_pre_hook(record)
    value = mod.evaluate(net, x, y, batch_size)
    if isinstance(value, (tuple, list)):
        value = tuple(v.detach() if isinstance(v, torch.Tensor) else v for v in value)
    return {"value": value, "forwards": seen, "mode_after": net.training,
            "state_after": {k: v.detach().clone() for k, v in net.state_dict().items()}}
