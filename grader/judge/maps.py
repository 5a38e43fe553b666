"""Mismatch maps: where a tensor result differs from the reference, as a small bounded summary
that reports draw (an SVG heatmap, a few lines of block characters) and other tools can read.

A map is plain JSON data, part of the result schema (``docs/results.md``)::

    {"shape": [3, 5, 5], "slices_total": 3, "cap": 1000000.0,
     "slices": [{"index": [0], "rows": 5, "cols": 5, "pool": [1, 1], "mismatched": 5,
                 "cells": [[2.4, 0.0, ...], ...],
                 "got": [[...]], "expected": [[...]]}]}

A 1-D tensor is one row, a 2-D tensor one slice; 3-D tensors get one slice per leading index
and 4-D ones one per (sample, channel) pair, the ``MAX_SLICES`` worst of them (in index
order). Each cell holds the worst ``|error| / bound`` of the elements it covers (max-pooled
down to at most ``MAX_SIDE`` x ``MAX_SIDE`` cells, fewer when several slices are shown),
rounded up to two significant digits, so a cell above 1 holds a mismatch and one at or
below 1 does not; nan, inf and anything larger are ``CAP``. Small unpooled slices also
carry the student's and the expected values (``got``, ``expected``; a nan or inf there is
written as a string, as everywhere in a result: ``json_safe``); ``without_values``
drops them for hidden tests, which show masks, ratios and positions only. Nothing in a map
is NaN or infinite, and its JSON never exceeds ``MAX_BYTES``.
"""

from __future__ import annotations

import json
import math
from typing import Any

import torch

from grader.judge.results import json_safe

__all__ = ["CAP", "MAX_BYTES", "MAX_CELLS", "MAX_SIDE", "MAX_SLICES", "VALUES_MAX",
           "mismatch_map", "ratios", "without_values"]

CAP = 1e6
"""Ratios above this (and nan or inf) are written as CAP."""
MAX_SIDE = 64
MAX_SLICES = 4
MAX_CELLS = MAX_SIDE * MAX_SIDE
"""All slices of one map together hold at most this many cells."""
VALUES_MAX = 8
"""Slices up to VALUES_MAX x VALUES_MAX elements carry the values themselves."""
MAX_BYTES = 64 * 1024
"""The hard cap on a map's JSON (it stays far below it by construction; checked anyway)."""


def ratios(err: torch.Tensor, allowed: torch.Tensor, bad: torch.Tensor) -> torch.Tensor:
    """``|error| / bound`` per element: CAP where a mismatch has no finite ratio (a bound of
    0, a nan or an inf, a differing non-finite reference), 0 where the element is equal."""
    with torch.no_grad():
        ratio = torch.where(allowed > 0, err / allowed.clamp_min(1e-300),
                            (err > 0).to(err.dtype) * CAP)
        ratio = torch.nan_to_num(ratio, nan=CAP, posinf=CAP)
        ratio = torch.where(bad & (ratio <= 1), torch.full_like(ratio, CAP), ratio)
        return ratio.clamp(0.0, CAP)


def _planes(t: torch.Tensor) -> torch.Tensor:
    """``t`` as a stack of 2-D planes: [1, 1, L] for 1-D, [S, H, W] for the rest."""
    if t.dim() == 0:
        return t.reshape(1, 1, 1)
    if t.dim() == 1:
        return t.reshape(1, 1, -1)
    return t.reshape(-1, t.shape[-2], t.shape[-1])


def _slice_index(flat: int, shape: tuple[int, ...]) -> list[int]:
    lead = shape[:-2] if len(shape) > 2 else ()
    index = []
    for size in reversed(lead):
        index.append(flat % size)
        flat //= size
    return list(reversed(index))


def _ceil2(value: float) -> float:
    """Round up to two significant digits (1.0 stays 1.0, 1.0001 becomes 1.1), so that the
    test ``cell > 1`` survives the rounding; below 0.01 is 0, CAP stays CAP."""
    if not value >= 0.01:
        return 0.0
    if value >= CAP:
        return CAP
    short = float(f"{value:.2g}")
    if short < value:
        short = float(f"{short + 10.0 ** (math.floor(math.log10(short)) - 1):.2g}")
    return min(short, CAP)


def _pool(plane: torch.Tensor, side: int) -> tuple[torch.Tensor, tuple[int, int]]:
    """Max-pool a [H, W] plane to at most ``side`` x ``side`` cells; returns the cells and
    the pool size (rows, columns of elements per cell)."""
    h, w = plane.shape
    ph, pw = math.ceil(h / side), math.ceil(w / side)
    rows, cols = math.ceil(h / ph), math.ceil(w / pw)
    padded = torch.zeros(rows * ph, cols * pw, dtype=plane.dtype)
    padded[:h, :w] = plane
    return padded.reshape(rows, ph, cols, pw).amax(dim=(1, 3)), (ph, pw)


def _values(plane: torch.Tensor) -> list[list[float]]:
    return [[float(f"{v:.6g}") for v in row] for row in plane.tolist()]


def _choose(planes: torch.Tensor) -> list[int]:
    """The MAX_SLICES planes with the most mismatches (then the worst ratio), in order; planes
    without a mismatch only when none has one."""
    count = (planes > 1).flatten(1).sum(dim=1)
    worst = planes.flatten(1).amax(dim=1)
    order = sorted(range(planes.shape[0]), key=lambda i: (-int(count[i]), -float(worst[i]), i))
    keep = [i for i in order[:MAX_SLICES] if count[i] > 0] or order[:1]
    return sorted(keep)


def mismatch_map(ratio: torch.Tensor, got: torch.Tensor | None = None,
                 expected: torch.Tensor | None = None) -> dict[str, Any] | None:
    """The map of a mismatch from its per-element ``ratio`` (``ratios``), with the values of
    small slices when ``got`` and ``expected`` are given; None for a single element."""
    if ratio.numel() < 2:
        return None
    shape = tuple(ratio.shape)
    planes = _planes(torch.nan_to_num(ratio.detach().to(torch.float64).cpu(), nan=CAP,
                                      posinf=CAP, neginf=0.0).clamp(0.0, CAP))
    chosen = _choose(planes)
    side = MAX_SIDE if len(chosen) == 1 else int(math.isqrt(MAX_CELLS // len(chosen)))
    got_planes = want_planes = None
    if got is not None and expected is not None:
        got_planes = _planes(got.detach().to(torch.float64).cpu())
        want_planes = _planes(expected.detach().to(torch.float64).cpu())
    slices = []
    for i in chosen:
        cells, pool = _pool(planes[i], side)
        entry: dict[str, Any] = {
            "index": _slice_index(i, shape), "rows": cells.shape[0], "cols": cells.shape[1],
            "pool": list(pool), "mismatched": int((planes[i] > 1).sum()),
            "cells": [[_ceil2(v) for v in row] for row in cells.tolist()]}
        h, w = planes[i].shape
        if got_planes is not None and want_planes is not None and pool == (1, 1) \
                and h <= VALUES_MAX and w <= VALUES_MAX:
            entry["got"] = _values(got_planes[i])
            entry["expected"] = _values(want_planes[i])
        slices.append(entry)
    summary: dict[str, Any] = {"shape": list(shape), "slices_total": planes.shape[0],
                               "cap": CAP, "slices": slices}
    if len(json.dumps(json_safe(summary), allow_nan=False)) > MAX_BYTES:  # kept honest
        summary = without_values(summary)
        summary["slices"] = summary["slices"][:1]
    return summary


def without_values(summary: dict[str, Any]) -> dict[str, Any]:
    """The map without the student's and the expected values (for hidden tests): the shape,
    the masks and ratios, and the positions of the slices only."""
    keep = ("index", "rows", "cols", "pool", "mismatched", "cells")
    return {"shape": list(summary.get("shape", [])),
            "slices_total": int(summary.get("slices_total", 0)),
            "cap": float(summary.get("cap", CAP)),
            "slices": [{k: s[k] for k in keep if k in s} for s in summary.get("slices", [])]}
