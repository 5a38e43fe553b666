"""Staged comparison of a student's result with the reference: type, shape, dtype, device,
then values, each stage with its own message.

Values are judged against a float64 reference with a named tolerance profile:

=============  ============================  ==============================================
profile        float32 (rtol, atol)          use
=============  ============================  ==============================================
elementwise    (1.3e-6, 1e-5)                element-wise ops (torch's float32 defaults)
accumulate     (1e-4, 1e-5 x scale)          sums, matmul, conv, backprop; scale = max|ref|
loose          (1e-3, 1e-4 x scale)          long chains (training steps, descent)
tight          (1e-12, 0)                    exact formulas on Python floats (step_lr)
exact          (0, 0)                        integers, booleans, indices
=============  ============================  ==============================================

float64 results use (1e-7, 1e-7) (scaled like float32 where the profile scales). NaN or inf
where the reference is finite always fails and says so. Where the reference is not finite,
the result must equal it (torch.testing's rule): ``inf`` only matches ``inf`` of the same sign,
and ``nan`` matches ``nan`` in every profile but ``exact`` (``equal_nan``: the same undefined
value computed on the same inputs; exact results are integers, indices and masks, where a nan
means the reference itself broke). Python numbers (an accuracy, a loss's ``.item()``) are held
to the bounds of the inputs' dtype. A failure raises ``Mismatch`` with
the mismatch count, the worst absolute and relative error with its index, the student's and
the expected value there, and the bounds used; ``public_message`` leaves out values and
indices for hidden tests.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import torch

from grader.judge import maps
from grader.judge.diagnosis import diagnose, diagnose_shape
from grader.wire.values import Unsupported

__all__ = ["PROFILES", "Mismatch", "Tolerance", "assert_close", "assert_same", "shape_mismatch",
           "tolerance"]

Hint = str | Callable[["Mismatch"], str | None] | None


@dataclass(frozen=True)
class Tolerance:
    """Bounds of one comparison: ``|got - expected| <= atol + rtol * |expected|`` where the
    reference is finite; elsewhere equality (``nan`` equal to ``nan`` when ``equal_nan``)."""

    rtol: float
    atol: float
    equal_nan: bool = True

    def __str__(self) -> str:
        return f"|got - expected| <= {self.atol:.3g} + {self.rtol:.3g}*|expected|"


PROFILES: dict[str, dict[str, tuple[float, float]]] = {
    "elementwise": {"float16": (1e-3, 1e-5), "bfloat16": (1.6e-2, 1e-5),
                    "float32": (1.3e-6, 1e-5), "float64": (1e-7, 1e-7)},
    "accumulate": {"float16": (1e-2, 1e-3), "bfloat16": (5e-2, 1e-2),
                   "float32": (1e-4, 1e-5), "float64": (1e-7, 1e-7)},
    "loose": {"float16": (5e-2, 1e-2), "bfloat16": (5e-2, 1e-2),
              "float32": (1e-3, 1e-4), "float64": (1e-6, 1e-6)},
    "tight": {"float32": (1e-12, 0.0), "float64": (1e-12, 0.0)},
    "exact": {},
}
_SCALED = {"accumulate", "loose"}
_NAN_NOT_EQUAL = {"exact"}


def tolerance(profile: str, dtype: torch.dtype, reference: torch.Tensor | None = None) -> Tolerance:
    """The bounds of ``profile`` for a result of ``dtype`` (atol scaled to the reference)."""
    if profile not in PROFILES:
        raise ValueError(f"unknown tolerance profile {profile!r}; known: {', '.join(PROFILES)}")
    equal_nan = profile not in _NAN_NOT_EQUAL
    if profile == "exact" or not (dtype.is_floating_point or dtype.is_complex):
        return Tolerance(0.0, 0.0, equal_nan)
    name = str(dtype).removeprefix("torch.")
    rtol, atol = PROFILES[profile].get(name, PROFILES[profile].get("float32", (0.0, 0.0)))
    if profile in _SCALED and reference is not None and reference.numel():
        finite = reference[torch.isfinite(reference)]
        if finite.numel():
            atol *= max(1.0, float(finite.abs().max()))
    return Tolerance(rtol, atol, equal_nan)


class Mismatch(AssertionError):
    """A student's result differs from the reference at one stage."""

    def __init__(self, stage: str, message: str, *, public_message: str | None = None,
                 details: Mapping[str, Any] | None = None) -> None:
        super().__init__(message)
        self.stage = stage
        self.message = message
        self.public_message = public_message or message
        self.details = dict(details or {})

    def with_hint(self, hint: Hint) -> Mismatch:
        """Append one sentence pointing at the likely cause, if the hint has one."""
        text = hint(self) if callable(hint) else hint
        if text:
            self.message += f"; hint: {text}"
            self.public_message += f"; hint: {text}"
        return self


def _fmt_index(index: tuple[int, ...]) -> str:
    return "[" + ", ".join(str(i) for i in index) + "]"


def _fmt(x: float) -> str:
    return f"{x:.6g}"


def _type_name(value: Any) -> str:
    if isinstance(value, torch.Tensor):
        return "a Tensor"
    if value is None:
        return "None"
    if isinstance(value, Unsupported):
        return f"a {value.type_name}"
    if isinstance(value, (tuple, list)):
        return f"a {type(value).__name__} of {len(value)}"
    return f"a {type(value).__name__}"


def _unravel(flat: int, shape: torch.Size) -> tuple[int, ...]:
    index = []
    for size in reversed(shape):
        index.append(flat % size)
        flat //= size
    return tuple(reversed(index))


def _check_meta(name: str, actual: torch.Tensor, expected: torch.Tensor, *,
                dtype: torch.dtype | None, meta: Mapping[str, Any] | None,
                device: str | None) -> None:
    if meta and meta.get("type") not in (None, "torch.Tensor"):
        raise Mismatch("type", f"{name} is a {meta['type']}, a subclass of torch.Tensor; "
                               "return a plain torch.Tensor")
    if tuple(actual.shape) != tuple(expected.shape):
        raise shape_mismatch(name, tuple(actual.shape), tuple(expected.shape))
    want = dtype or expected.dtype
    if actual.dtype != want:
        raise Mismatch("dtype", f"{name} has dtype {str(actual.dtype)[6:]}, expected "
                                f"{str(want)[6:]} (results keep the input's dtype)")
    got_device = (meta or {}).get("device")
    if device and got_device and not same_device(got_device, device):
        raise Mismatch("device", f"{name} is on {got_device}, expected {device} (create new "
                                 "tensors on the input's device, e.g. device=x.device)")


def shape_mismatch(name: str, got: tuple[int, ...], want: tuple[int, ...], *,
                   stage: str = "shape") -> Mismatch:
    """``name has shape got, expected want``, saying so when it is the transpose of the
    expected shape or a permutation of its dims (``details["diagnosis"]``)."""
    found = diagnose_shape(tuple(got), tuple(want))
    return Mismatch(stage, f"{name} has shape {tuple(got)}, expected {tuple(want)}"
                           + (f": {found.sentence}" if found else ""),
                    details={"diagnosis": found.as_details()} if found else None)


def same_device(a: str, b: str) -> bool:
    """Whether two device strings name the same device (``cuda`` is ``cuda:0``)."""
    da, db = torch.device(a), torch.device(b)
    return da.type == db.type and (da.index or 0) == (db.index or 0)


def _first(mask: torch.Tensor) -> tuple[int, tuple[int, ...], int]:
    """The flat index and the index of the first True element of ``mask``, and the count."""
    flat = int(mask.flatten().nonzero()[0])
    return flat, _unravel(flat, mask.shape), int(mask.sum())


def _nonfinite_result(name: str, got: torch.Tensor, want: torch.Tensor,
                      finite: torch.Tensor) -> None:
    """NaN or inf where the reference is finite: always a failure, named as such."""
    bad = ~torch.isfinite(got) & finite
    if not bad.any():
        return
    flat, idx, count = _first(bad)
    what = "nan" if math.isnan(got.flatten()[flat].item()) else "inf"
    where = maps.mismatch_map(torch.where(bad, maps.CAP, 0.0), got, want)
    raise Mismatch(
        "values",
        f"{name} has {what} at {_fmt_index(idx)} where the reference is "
        f"{_fmt(want.flatten()[flat].item())} ({count} non-finite element(s))",
        public_message=f"{name} has {what} where the reference is finite "
                       f"({count} element(s))",
        details={"nonfinite": count, "index": list(idx), **_mapped(where)})


def _nonfinite_reference(name: str, got: torch.Tensor, want: torch.Tensor,
                         finite: torch.Tensor, tol: Tolerance) -> None:
    """Where the reference is inf, -inf or nan, the result must equal it (torch.testing's
    rule): a tolerance around an infinite reference is infinite and would let anything pass."""
    same = got == want
    if tol.equal_nan:
        same |= torch.isnan(got) & torch.isnan(want)
    bad = ~finite & ~same
    if not bad.any():
        return
    flat, idx, count = _first(bad)
    g, w = got.flatten()[flat].item(), want.flatten()[flat].item()
    where = maps.mismatch_map(torch.where(bad, maps.CAP, 0.0), got, want)
    rule = ("where the reference is inf, -inf or nan the result must equal it"
            + ("" if tol.equal_nan else "; this profile is exact: nan never equals nan"))
    raise Mismatch(
        "values",
        f"{name} is {_fmt(g)} at {_fmt_index(idx)} where the reference is {_fmt(w)} "
        f"({count} element(s) differ from a non-finite reference); {rule}",
        public_message=f"{name} differs from a non-finite reference value at {count} "
                       f"element(s); {rule}",
        details={"nonfinite_reference": count, "index": list(idx), "got": g, "expected": w,
                 **_mapped(where)})


def _mapped(where: dict[str, Any] | None) -> dict[str, Any]:
    return {"map": where} if where is not None else {}


def _diagnosed(got: torch.Tensor, want: torch.Tensor, bad: torch.Tensor,
               tol: Tolerance) -> tuple[str, dict[str, Any]]:
    """The diagnosis' sentence for the message (after a colon) and its details, if any."""
    found = diagnose(got, want, rtol=tol.rtol, atol=tol.atol, bad=bad)
    if found is None:
        return "", {}
    return f": {found.sentence}", {"diagnosis": found.as_details()}


def _exact_values(name: str, actual: torch.Tensor, expected: torch.Tensor) -> None:
    """Integers, booleans and indices: every element equal."""
    diff = actual.ne(expected.to(actual.dtype))
    if not diff.any():
        return
    flat = int(diff.flatten().nonzero()[0])
    idx = _unravel(flat, actual.shape)
    count = int(diff.sum())
    got, want = actual.to(torch.float64), expected.to(torch.float64)
    lead, found = _diagnosed(got, want, diff, Tolerance(0.0, 0.0))
    where = maps.mismatch_map(torch.where(diff, maps.CAP, 0.0), got, want)
    raise Mismatch(
        "values",
        f"{name} differs at {count} of {actual.numel()} elements{lead}; first at "
        f"{_fmt_index(idx)}: got {actual.flatten()[flat].item()}, expected "
        f"{expected.flatten()[flat].item()} (must be exact)",
        public_message=f"{name} differs at {count} of {actual.numel()} elements{lead} "
                       "(must be exact)",
        details={"mismatched": count, "total": actual.numel(), "index": list(idx),
                 **found, **_mapped(where)})


def _values(name: str, actual: torch.Tensor, expected: torch.Tensor, tol: Tolerance) -> None:
    if actual.numel() == 0:
        return
    if not (actual.dtype.is_floating_point or expected.dtype.is_floating_point):
        _exact_values(name, actual, expected)
        return
    got = actual.detach().to(torch.float64)
    want = expected.detach().to(torch.float64)
    finite = torch.isfinite(want)
    _nonfinite_result(name, got, want, finite)
    _nonfinite_reference(name, got, want, finite, tol)
    err = torch.where(finite, (got - want).abs(), torch.zeros_like(want))
    allowed = tol.atol + tol.rtol * want.abs()
    bad = err > allowed
    if not bad.any():
        return
    rel = torch.where(want == 0, torch.where(err > 0, math.inf, 0.0), err / want.abs())
    worst = int(err.flatten().argmax())
    worst_rel = int(torch.where(bad, rel, torch.zeros_like(rel)).flatten().argmax())
    count = int(bad.sum())
    idx = _unravel(worst, got.shape)
    lead, found = _diagnosed(got, want, bad, tol)
    where = maps.mismatch_map(maps.ratios(err, allowed, bad), got, want)
    summary = (f"{name} differs at {count} of {got.numel()} elements{lead}; worst absolute "
               f"error {_fmt(err.flatten()[worst].item())}")
    raise Mismatch(
        "values",
        f"{summary} at {_fmt_index(idx)}: got {_fmt(got.flatten()[worst].item())}, expected "
        f"{_fmt(want.flatten()[worst].item())}; worst relative error "
        f"{_fmt(rel.flatten()[worst_rel].item())} at "
        f"{_fmt_index(_unravel(worst_rel, got.shape))}; allowed {tol}",
        public_message=f"{summary}, worst relative error "
                       f"{_fmt(rel.flatten()[worst_rel].item())}; allowed {tol}",
        details={"mismatched": count, "total": got.numel(), "index": list(idx),
                 "max_abs": err.flatten()[worst].item(),
                 "max_rel": rel.flatten()[worst_rel].item(),
                 "got": got.flatten()[worst].item(), "expected": want.flatten()[worst].item(),
                 "rtol": tol.rtol, "atol": tol.atol, **found, **_mapped(where)})


def assert_close(actual: Any, expected: Any, *, name: str, profile: str = "elementwise",
                 dtype: torch.dtype | None = None, meta: Callable[[Any], Mapping[str, Any] | None] | None = None,
                 device: str | None = None, hint: Hint = None) -> None:
    """Compare a student's value with the reference, stage by stage, or raise Mismatch.

    ``expected`` is usually a float64 reference; ``dtype`` is the dtype the student's tensor
    must have (the input's), defaulting to the reference's. Tuples, lists and dicts are
    compared item by item, each named (``name[0]``, ``name['w']``).
    """
    try:
        _assert_tree(actual, expected, name=name, profile=profile, dtype=dtype,
                     meta=meta, device=device)
    except Mismatch as mismatch:
        raise mismatch.with_hint(hint) from None


def _assert_tree(actual: Any, expected: Any, *, name: str, profile: str,
                 dtype: torch.dtype | None, meta: Any, device: str | None) -> None:
    if isinstance(expected, torch.Tensor):
        if not isinstance(actual, torch.Tensor):
            raise Mismatch("type", f"{name} is {_type_name(actual)}, expected a Tensor")
        want_dtype = dtype if expected.dtype.is_floating_point else expected.dtype
        _check_meta(name, actual, expected, dtype=want_dtype,
                    meta=meta(actual) if meta else None, device=device)
        _values(name, actual, expected, tolerance(profile, actual.dtype, expected))
        return
    if isinstance(expected, (tuple, list)):
        if not isinstance(actual, (tuple, list)) or len(actual) != len(expected):
            raise Mismatch("type", f"{name} is {_type_name(actual)}, expected "
                                   f"{_type_name(expected)}")
        for i, (a, e) in enumerate(zip(actual, expected)):
            _assert_tree(a, e, name=f"{name}[{i}]", profile=profile, dtype=dtype,
                         meta=meta, device=device)
        return
    if isinstance(expected, dict):
        if not isinstance(actual, dict) or set(actual) != set(expected):
            raise Mismatch("type", f"{name} is {_type_name(actual)} with keys "
                                   f"{sorted(actual) if isinstance(actual, dict) else '-'}, "
                                   f"expected keys {sorted(expected)}")
        for key in expected:
            _assert_tree(actual[key], expected[key], name=f"{name}[{key!r}]", profile=profile,
                         dtype=dtype, meta=meta, device=device)
        return
    assert_same(actual, expected, name=name, profile=profile, dtype=dtype)


def assert_same(actual: Any, expected: Any, *, name: str, profile: str = "tight",
                dtype: torch.dtype | None = None) -> None:
    """Compare Python scalars (numbers, bools, strings, None) or raise Mismatch.

    Floats are held to the bounds of ``profile`` for ``dtype``, the dtype of the inputs they
    were computed from (a float32 loss's ``.item()`` is only as exact as float32); without
    one, float64's.
    """
    if isinstance(expected, bool) or expected is None or isinstance(expected, str):
        if actual != expected or type(actual) is not type(expected):
            raise Mismatch("values", f"{name} is {actual!r}, expected {expected!r}",
                           public_message=f"{name} differs from the expected value")
        return
    if isinstance(expected, (int, float)):
        if isinstance(actual, bool) or not isinstance(actual, (int, float)):
            raise Mismatch("type", f"{name} is {_type_name(actual)}, expected a Python number"
                                   + (" (use .item() to get one from a 0-d tensor)"
                                      if isinstance(actual, torch.Tensor) else ""))
        if not _same_number(actual, expected, profile, dtype):
            error = abs(actual - expected)
            raise Mismatch("values", f"{name} is {_fmt(actual)}, expected {_fmt(expected)} "
                                     f"(error {_fmt(error)})",
                           public_message=f"{name} differs from the expected value (error "
                                          f"{_fmt(error)})",
                           details={"got": actual, "expected": expected})
        return
    raise TypeError(f"cannot compare with a reference of type {type(expected).__name__}")


def _same_number(actual: float, expected: float, profile: str,
                 dtype: torch.dtype | None) -> bool:
    if isinstance(expected, int) and profile == "exact":
        return actual == expected
    tol = tolerance(profile, dtype if dtype is not None and dtype.is_floating_point
                    else torch.float64, torch.tensor([float(expected)], dtype=torch.float64))
    if not math.isfinite(expected):
        return actual == expected or (tol.equal_nan and math.isnan(actual) and math.isnan(expected))
    return abs(actual - expected) <= tol.atol + tol.rtol * abs(expected)
