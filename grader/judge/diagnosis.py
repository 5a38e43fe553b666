"""A diagnosis of a mismatch: before the generic numbers, say which common shape it has.

Students fix bugs by their shape: a result that is exactly N times too large (a sum where a
mean was meant), a flipped sign, a transpose, a shift by one, a wrong diagonal or border.
``diagnose`` tries these rules in order and returns the first that fits, or None:

=============  =========================================================================
kind           the student's result ``got`` against the reference ``expected``
=============  =========================================================================
factor         ``got == c * expected`` for one constant c (zero: c is 0)
sign           ``got == -expected`` everywhere, or at every element that differs
transpose      the transpose of ``expected`` (in its last two dims)
permute        ``expected`` with its dims permuted (3-D to 5-D)
layout         ``expected.permute(p).reshape(shape)``: a view where a permute was needed
shift          ``expected`` shifted by one along a dim (the rest may hold anything)
order          the right values in another order (in each row, or anywhere)
diagonal       only the diagonal differs (``off_diagonal``: only the off-diagonal)
border         only the outer one or two rows and columns differ (padding)
slices         only some rows, columns, channels or samples differ, and mostly wholly
=============  =========================================================================

A rule fits when the transformed reference matches the result within the comparison's own
bounds (doubled), and the structural rules (diagonal, border, slices) only when the
mismatches fill at least a share of the region they name (a quarter of the border, three
quarters of the diagonal, of the off-diagonal, of the rows or channels named), so random
wrong values get none.
A diagnosis names ratios and positions only, never values, so hidden tests show it too.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import torch

__all__ = ["KINDS", "Diagnosis", "diagnose", "diagnose_shape", "public_diagnosis"]

KINDS = ("factor", "zero", "sign", "transpose", "permute", "layout", "shift", "order",
         "diagonal", "off_diagonal", "border", "slices")
SLACK = 2.0
"""A transformed reference fits when within SLACK times the comparison's bounds."""
_PERMUTE_MAX_NUMEL = 1 << 20
_PUBLIC_KEYS = ("kind", "factor", "dims", "dim", "by", "width", "which", "of", "count",
                "total", "where")


@dataclass(frozen=True)
class Diagnosis:
    """One diagnosis: its kind, the sentence for the message and the numbers for details."""

    kind: str
    sentence: str
    details: dict[str, Any] = field(default_factory=dict)

    def as_details(self) -> dict[str, Any]:
        """``{"kind": ..., **numbers}``: what a result's ``details["diagnosis"]`` holds."""
        return {"kind": self.kind, **self.details}


@dataclass(frozen=True)
class _Case:
    got: torch.Tensor
    want: torch.Tensor
    bad: torch.Tensor
    rtol: float
    atol: float

    def close(self, candidate: torch.Tensor, got: torch.Tensor | None = None,
              scale: float = 1.0) -> bool:
        """Whether ``got`` (the whole result by default) equals ``candidate`` within the
        doubled bounds, the absolute one scaled like the candidate."""
        got = self.got if got is None else got
        bound = SLACK * (self.atol * max(1.0, scale) + self.rtol * candidate.abs())
        return bool(((got - candidate).abs() <= bound).all())


def _times(c: float) -> str:
    return f"{c:#.3g}".rstrip(".")


def _fraction(c: float) -> str:
    """What a factor c usually means, when it is an integer or one over an integer."""
    k, inv = round(c), round(1 / c)
    if k >= 2 and abs(c - k) <= 1e-6 * abs(c):
        return (f" (a factor {k} too many: a sum where a mean is needed, a missing 1/N, or "
                "an extra constant?)")
    if inv >= 2 and abs(1 / c - inv) <= 1e-6 * abs(1 / c):
        return (f" (a factor {inv} too few: a missing constant such as the 2 of a square's "
                "derivative, or a mean where a sum is needed?)")
    return " (a missing or extra constant factor?)"


def _factor(case: _Case) -> Diagnosis | None:
    want, got = case.want, case.got
    clear = want.abs() > max(case.atol, 1e-300)
    if int(clear.sum()) < 2 or torch.unique(want[clear]).numel() < 2:
        return None
    c = float((got * want).sum() / (want * want).sum())
    if not math.isfinite(c) or not case.close(c * want, scale=abs(c)):
        return None
    if abs(c) < 1e-9:
        return Diagnosis("zero", "every element is 0 where the expected is not", {"factor": 0.0})
    if abs(c + 1) <= 1e-6:
        return Diagnosis("sign", "every element has the opposite sign (it is -1 times the "
                                 "expected): a sign error?", {"factor": -1.0, "where": "all"})
    if abs(c - 1) <= 1e-9:
        return None
    factor = float(f"{c:.6g}")
    return Diagnosis("factor", f"every element is {_times(c)} times the expected"
                     f"{_fraction(c) if c > 0 else ' (a sign error and a constant factor?)'}",
                     {"factor": factor})


def _partial_sign(case: _Case) -> Diagnosis | None:
    bad = case.bad
    want, got = case.want[bad], case.got[bad]
    if not bool((want.abs() > SLACK * (case.atol + case.rtol * want.abs())).all()):
        return None
    if not case.close(-want, got):
        return None
    count = int(bad.sum())
    return Diagnosis("sign", f"the sign is flipped at the {count} element"
                     f"{'s' if count != 1 else ''} that differ{'s' if count == 1 else ''}, the "
                     "others are right: a term with the wrong sign?",
                     {"where": "mismatched", "count": count})


def _transpose(case: _Case) -> Diagnosis | None:
    shape = case.want.shape
    if case.want.dim() < 2 or shape[-1] != shape[-2] or shape[-1] < 2:
        return None
    if not case.close(case.want.transpose(-1, -2)):
        return None
    where = " in its last two dims" if case.want.dim() > 2 else ""
    return Diagnosis("transpose", f"it is the transpose of the expected{where}: rows and "
                                  "columns swapped?", {})


def _permutations(case: _Case) -> list[tuple[int, ...]]:
    dims = case.want.dim()
    if dims < 2 or dims > 5 or case.want.numel() > _PERMUTE_MAX_NUMEL:
        return []
    identity = tuple(range(dims))
    return [p for p in itertools.permutations(identity) if p != identity]


def _permute(case: _Case) -> Diagnosis | None:
    if case.want.dim() < 3:
        return None
    for p in _permutations(case):
        if p[:-2] == tuple(range(len(p) - 2)) and p[-2:] == (len(p) - 1, len(p) - 2):
            continue  # the transpose of the last two dims, its own rule
        moved = case.want.permute(p)
        if moved.shape == case.want.shape and case.close(moved):
            text = ", ".join(map(str, p))
            return Diagnosis("permute", f"it is the expected with its dims permuted, "
                                        f"expected.permute({text}): dims in the wrong order?",
                             {"dims": list(p)})
    return None


def _layout(case: _Case) -> Diagnosis | None:
    shape = tuple(case.want.shape)
    for p in _permutations(case):
        moved = case.want.permute(p)
        if tuple(moved.shape) == shape:
            continue
        if case.close(moved.reshape(shape)):
            text = ", ".join(map(str, p))
            return Diagnosis("layout", f"it holds the expected values laid out as "
                                       f"expected.permute({text}).reshape{shape}: a view or "
                                       "reshape where a permute or transpose was needed?",
                             {"dims": list(p)})
    return None


def _shift(case: _Case) -> Diagnosis | None:
    for dim, size in enumerate(case.want.shape):
        if size < 3:
            continue
        for by in (1, -1):
            start_got, start_want = (1, 0) if by == 1 else (0, 1)
            got = case.got.narrow(dim, start_got, size - 1)
            shifted = case.want.narrow(dim, start_want, size - 1)
            in_place = case.want.narrow(dim, start_got, size - 1)
            if case.close(shifted, got) and not case.close(in_place, got):
                rule = "got[i] = expected[i-1]" if by == 1 else "got[i] = expected[i+1]"
                return Diagnosis("shift", f"it is the expected shifted by one along dim {dim} "
                                          f"({rule}): an index off by one?",
                                 {"dim": dim, "by": by})
    return None


def _order(case: _Case) -> Diagnosis | None:
    if case.want.dim() >= 2 and case.want.shape[-1] >= 2:
        rows_got, rows_want = case.got.sort(dim=-1).values, case.want.sort(dim=-1).values
        if case.close(rows_want, rows_got):
            return Diagnosis("order", "each row (along the last dim) holds its expected "
                                      "values, in another order", {"dim": -1})
    flat_got, flat_want = case.got.flatten().sort().values, case.want.flatten().sort().values
    if case.close(flat_want, flat_got):
        return Diagnosis("order", "it holds the expected values, in another order: an index "
                                  "or a dim mixed up?", {})
    return None


def _count(mask: torch.Tensor) -> int:
    return int(mask.sum())


def _diagonal(case: _Case) -> Diagnosis | None:
    shape, bad = case.want.shape, case.bad
    if case.want.dim() < 2 or shape[-1] != shape[-2] or shape[-1] < 2:
        return None
    n = shape[-1]
    eye = torch.eye(n, dtype=torch.bool).expand_as(bad)
    diagonal_total = case.want.numel() // n
    if not (bad & ~eye).any() and _count(bad) >= max(2, diagonal_total * 3 / 4):
        return Diagnosis("diagonal", "only the diagonal differs, the off-diagonal elements are "
                                     "right: check the i == j term", {})
    off_total = case.want.numel() - diagonal_total
    if n >= 3 and not (bad & eye).any() and _count(bad) >= max(2, off_total * 3 / 4):
        return Diagnosis("off_diagonal", "only the off-diagonal elements differ, the diagonal "
                                         "is right: check the i != j terms", {})
    return None


def _border(case: _Case) -> Diagnosis | None:
    if case.want.dim() < 2:
        return None
    h, w = case.want.shape[-2:]
    for width in (1, 2):
        if min(h, w) <= 2 * width:
            return None
        ring = torch.ones(h, w, dtype=torch.bool)
        ring[width:h - width, width:w - width] = False
        ring = ring.expand_as(case.bad)
        if not (case.bad & ~ring).any() and _count(case.bad) >= max(2, _count(ring) / 4):
            rows = "row and column" if width == 1 else f"{width} rows and columns"
            return Diagnosis("border", f"only the border differs (the outer {rows} of the last "
                                       "two dims), the inside is right: padding?",
                             {"width": width})
    return None


_DIM_NAMES = {2: ("row", "column"), 3: ("entry of dim 0", "row", "column"),
              4: ("sample", "channel", "row", "column")}


def _plural(name: str) -> str:
    return name.replace("entry", "entries") if name.startswith("entry") else name + "s"


def _slices(case: _Case) -> Diagnosis | None:
    bad, dims = case.bad, case.want.dim()
    if dims < 2 or _count(bad) < 2:
        return None
    names = _DIM_NAMES.get(dims, tuple(f"entry of dim {d}" for d in range(dims)))
    best: tuple[float, int, list[int]] | None = None
    for dim, size in enumerate(bad.shape):
        hit = bad.movedim(dim, 0).reshape(size, -1).any(dim=1)
        which = [int(i) for i in hit.nonzero().flatten()]
        region = len(which) * (bad.numel() // size)
        if 0 < len(which) < size and _count(bad) >= region * 3 / 4:
            share = len(which) / size
            if best is None or share < best[0]:
                best = (share, dim, which)
    if best is None:
        return None
    _, dim, which = best
    size = bad.shape[dim]
    shown = ", ".join(map(str, which[:8])) + (", ..." if len(which) > 8 else "")
    one, many = names[dim], _plural(names[dim])
    what = f"{one} {shown} (of {size}) differs" if len(which) == 1 else \
        f"{many} {shown} (of {size}) differ"
    return Diagnosis("slices", f"only {what}, the other {many} are right",
                     {"dim": dim, "which": which[:16], "of": size})


_RULES: tuple[Callable[[_Case], Diagnosis | None], ...] = (
    _factor, _partial_sign, _transpose, _permute, _layout, _shift, _order, _diagonal,
    _border, _slices)


def diagnose(got: torch.Tensor, want: torch.Tensor, *, rtol: float, atol: float,
             bad: torch.Tensor | None = None) -> Diagnosis | None:
    """The first rule that fits the mismatch of ``got`` against ``want`` (bounds ``rtol``,
    ``atol``; ``bad``: the mismatching elements), or None. Both must be finite and of the
    same shape, with at least two elements."""
    if got.shape != want.shape or got.numel() < 2:
        return None
    got, want = got.detach().to(torch.float64).cpu(), want.detach().to(torch.float64).cpu()
    if not (bool(torch.isfinite(got).all()) and bool(torch.isfinite(want).all())):
        return None
    if bad is None:
        bad = (got - want).abs() > atol + rtol * want.abs()
    if not bad.any():
        return None
    case = _Case(got, want, bad.cpu(), rtol, atol)
    for rule in _RULES:
        found = rule(case)
        if found is not None:
            return found
    return None


def diagnose_shape(got: tuple[int, ...], want: tuple[int, ...]) -> Diagnosis | None:
    """A shape that is the expected one transposed or with its dims permuted."""
    got, want = tuple(got), tuple(want)
    if len(got) != len(want) or len(got) < 2 or got == want or sorted(got) != sorted(want):
        return None
    if len(got) == 2:
        return Diagnosis("transpose", "the transpose of the expected shape: rows and columns "
                                      "swapped?", {})
    for p in itertools.permutations(range(len(want))):
        if tuple(want[i] for i in p) == got:
            return Diagnosis("permute", f"the expected shape with its dims permuted, "
                                        f"permute({', '.join(map(str, p))}): dims in the wrong "
                                        "order?", {"dims": list(p)})
    return None


def public_diagnosis(details: dict[str, Any]) -> dict[str, Any]:
    """A diagnosis' details with only its kind, ratios and positions (for hidden tests)."""
    kind = details.get("kind")
    if kind not in KINDS:
        return {}
    return {k: v for k, v in details.items() if k in _PUBLIC_KEYS
            and (k == "kind" or isinstance(v, (int, float, list, str)))}
