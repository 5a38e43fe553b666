"""Public harness of hw3: helpers the grader runs next to your code (no expected values).

``descend_steps`` records the trajectory of your ``descend``, so that when its end point is
wrong the grader can say at which step your trajectory leaves the reference's.
"""

from __future__ import annotations

from typing import Any

import torch


def _visited(mod: Any, p0: torch.Tensor, lr: float, steps: int) -> list[torch.Tensor]:
    """The points at which ``mod.descend(p0, lr, steps)`` asks for ``himmelblau_grad``."""
    grad = getattr(mod, "himmelblau_grad", None)
    if not callable(grad):
        return []
    seen: list[torch.Tensor] = []

    def recording(p: torch.Tensor) -> Any:
        seen.append(p.detach().clone())
        return grad(p)

    mod.himmelblau_grad = recording
    try:
        mod.descend(p0.clone(), lr, steps)
    finally:
        mod.himmelblau_grad = grad
    return seen


def descend_steps(mod: Any, p0: torch.Tensor, lr: float, steps: int) -> dict[str, Any]:
    """Two views of your trajectory from ``p0``: ``visited``, the points at which
    ``descend(p0, lr, steps)`` called your ``himmelblau_grad`` (when it does), and
    ``single``, the points ``p_k = descend(p_{k-1}, lr, 1)`` of your single step."""
    visited = _visited(mod, p0, lr, steps)
    points = [p0.detach().clone()]
    while len(points) <= steps:
        step = mod.descend(points[-1].clone(), lr, 1)
        if not isinstance(step, torch.Tensor) or tuple(step.shape) != tuple(p0.shape):
            break  # the comparison of the end point already says what descend returned
        points.append(step.detach().clone())
    return {"visited": torch.stack(visited) if visited else None,
            "single": torch.stack(points)}
