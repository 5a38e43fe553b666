"""Public harness of hw1: helpers the grader runs next to your code (no expected values).

``expand_view_facts`` calls your ``expand_to`` and reports how its result is laid out in
memory, so the grader can check that it is a view of the input (shared storage, stride 0 on
the expanded dimensions) and not a copy.
"""

from __future__ import annotations

from typing import Any

import torch


def expand_view_facts(mod: Any, t: torch.Tensor, shape: list[int]) -> dict[str, Any]:
    """Call ``mod.expand_to(t, shape)`` and describe the result's memory layout."""
    result = mod.expand_to(t, shape)
    if not isinstance(result, torch.Tensor):
        return {"is_tensor": False, "type": type(result).__name__}
    return {
        "is_tensor": True,
        "shares_storage": result.untyped_storage().data_ptr() == t.untyped_storage().data_ptr(),
        "strides": [int(s) for s in result.stride()],
        "shape": [int(s) for s in result.shape],
    }
