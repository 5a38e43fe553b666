"""The one walker of value trees (tensors, numbers, strings, None, lists, tuples, str-keyed
dicts): both sides map, list and replace the tensors of arguments and results through it, so
paths (``args[1][0]``, ``kwargs.x``, ``.running_mean``) and orders agree bit for bit.

Dicts are walked in sorted key order. Standard library and torch only.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import torch

__all__ = ["at_or_under", "leaves", "map_tree", "replace_leaves", "tensors"]


def _children(value: Any, path: str) -> Iterator[tuple[str, Any]]:
    if isinstance(value, (list, tuple)):
        for i, item in enumerate(value):
            yield f"{path}[{i}]", item
    elif isinstance(value, dict):
        for key in sorted(value):
            yield f"{path}.{key}", value[key]


def map_tree(value: Any, fn: Callable[[Any], Any]) -> Any:
    """The tree with every leaf (anything but a list, tuple or dict) replaced by ``fn(leaf)``."""
    if isinstance(value, list):
        return [map_tree(v, fn) for v in value]
    if isinstance(value, tuple):
        return tuple(map_tree(v, fn) for v in value)
    if isinstance(value, dict):
        return {k: map_tree(v, fn) for k, v in value.items()}
    return fn(value)


def leaves(value: Any, path: str = "") -> list[tuple[str, torch.Tensor]]:
    """Every tensor of the tree with its path."""
    if isinstance(value, torch.Tensor):
        return [(path, value)]
    return [pair for p, child in _children(value, path) for pair in leaves(child, p)]


def tensors(value: Any) -> list[torch.Tensor]:
    """Every tensor of the tree, in the walker's order."""
    return [t for _, t in leaves(value)]


def at_or_under(path: str, wanted: list[str] | None) -> bool:
    """Whether ``path`` is one of ``wanted`` or inside one (``None``: every path)."""
    return wanted is None or any(path == w or path.startswith((w + "[", w + "."))
                                 for w in wanted)


def replace_leaves(value: Any, path: str, fn: Callable[[torch.Tensor], torch.Tensor],
                   select: Callable[[str, torch.Tensor], bool],
                   ) -> tuple[Any, list[tuple[str, torch.Tensor]]]:
    """The tree with each selected tensor replaced by ``fn(tensor)``, and the replacements
    with their paths (to differentiate with respect to them)."""
    replaced: list[tuple[str, torch.Tensor]] = []

    def walk(node: Any, where: str) -> Any:
        if isinstance(node, torch.Tensor):
            if select(where, node):
                new = fn(node)
                replaced.append((where, new))
                return new
            return node
        if isinstance(node, list):
            return [walk(v, f"{where}[{i}]") for i, v in enumerate(node)]
        if isinstance(node, tuple):
            return tuple(walk(v, f"{where}[{i}]") for i, v in enumerate(node))
        if isinstance(node, dict):
            return {k: walk(node[k], f"{where}.{k}") for k in node}
        return node

    return walk(value, path), replaced
