"""The forbidden-API recorder: what the student's code reaches while it runs for one part.

Its hooks are active only inside the window around the student's call (``Recording.active``);
the judge's own gradient request runs after the window closes.

* A ``TorchDispatchMode``, below autograd, sees every ATen operator reached, however it was
  called: ``F.softmin``, ``torch._softmax``, ``torch.ops.aten``, ``torch._C._nn``, a backward
  kernel called directly. From inside an operator it also sees whether the autograd engine is
  running a backward pass (``torch._C._current_graph_task_id()``; on CUDA the engine's device
  threads inherit the mode) and forward-mode AD (giving a tensor a tangent runs
  ``aten._has_same_storage_numel``).
* A ``TorchFunctionMode`` sees the outermost torch function a student's line called (the
  "Python call that reached" an operator), the forbidden Python names that are torch
  functions, ``torch.func`` transforms (functorch's layer stack is visible at this level, not
  below it) and the switch that would hide operators from the dispatch mode.
* A profile hook watches pure-Python functions (``torch.broadcast_shapes``, ``torch.optim.*``)
  for the parts that name them, and ``__init__`` hooks see forbidden classes constructed.

A hit is ``{"rule", "call", "line"}``: what was reached, the Python call that reached it and
the line of the student's file; the judge words the message (``grader.wire.rules``).
"""

from __future__ import annotations

import functools
import os
import sys
import threading
import types
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import torch
from torch.overrides import TorchFunctionMode
from torch.utils._python_dispatch import TorchDispatchMode, _get_current_dispatch_mode

from grader.executor.pynames import Targets, known_name, public_name, targets
from grader.wire import rules
from grader.wire.rules import PSEUDO, RECORDER_OFF, Rules

__all__ = ["DERIVATIVE_LIST", "Recording", "operators_reached"]

_OP_TYPES = (torch._ops.OpOverload, torch._ops.OpOverloadPacket)
_graph_task_id = torch._C._current_graph_task_id
_functorch_active = torch._C._are_functorch_transforms_active
_key_excluded = torch._C._dispatch_tls_is_dispatch_key_excluded
_PYTHON_KEY = torch._C.DispatchKey.Python
_tf_all_disabled = torch._C._is_torch_function_all_disabled
_FORWARD_AD_OP = "aten._has_same_storage_numel"
_DUAL_FUNCS = (torch._make_dual, torch._unpack_dual)
# Frames of the recorder and of torch's mode plumbing are never the "call" a student made;
# those of torch's decorators are skipped to reach the function they wrap.
_PLUMBING = (__file__, torch.overrides.__file__, torch._ops.__file__,
             sys.modules[TorchDispatchMode.__module__].__file__)
_TORCH_DIR = os.path.dirname(torch.__file__)
_WRAPPERS = tuple(os.path.join(_TORCH_DIR, *path.split("/")) for path in
                  ("_compile.py", "_dynamo/eval_frame.py", "utils/_contextlib.py"))


_OP_NAMES: dict[int, tuple[Any, tuple[str, str]]] = {}


def _op_names(func: Any) -> tuple[str, str]:
    """``("aten.NAME", "aten.NAME.OVERLOAD")`` of an operator (twice the name for a packet),
    cached by id with the operator kept alive (those the warm-up meets, before the fork)."""
    entry = _OP_NAMES.get(id(func))
    if entry is not None:
        return entry[1]
    if isinstance(func, torch._ops.OpOverloadPacket):
        packet = func._qualified_op_name.replace("::", ".")
        names = (packet, packet)
    else:
        packet = func._schema.name.replace("::", ".")
        names = (packet, f"{packet}.{func._overloadname}")
    _OP_NAMES[id(func)] = (func, names)
    return names


@functools.lru_cache(maxsize=64)
def _split(patterns: tuple[str, ...]) -> Rules:
    return rules.split_rules(patterns)


@functools.lru_cache(maxsize=64)
def _op_rules(patterns: tuple[str, ...], forward_ad: bool,
              ) -> dict[int, tuple[Any, str | None, Callable[..., Any]]]:
    """id(operator) -> (the operator, the rule it hits or None, its callable), filled as
    operators are first seen: matching names against a list costs microseconds, so it is done
    once per list, and keyed by id since an OpOverload hashes in Python. Each entry keeps its
    operator alive, so no id is reused."""
    return {}


def _transform_name() -> str:
    interpreter = torch._C._functorch.peek_interpreter_stack()
    key = interpreter.key().name.lower() if interpreter is not None else "transform"
    return f"torch.func.{key}"


class Recording:
    """What one request's student code reached, for one forbidden list (made once per
    request; ``active()`` wraps each window: construction, each forward, a call)."""

    def __init__(self, patterns: Sequence[str], filename: str) -> None:
        self.rules: Rules = _split(tuple(sorted(set(patterns))))  # one cache entry per set
        self.filename = filename
        self.used: list[dict[str, Any]] = []
        self.current: Any = None  # the outermost torch function running, while one runs
        self.targets = targets(self.rules.python, self.rules.pseudo == frozenset(PSEUDO)) \
            if self.rules.python else None
        self.used_rules: set[str] = set()
        self.op_rule = _op_rules(self.rules.aten, "autograd.forward_ad" in self.rules.pseudo)
        self._modes: tuple[_CallMode, _OpMode] | None = None
        self._inits: list[tuple[type, Any, Any]] | None = None
        self._thread = threading.get_ident()

    # -- hits ---------------------------------------------------------------------------------
    def hit(self, rule: str, call: str | None) -> None:
        """Record a forbidden use once per rule, with the student's line that reached it."""
        if rule in self.used_rules:
            return
        self.used_rules.add(rule)
        line, callee = self._student_frame()
        if call is None and callee is not None:
            call = known_name(callee.f_code) or \
                f"{callee.f_globals.get('__name__', '?')}.{callee.f_code.co_qualname}"
        self.used.append({"rule": rule, "call": call, "line": line})

    def _student_frame(self) -> tuple[int | None, types.FrameType | None]:
        """The line of the innermost frame in the student's file, and the Python function it
        called (None when that is a builtin, seen only by the recorder). From an autograd
        engine's device thread, the stack is that of the thread that opened the window."""
        if threading.get_ident() == self._thread:
            frame: types.FrameType | None = sys._getframe(1)
        else:
            frame = sys._current_frames().get(self._thread)
        chain: list[types.FrameType] = []
        while frame is not None:
            if frame.f_code.co_filename == self.filename:
                for callee in reversed(chain):  # from the student's callee inwards
                    if callee.f_code.co_filename in _PLUMBING:
                        break
                    if callee.f_code.co_filename not in _WRAPPERS:
                        return frame.f_lineno, callee
                return frame.f_lineno, None
            chain.append(frame)
            frame = frame.f_back
        return None, None

    def op_entry(self, func: Any) -> tuple[Any, str | None, Callable[..., Any]]:
        """(the operator, the rule it hits or None, what to call to run it), decided once per
        operator and list. An OpOverload runs through its C++ handle, one Python call less."""
        entry = self.op_rule.get(id(func))
        if entry is None:
            names = _op_names(func)
            rule = names[0] if rules.match(names, self.rules.aten) else None
            if names[0] == _FORWARD_AD_OP and "autograd.forward_ad" in self.rules.pseudo:
                rule = "autograd.forward_ad"
            entry = self.op_rule[id(func)] = (func, rule, getattr(func, "_op", func))
        return entry

    def op_hit(self, rule: str) -> None:
        self.hit(rule, public_name(self.current) if self.current is not None else None)

    # -- the window ---------------------------------------------------------------------------
    @contextmanager
    def active(self) -> Iterator[None]:
        """Record what the student's code reaches inside the block."""
        if not self.rules:
            yield
            return
        self._thread = threading.get_ident()
        if self._modes is None:  # made once per request, entered for each window
            self._modes = (_CallMode(self), _OpMode(self))
            self._inits = _recording_inits(self, self.targets.classes if self.targets else [])
        calls, ops = self._modes
        watch = self.targets is not None and self.targets.watches_python
        with _constructions(self._inits or []), calls, ops:
            try:
                if watch:
                    with _profiled(self, self.targets):  # type: ignore[arg-type]
                        yield
                else:
                    yield
            finally:
                self._check_stacks(calls, ops)

    def _check_stacks(self, calls: TorchFunctionMode, ops: TorchDispatchMode) -> None:
        """Our modes must still be on top when the window closes: a submission that popped
        them ran unseen."""
        if _get_current_dispatch_mode() is not ops:
            self.hit(RECORDER_OFF, "a change of torch's dispatch-mode stack")
        depth = torch._C._len_torch_function_stack()
        if depth < 1 or torch._C._get_function_stack_at(depth - 1) is not calls:
            self.hit(RECORDER_OFF, "a change of torch's function-mode stack")


class _CallMode(TorchFunctionMode):
    """The torch functions a student's line calls (only the outermost: inside a handler the
    mode is off), checked against the list's Python names."""

    def __init__(self, rec: Recording) -> None:
        super().__init__()
        self.rec = rec
        self.functorch = "autograd.functorch" in rec.rules.pseudo
        self.forward_ad = "autograd.forward_ad" in rec.rules.pseudo

    def __torch_function__(self, func: Any, types_: Any, args: Any = (), kwargs: Any = None) -> Any:
        rec = self.rec
        outer = rec.current
        if rec.targets is not None:
            name = rec.targets.match(func)
            if name:
                rec.hit(name, name)
        if rec.rules.aten and isinstance(func, _OP_TYPES):
            rule = rec.op_entry(func)[1]
            if rule:
                rec.current = func
                rec.op_hit(rule)
        if self.functorch and _functorch_active():
            rec.hit("autograd.functorch", _transform_name())
        if self.forward_ad and (func is _DUAL_FUNCS[0] or func is _DUAL_FUNCS[1]):
            rec.hit("autograd.forward_ad", public_name(func))
        if _key_excluded(_PYTHON_KEY):
            rec.hit(RECORDER_OFF, "torch._C._DisableTorchDispatch")
        rec.current = func
        try:
            return func(*args, **(kwargs or {}))
        finally:
            rec.current = outer


class _OpMode(TorchDispatchMode):
    """Every ATen operator reached, the autograd engine and forward-mode AD."""

    def __init__(self, rec: Recording) -> None:
        super().__init__()
        self.rec = rec
        self.engine = "autograd.backward" in rec.rules.pseudo
        self.engine_seen = False

    @classmethod
    def _should_skip_dynamo(cls) -> bool:
        """No dynamo guard around the handler: it would import torch._dynamo (a second) in
        every executor, and wrap each operator in another call."""
        return False

    def __torch_dispatch__(self, func: Any, types_: Any, args: Any = (), kwargs: Any = None) -> Any:
        rec = self.rec
        entry = rec.op_rule.get(id(func)) or rec.op_entry(func)
        if entry[1]:
            rec.op_hit(entry[1])
        if self.engine and not self.engine_seen and _graph_task_id() != -1:
            self.engine_seen = True
            rec.op_hit("autograd.backward")
        if _tf_all_disabled():
            rec.hit(RECORDER_OFF, "torch._C.DisableTorchFunction")
        return entry[2](*args, **(kwargs or {}))


def _recording_inits(rec: Recording, classes: list[tuple[type, str]],
                     ) -> list[tuple[type, Any, Any]]:
    """(class, its own __init__ or None, the recording __init__) for each forbidden class."""
    out = []
    for cls, name in classes:
        parent_init = next(base.__dict__["__init__"] for base in cls.__mro__
                           if "__init__" in base.__dict__)
        out.append((cls, cls.__dict__.get("__init__", None),
                    _recording_init(rec, name, parent_init)))
    return out


@contextmanager
def _constructions(inits: list[tuple[type, Any, Any]]) -> Iterator[None]:
    """Record constructions of forbidden classes (and their subclasses) in the block."""
    for cls, _, recording in inits:
        cls.__init__ = recording  # type: ignore[misc]
    try:
        yield
    finally:
        for cls, original, _ in inits:
            if original is None:
                delattr(cls, "__init__")
            else:
                cls.__init__ = original  # type: ignore[misc]


def _recording_init(rec: Recording, name: str, parent_init: Any) -> Callable[..., None]:
    def __init__(obj: Any, *args: Any, **kwargs: Any) -> None:
        label = name if not name.endswith(".*") else f"{name[:-2]}.{type(obj).__name__}"
        rec.hit(label, label)
        parent_init(obj, *args, **kwargs)

    return __init__


@contextmanager
def _profiled(rec: Recording, targets: Targets) -> Iterator[None]:
    """A profile hook on the pure-Python functions of the list, for the block: a call counts
    when the student's code made it (torch's own calls, such as a lazy import that defines an
    autograd Function, are not the student's)."""
    seen: dict[types.CodeType, str | None] = {}
    filename = rec.filename

    def profile(frame: types.FrameType, event: str, arg: Any) -> None:
        if event != "call":
            return
        code = frame.f_code
        name = seen.get(code, "")
        if name == "":
            name = seen[code] = targets.python_frame(frame)
        if name and name not in rec.used_rules:
            caller = frame.f_back
            while caller is not None and caller.f_code.co_filename in _WRAPPERS:
                caller = caller.f_back
            if caller is not None and caller.f_code.co_filename == filename:
                rec.hit(name, name)

    previous = sys.getprofile()
    sys.setprofile(profile)
    try:
        yield
    finally:
        if sys.getprofile() is not profile:
            rec.hit(RECORDER_OFF, "sys.setprofile")
        sys.setprofile(previous if callable(previous) else None)


def operators_reached(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> list[str]:
    """The ATen operators (and autograd pseudo-operators) that ``fn(*args, **kwargs)`` reaches,
    in order: what an instructor puts in a forbidden list.

        >>> operators_reached(torch.nn.functional.softmin, torch.randn(3, 4), -1)
        ['aten.neg', 'aten._softmax']
    """
    rec = Recording(["aten.*", "autograd.*"], filename="")
    with rec.active():
        fn(*args, **kwargs)
    return [str(hit["rule"]) for hit in rec.used]


DERIVATIVE_LIST = ("torch.autograd.*", "torch.Tensor.backward", "torch.func.*",
                   "aten.*_backward*", "autograd.*")
"""The list of a part that asks for a derivative, as docs/authoring.md gives it (warmed up)."""


def _warm_up() -> None:
    """Windows on tiny tensors at import: the template imports this module before it forks,
    so each executor starts with the first-use costs of the modes, of the operators most
    homework runs (torch registers each operator for Python dispatch at its first visit) and
    of the derivative list paid once."""
    leaf = torch.ones(2, 2, requires_grad=True)
    for patterns in (DERIVATIVE_LIST, ("aten.*", "autograd.*", "torch.nn.functional.softmax",
                                       "torch.broadcast_shapes")):
        rec = Recording(patterns, filename=__file__)
        with rec.active():
            _common_operators(leaf)


def _common_operators(leaf: torch.Tensor) -> None:
    """The operators most homework runs, once each, and a backward pass."""
    x = leaf.detach()
    index = torch.zeros(2, 1, dtype=torch.long)
    for fn in (torch.sigmoid, torch.tanh, torch.exp, torch.log, torch.abs, torch.sqrt,
               torch.relu, torch.sign, torch.clone, torch.neg, torch.rsqrt, torch.zeros_like,
               torch.ones_like, torch.diag_embed, torch.t, lambda t: 1 - t, lambda t: t ** 2,
               lambda t: (t - 1) * 2 / 3, lambda t: t @ t, lambda t: t.reshape(4),
               lambda t: t.unsqueeze(0).expand(3, 2, 2), lambda t: t.gather(1, index),
               lambda t: torch.stack([t, t]), lambda t: torch.cat([t, t]),
               lambda t: torch.where(t > 0, t, -t), lambda t: t.to(torch.float64),
               lambda t: t[0], lambda t: torch.einsum("ij,jk->ik", t, t),
               lambda t: torch.zeros_like(t).scatter_(1, index, 1.0),
               lambda t: torch.nn.functional.softmax(t, 0)):
        fn(x)
    for reduce in (torch.sum, torch.mean, torch.amax, torch.logsumexp, torch.var):
        reduce(x, 0, keepdim=True)
    torch.autograd.grad((torch.sigmoid(leaf) * 2).sum(), leaf)


_warm_up()
