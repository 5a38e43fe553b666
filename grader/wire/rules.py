"""What the patterns of a part's ``forbidden`` list mean, how they match, and the message a
forbidden use gets.

A list mixes three kinds of pattern, each with shell wildcards (``*``, ``?``, ``[...]``):

* **ATen operators**, ``aten._softmax``, ``aten.*_backward*``: matched against every operator
  the student's code reaches while it runs, by name (``aten.NAME``, any overload) or with its
  overload (``aten.NAME.OVERLOAD``). This is the authority: every route to a kernel (a sibling
  API, an internal ``torch._*`` function, ``torch.ops.aten``, ``torch._C._nn``) ends there.
* **autograd pseudo-operators**: ``autograd.backward`` (the autograd engine ran a backward pass
  during the call), ``autograd.forward_ad`` (forward-mode dual tensors were used),
  ``autograd.functorch`` (a ``torch.func`` transform was active); ``autograd.*`` is all three.
* **Python names**, ``torch.nn.functional.softmax``, ``torch.Tensor.backward``, ``torch.optim.*``:
  the torch functions, pure-Python functions and classes a part may not call or construct, seen
  at run time too, and named early (as a warning) by the source scan.

Nothing here imports torch: the course manifest is checked with it, in processes that never
import torch.
"""

from __future__ import annotations

import fnmatch
import functools
import importlib
import json
import re
import sys
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

__all__ = ["PSEUDO", "RECORDER_OFF", "RECORDER_OUTSIDE", "WARM_LISTS", "Rules", "check_pattern", "describe_hit",
           "glob", "kind_of", "match", "resolve", "split_rules", "split_warm", "warm_argument"]

PSEUDO = {
    "autograd.backward": "runs the autograd engine (a backward pass)",
    "autograd.forward_ad": "uses forward-mode AD (dual tensors)",
    "autograd.functorch": "runs a torch.func transform",
}
"""The pseudo-operators and what a hit on each means in a message."""

RECORDER_OFF = "recorder.off"
"""Not a pattern: the hit recorded when the student's code switches the recorder off, which
costs the part in every part that forbids anything."""

RECORDER_OUTSIDE = "recorder.outside"
"""Not a pattern: the hit recorded when the student's code runs where the recorder cannot see
(another process, foreign code, a thread left running), which costs the part in every part
that forbids anything (``grader.executor.escapes``)."""

WARM_LISTS = "--warm-forbidden="
"""The argument that gives an executor's interpreter (template, zygote, portable executor) the
homework's forbidden lists, which it warms up before its first fork or request."""

_NAME = re.compile(r"[A-Za-z_*?\[\]][A-Za-z0-9_*?\[\]!]*(\.[A-Za-z0-9_*?\[\]!]+)*")


@dataclass(frozen=True)
class Rules:
    """One part's forbidden list, split by kind."""

    python: tuple[str, ...] = ()
    aten: tuple[str, ...] = ()
    pseudo: frozenset[str] = frozenset()  # the pseudo-operators the list names, expanded

    def __bool__(self) -> bool:
        return bool(self.python or self.aten or self.pseudo)


def kind_of(pattern: str) -> str:
    """``"aten"``, ``"autograd"`` or ``"python"``."""
    if pattern.startswith("aten."):
        return "aten"
    if pattern.startswith("autograd."):
        return "autograd"
    return "python"


def check_pattern(pattern: Any) -> str | None:
    """Why ``pattern`` is not a valid forbidden pattern, or None when it is."""
    if not isinstance(pattern, str) or not _NAME.fullmatch(pattern):
        return (f"{pattern!r} is not a dotted name (expected a Python name such as "
                "'torch.nn.functional.softmax', an ATen operator such as 'aten._softmax', or "
                f"one of {', '.join(sorted(PSEUDO))})")
    if kind_of(pattern) == "autograd" and not any(map(glob(pattern), PSEUDO)):
        return (f"{pattern!r} names no autograd pseudo-operator (expected one of "
                f"{', '.join(sorted(PSEUDO))} or 'autograd.*')")
    if kind_of(pattern) == "aten" and pattern.count(".") > 2:
        return f"{pattern!r} is not an operator name (expected 'aten.NAME' or 'aten.NAME.OVERLOAD')"
    return None


@functools.lru_cache(maxsize=1024)
def glob(pattern: str) -> Callable[[str], bool]:
    """A matcher for one shell pattern. Patterns with only ``*`` wildcards match by string
    methods: ``fnmatch`` compiles a regular expression per pattern, a millisecond each in
    a freshly forked executor, which pays it again for every list."""
    if any(c in pattern for c in "?[]"):
        return lambda name: fnmatch.fnmatchcase(name, pattern)
    if "*" not in pattern:
        return pattern.__eq__
    first, *middle, last = pattern.split("*")

    def matches(name: str) -> bool:
        if len(name) < len(first) + len(last) or not name.startswith(first) \
                or not name.endswith(last):
            return False
        at, end = len(first), len(name) - len(last)
        for part in middle:
            at = name.find(part, at, end)
            if at < 0:
                return False
            at += len(part)
        return True

    return matches


def split_rules(patterns: Iterable[str]) -> Rules:
    """A forbidden list split by kind, the pseudo-operators' wildcards expanded."""
    python: list[str] = []
    aten: list[str] = []
    pseudo: set[str] = set()
    for pattern in patterns:
        kind = kind_of(pattern)
        if kind == "aten":
            aten.append(pattern)
        elif kind == "autograd":
            pseudo.update(p for p in PSEUDO if glob(pattern)(p))
        else:
            python.append(pattern)
    return Rules(python=tuple(python), aten=tuple(aten), pseudo=frozenset(pseudo))


def match(names: Iterable[str], patterns: Iterable[str]) -> str | None:
    """The first of ``patterns`` that one of ``names`` matches, or None."""
    names = tuple(names)
    for pattern in patterns:
        matches = glob(pattern)
        if any(matches(name) for name in names):
            return pattern
    return None


def resolve(name: str) -> Any:
    """The object a dotted name refers to, or None: looked up from the modules already
    imported first (a failed import searches the file system, slow inside the sandbox).
    Both sides use it: the judge's source scan (in the trusted judge) and the executor's
    recorder resolve a pattern's names the same way."""
    parts = name.split(".")
    cut = next((c for c in range(len(parts), 0, -1) if ".".join(parts[:c]) in sys.modules), 0)
    obj: Any = sys.modules[".".join(parts[:cut])] if cut else None
    if obj is None:
        try:
            obj, cut = importlib.import_module(parts[0]), 1
        except ImportError:
            return None
    for i in range(cut, len(parts)):
        nxt = getattr(obj, parts[i], None)
        if nxt is None:
            try:
                nxt = importlib.import_module(".".join(parts[:i + 1]))
            except ImportError:
                return None
        obj = nxt
    return obj


def _text(value: Any, limit: int = 200) -> str | None:
    return value[:limit] if isinstance(value, str) and value else None


def describe_hit(part: str, hit: Mapping[str, Any]) -> str:
    """The message of a forbidden use the executor recorded, e.g. ``softmax: line 23 calls
    torch.nn.functional.softmin, which runs aten._softmax, forbidden in this part``.

    ``hit`` is ``{"rule": ..., "call": ..., "line": ...}`` as the executor sent it: untrusted,
    so every field is checked and cut short.
    """
    rule = _text(hit.get("rule")) or "a forbidden API"
    call = _text(hit.get("call"))
    line = hit.get("line")
    where = f"line {line}" if isinstance(line, int) and not isinstance(line, bool) else \
        "code outside the submission's file"
    if rule == RECORDER_OFF:
        how = f" (with {call})" if call else ""
        return (f"{part}: {where} switches off the grader's recorder{how}, which is forbidden "
                "in every part that forbids something")
    if rule == RECORDER_OUTSIDE:
        who = where if isinstance(line, int) and not isinstance(line, bool) else "the code"
        return (f"{part}: {who} {call or 'runs code'}, out of the grader's recorder's sight, "
                "which is forbidden in every part that forbids something")
    if rule in PSEUDO:
        what = PSEUDO[rule]
    elif kind_of(rule) == "aten":
        what = f"runs {rule}"
    else:
        return f"{part}: {where} calls {call or rule}, forbidden in this part"
    if call and call != rule:
        return f"{part}: {where} calls {call}, which {what}, forbidden in this part"
    return f"{part}: {where} {what}, forbidden in this part"


def warm_argument(lists: Iterable[Iterable[str]]) -> tuple[str, ...]:
    """The argument (none for no list) that asks an executor's interpreter to warm up these
    forbidden lists: each distinct list once, as the recorder keys it (sorted, no repeats)."""
    distinct = sorted({tuple(sorted(set(patterns))) for patterns in lists if patterns})
    return (WARM_LISTS + json.dumps(distinct),) if distinct else ()


def split_warm(args: Iterable[str]) -> tuple[tuple[str, ...], tuple[tuple[str, ...], ...]]:
    """An executor interpreter's arguments split into the modules to import and the forbidden
    lists to warm up (``warm_argument``'s); anything else in the argument is a ValueError."""
    modules: list[str] = []
    lists: list[tuple[str, ...]] = []
    for arg in args:
        if not arg.startswith(WARM_LISTS):
            modules.append(arg)
            continue
        value = json.loads(arg[len(WARM_LISTS):])
        if not isinstance(value, list) or not all(
                isinstance(patterns, list) and all(isinstance(p, str) for p in patterns)
                for patterns in value):
            raise ValueError(f"{WARM_LISTS} takes a JSON list of lists of patterns, "
                             f"got {arg[len(WARM_LISTS):][:80]!r}")
        lists.extend(tuple(patterns) for patterns in value)
    return tuple(modules), tuple(lists)
