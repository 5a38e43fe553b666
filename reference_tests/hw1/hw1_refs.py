"""Torch-built references and custom checks for hw1 (public: PyTorch only, never the solutions)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

import torch
import torch.nn.functional as F

from grader.judge.compare import Mismatch
from grader.errors import StudentException


def expand_to(t: torch.Tensor, shape: Sequence[int]) -> torch.Tensor:
    return t.expand(*shape)


def add_channel_bias(x: torch.Tensor, bias: torch.Tensor) -> torch.Tensor:
    return (x.transpose(1, -1) + bias).transpose(1, -1)


def topk_labels(prob: torch.Tensor, labels: torch.Tensor, k: int) -> torch.Tensor:
    return labels[prob.argsort(dim=1, descending=True)[:, :k]]


def pick(logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    return logits[torch.arange(logits.shape[0]), target]


def vector_norm(x: torch.Tensor, p: float, dim: int | None = None,
                keepdim: bool = False) -> torch.Tensor:
    return torch.linalg.vector_norm(x, ord=p, dim=dim, keepdim=keepdim)


def distinct_probs(n: int, k: int, rng: torch.Generator, dtype: torch.dtype) -> torch.Tensor:
    """Rows of probabilities without ties: each row a random permutation of spread-out values."""
    ranks = torch.rand(n, k, generator=rng).argsort(dim=1).to(torch.float64)
    return torch.softmax(ranks * 0.5, dim=1).to(dtype)


def check_broadcast_shape(student: Any, a: Sequence[int], b: Sequence[int]) -> None:
    """The student's ``broadcast_shape(a, b)`` equals ``torch.broadcast_shapes`` as a tuple."""
    # broadcast on the meta device: torch.broadcast_shapes imports sympy (half a second)
    meta = torch.broadcast_tensors(torch.empty(tuple(a), device="meta"),
                                   torch.empty(tuple(b), device="meta"))[0]
    want = tuple(int(s) for s in meta.shape)
    label = f"broadcast_shape({tuple(a)}, {tuple(b)})"
    try:
        got = student.call("broadcast_shape", a, b).value
    except StudentException as exc:
        hint = "; hint: align the shapes from the last dimension" if len(a) != len(b) else ""
        raise Mismatch("values", f"{exc.message}, but {label} is {want}{hint}",
                       public_message=f"{exc.public_message}, but the shapes broadcast{hint}",
                       ) from None
    if not isinstance(got, tuple):
        raise Mismatch("type", f"{label} is a {type(got).__name__}, expected a tuple of ints",
                       public_message=f"broadcast_shape(...) is a {type(got).__name__}, "
                                      "expected a tuple of ints")
    if any(isinstance(s, bool) or not isinstance(s, int) for s in got):
        kinds = sorted({type(s).__name__ for s in got})
        raise Mismatch("type", f"{label} holds {', '.join(kinds)}, expected Python ints",
                       public_message="broadcast_shape(...) must hold Python ints")
    if got != want:
        hint = ""
        if len(got) == len(want) and len(a) != len(b):
            hint = "; hint: align the shapes from the last dimension, not the first"
        raise Mismatch("values", f"{label} is {got}, expected {want}{hint}",
                       public_message=f"broadcast_shape(...) of shapes of lengths {len(a)} and "
                                      f"{len(b)} differs from the expected shape{hint}")


def check_raises_value_error(student: Any, name: str, *args: Any, why: str) -> None:
    """The student's ``name(*args)`` must raise ValueError (``why`` says why it should)."""
    shown = ", ".join(_show(a) for a in args)
    try:
        result = student.call(name, *args)
    except StudentException as exc:
        if f"`{name}` raised ValueError" in exc.message:
            return
        raised = exc.message.split(":", 1)[0].removeprefix(f"`{name}` ")
        raise Mismatch("values", f"`{name}({shown})` {raised}, expected ValueError ({why})",
                       public_message=f"`{name}` {raised}, expected ValueError ({why})",
                       ) from None
    raise Mismatch("values", f"`{name}({shown})` returned {_show(result.value)} instead of "
                             f"raising ValueError ({why})",
                   public_message=f"`{name}` returned instead of raising ValueError ({why})")


def _show(value: Any) -> str:
    if isinstance(value, torch.Tensor):
        return f"<tensor of shape {tuple(value.shape)}>"
    return repr(value)


def check_expand_view(student: Any, t: torch.Tensor, shape: Sequence[int]) -> None:
    """``expand_to(t, shape)`` run in the executor is a view: shared storage, stride 0 where
    a dimension was expanded."""
    facts = student.harness("expand_view_facts", t, list(shape)).value
    if not facts.get("is_tensor"):
        raise Mismatch("type", f"expand_to(...) is a {facts.get('type')}, expected a Tensor")
    shape = [int(s) for s in shape]
    if facts["shape"] != shape:
        raise Mismatch("shape", f"expand_to(...) has shape {tuple(facts['shape'])}, expected "
                                f"{tuple(shape)}")
    if not facts["shares_storage"]:
        raise Mismatch("view", f"expand_to(t of shape {tuple(t.shape)}, {tuple(shape)}) returned "
                               "a copy: its storage is not t's; use expand/view, not repeat, "
                               "clone or arithmetic")
    lead = len(shape) - t.dim()
    expanded = [i for i, s in enumerate(shape)
                if s > 1 and (i < lead or t.shape[i - lead] == 1)]
    bad = [i for i in expanded if facts["strides"][i] != 0]
    if bad:
        raise Mismatch("view", f"expand_to(t of shape {tuple(t.shape)}, {tuple(shape)}) has "
                               f"strides {tuple(facts['strides'])}: expanded dimension(s) "
                               f"{bad} must have stride 0 (a view repeats the same memory); "
                               "use expand/view, not repeat")


def values_hint(text: str):
    """A hint shown when the values differ (finite but wrong)."""
    return lambda m: text if m.stage == "values" and "nonfinite" not in m.details else None


def random_broadcastable(rng: torch.Generator, max_dims: int = 4, max_size: int = 5,
                         ) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """Two random shapes that broadcast together (different lengths, some sizes 1)."""
    def draw(high: int) -> int:
        return int(torch.randint(0, high, (), generator=rng))

    full = [1 + draw(max_size) for _ in range(draw(max_dims + 1))]
    shapes = []
    for _ in range(2):
        keep = full[len(full) - draw(len(full) + 1):] if full else []
        shapes.append(tuple(1 if draw(3) == 0 else s for s in keep))
    return shapes[0], shapes[1]


def norm_hint(p: float):
    """Hints for vector_norm: a missing absolute value (nan or negative results) or a missing
    1/p root (the student's value is the reference raised to the power p)."""
    def hint(m: Mismatch) -> str | None:
        if m.stage != "values":
            return None
        got, want = m.details.get("got"), m.details.get("expected")
        if "nonfinite" in m.details or (got is not None and got < 0):
            return "take |x| before the power: x ** p is nan or negative for negative x"
        if got is not None and want and abs(got - want ** p) <= 1e-3 * abs(want ** p):
            return "the p-norm is (sum |x|^p) ** (1/p): take the 1/p root"
        return None
    return hint


# -- one_hot and to_patches -------------------------------------------------------------------

def one_hot(target: torch.Tensor, num_classes: int) -> torch.Tensor:
    return F.one_hot(target, num_classes).to(torch.float32)


def to_patches(x: torch.Tensor, p: int) -> torch.Tensor:
    # F.unfold lists each block channel-major ([C, p, p]), blocks row-major over the grid
    return F.unfold(x, kernel_size=p, stride=p).transpose(1, 2)


def one_hot_hint(m: Mismatch) -> str | None:
    if m.stage == "dtype":
        return "one_hot returns float32 whatever the target's dtype: make the zeros with " \
               "dtype=torch.float32"
    if m.stage in ("values", "shape"):
        return "scatter ones along dim 1 of a [N, num_classes] zero matrix, at index " \
               "target.view(-1, 1)"
    return None


def check_one_hot_rejects(student: Any, target: torch.Tensor, num_classes: int,
                          bad: int) -> None:
    """``one_hot(target, num_classes)`` raises ValueError whose message names ``bad``."""
    why = f"target {bad} is outside [0, {num_classes})"
    try:
        result = student.call("one_hot", target, num_classes)
    except StudentException as exc:
        if "`one_hot` raised ValueError" not in exc.message:
            raised = exc.message.split(":", 1)[0].removeprefix("`one_hot` ")
            raise Mismatch("values", f"`one_hot` {raised}, expected ValueError ({why}); "
                                     "hint: check the targets before scattering",
                           public_message=f"`one_hot` {raised}, expected ValueError (a target "
                                          "out of range); hint: check the targets before "
                                          "scattering") from None
        if not re.search(rf"(?<![\w.]){re.escape(str(bad))}(?![\w.])", exc.message):
            raise Mismatch("values", f"`one_hot` raised ValueError, but its message does not "
                                     f"name the bad target {bad}: {exc.message}",
                           public_message="`one_hot` raised ValueError, but its message does "
                                          "not name the bad target value") from None
        return
    raise Mismatch("values", f"`one_hot` returned {_show(result.value)} instead of raising "
                             f"ValueError ({why})",
                   public_message="`one_hot` returned instead of raising ValueError (a target "
                                  "out of range)")


def _patch_layouts(x: torch.Tensor, p: int) -> dict[str, torch.Tensor]:
    """The wrong layouts students produce, each with the hint that names the mistake."""
    n, c, h, w = x.size()
    split = x.reshape(n, c, h // p, p, w // p, p)
    size = (n, (h // p) * (w // p), c * p * p)
    return {
        "flatten each patch as [C, p, p] (channels first), not [p, p, C]":
            split.permute(0, 2, 4, 3, 5, 1).reshape(size),
        "number the patches row-major over the grid (out[n, i * (W/p) + j] for grid row i, "
        "column j), not column by column": split.permute(0, 4, 2, 1, 3, 5).reshape(size),
        "a reshape alone mixes pixels of different patches: split H and W, permute the grid "
        "dimensions in front of the patch dimensions, then merge": x.reshape(size),
    }


def patches_hint(x: torch.Tensor, p: int):
    """A hint for to_patches that names the layout the student's value matches, read off
    the worst mismatching element (its index and value)."""
    generic = "view x as [N, C, H/p, p, W/p, p], permute to [N, H/p, W/p, C, p, p], reshape"

    def hint(m: Mismatch) -> str | None:
        if m.stage != "values" or "index" not in m.details or "got" not in m.details:
            return generic if m.stage in ("values", "shape") else None
        index, got = tuple(m.details["index"]), m.details["got"]
        for text, layout in _patch_layouts(x.detach().to(torch.float64), p).items():
            if layout.dim() == len(index) and float(layout[index]) == got:
                return text
        return generic

    return hint
