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
the line of the student's file; the judge words the message (``grader.forbidden_rules``).
"""

from __future__ import annotations

import fnmatch
import functools
import importlib
import inspect
import os
import sys
import threading
import types
from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack, contextmanager
from typing import Any

import torch
from torch.overrides import TorchFunctionMode
from torch.utils._python_dispatch import TorchDispatchMode, _get_current_dispatch_mode

from grader import forbidden_rules
from grader.forbidden_rules import RECORDER_OFF, Rules

__all__ = ["Recording", "operators_reached"]

_GRAD_MODE = {"no_grad", "enable_grad", "set_grad_enabled", "inference_mode"}
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


def _resolve(name: str) -> Any:
    """The object a dotted name refers to, or None."""
    parts = name.split(".")
    for cut in range(len(parts), 0, -1):
        try:
            obj: Any = importlib.import_module(".".join(parts[:cut]))
        except ImportError:
            continue
        for attr in parts[cut:]:
            obj = getattr(obj, attr, None)
            if obj is None:
                return None
        return obj
    return None


def _expand(name: str) -> list[tuple[str, Any]]:
    """``(name, object)`` for a dotted name, or for each attribute a wildcard in its last part
    matches (``torch.nn.functional.*pool*``). ``MODULE.*`` stands for the module's own public
    names (its ``__all__``, else what it defines), not what it imported from elsewhere."""
    head, _, last = name.rpartition(".")
    if not any(c in last for c in "*?["):
        obj = _resolve(name)
        return [(name, obj)] if obj is not None else []
    owner = _resolve(head)
    if owner is None:
        return []
    if last == "*" and isinstance(owner, types.ModuleType):
        public = getattr(owner, "__all__", None)
        attrs = [a for a in dir(owner) if not a.startswith("_")
                 and (a in public if public is not None
                      else str(getattr(getattr(owner, a), "__module__", "")).startswith(head))]
    else:
        attrs = [a for a in dir(owner) if fnmatch.fnmatchcase(a, last)]
    return [(f"{head}.{a}", getattr(owner, a)) for a in attrs if a not in _GRAD_MODE]


def _sees_torch_function(func: types.FunctionType) -> bool:
    """Whether a Python function hands its calls to torch-function modes (F.softmax does)."""
    return "handle_torch_function" in func.__code__.co_names


class _Targets:
    """Forbidden Python names resolved: torch functions by id, module prefixes, classes, and
    the code objects of pure-Python functions the torch-function mode cannot see."""

    def __init__(self, names: Sequence[str]) -> None:
        self.by_id: dict[int, str] = {}
        self.prefixes: list[str] = []
        self.classes: list[tuple[type, str]] = []
        self.codes: dict[types.CodeType, str] = {}
        for name in names:
            head, _, last = name.rpartition(".")
            if last == "*":
                self.prefixes.append(head)
                if head == "torch.optim":
                    self.classes.append((torch.optim.Optimizer, name))
            for full, obj in _expand(name):
                self._add(obj, full, wildcard=last == "*")

    def _add(self, obj: Any, name: str, *, wildcard: bool) -> None:
        if isinstance(obj, type):
            if not wildcard:
                self.classes.append((obj, name))
        elif isinstance(obj, types.ModuleType):
            return
        else:
            self.by_id.setdefault(id(obj), name)
            if inspect.isfunction(obj) and not _sees_torch_function(obj):
                self.codes.setdefault(obj.__code__, name)

    def match(self, func: Any) -> str | None:
        """The forbidden name of a torch function, or None."""
        hit = self.by_id.get(id(func))
        if hit:
            return hit
        module = getattr(func, "__module__", None) or ""
        for prefix in self.prefixes:
            if module == prefix or module.startswith(prefix + "."):
                return f"{module}.{getattr(func, '__name__', '?')}"
        return None

    def python_frame(self, frame: types.FrameType) -> str | None:
        """The forbidden name of a pure-Python function's frame, or None."""
        code = frame.f_code
        hit = self.codes.get(code)
        if hit or not self.prefixes:
            return hit
        module = str(frame.f_globals.get("__name__", ""))
        if module.endswith(".grad_mode") or code.co_qualname.split(".")[0] in _GRAD_MODE:
            return None
        for prefix in self.prefixes:
            if module == prefix or module.startswith(prefix + "."):
                return f"{module}.{code.co_qualname}"
        return None

    @property
    def watches_python(self) -> bool:
        return bool(self.codes or self.prefixes)


@functools.lru_cache(maxsize=64)
def _targets(names: tuple[str, ...]) -> _Targets:
    """Resolved targets, once per forbidden list (resolving imports costs milliseconds)."""
    return _Targets(names)


@functools.cache
def _public_names() -> dict[int, tuple[Any, str]]:
    """The public dotted name of torch's callables and their code, by id (built at the first
    hit only; each entry keeps its object alive, so that no id is reused)."""
    names: dict[int, tuple[Any, str]] = {}
    for space in ("torch.nn.functional", "torch.Tensor", "torch", "torch.linalg", "torch.special",
                  "torch.fft", "torch.autograd", "torch.autograd.functional",
                  "torch.autograd.forward_ad", "torch.func", "torch.nn"):
        owner = _resolve(space)
        for attr in dir(owner):
            obj = getattr(owner, attr, None)
            if callable(obj) and not attr.startswith("__"):
                names.setdefault(id(obj), (obj, f"{space}.{attr}"))
                code = getattr(obj, "__code__", None)
                if code is not None:
                    names.setdefault(id(code), (code, f"{space}.{attr}"))
    return names


def _known_name(obj: Any) -> str | None:
    entry = _public_names().get(id(obj))
    return entry[1] if entry is not None and entry[0] is obj else None


def public_name(func: Any) -> str:
    """How a student would have written a torch callable: ``torch.nn.functional.softmin``,
    ``torch.Tensor.softmax``, ``torch._softmax``, ``torch.ops.aten._softmax``."""
    known = _known_name(func)
    if known:
        return known
    if isinstance(func, torch._ops.OpOverload):
        return f"torch.ops.{func._schema.name.replace('::', '.')}.{func._overloadname}"
    if isinstance(func, torch._ops.OpOverloadPacket):
        return f"torch.ops.{func._qualified_op_name.replace('::', '.')}"
    module = getattr(func, "__module__", None) or "torch"
    qualname = str(getattr(func, "__qualname__", getattr(func, "__name__", repr(func))))
    if qualname.startswith("TensorBase."):
        return f"torch.Tensor.{qualname.removeprefix('TensorBase.')}"
    return f"{module}.{qualname.removeprefix('_VariableFunctionsClass.')}"


_OP_NAMES: dict[Any, tuple[str, str]] = {}


def _op_names(func: Any) -> tuple[str, ...]:
    """``("aten.NAME", "aten.NAME.OVERLOAD")`` of an operator (one name for a packet)."""
    names = _OP_NAMES.get(func)
    if names is None:
        if isinstance(func, torch._ops.OpOverloadPacket):
            packet = func._qualified_op_name.replace("::", ".")
            names = (packet, packet)
        else:
            packet = func._schema.name.replace("::", ".")
            names = (packet, f"{packet}.{func._overloadname}")
        _OP_NAMES[func] = names
    return names


@functools.lru_cache(maxsize=64)
def _op_rules(patterns: tuple[str, ...], forward_ad: bool) -> dict[Any, str | None]:
    """Operator -> the rule it hits (or None), filled as operators are first seen: matching
    an operator's names against a list costs microseconds, so it is done once per list."""
    return {}


def _transform_name() -> str:
    interpreter = torch._C._functorch.peek_interpreter_stack()
    key = interpreter.key().name.lower() if interpreter is not None else "transform"
    return f"torch.func.{key}"


class Recording:
    """What one request's student code reached, for one forbidden list (made once per
    request; ``active()`` wraps each window: construction, each forward, a call)."""

    def __init__(self, patterns: Sequence[str], filename: str) -> None:
        self.rules: Rules = forbidden_rules.split_rules(patterns)
        self.filename = filename
        self.used: list[dict[str, Any]] = []
        self.current: Any = None  # the outermost torch function running, while one runs
        self.targets = _targets(self.rules.python) if self.rules.python else None
        self.used_rules: set[str] = set()
        self._ops_seen: set[Any] = set()
        self._op_rule = _op_rules(self.rules.aten, "autograd.forward_ad" in self.rules.pseudo)
        self._thread = threading.get_ident()

    # -- hits ---------------------------------------------------------------------------------
    def hit(self, rule: str, call: str | None) -> None:
        """Record a forbidden use once per rule, with the student's line that reached it."""
        if rule in self.used_rules:
            return
        self.used_rules.add(rule)
        line, callee = self._student_frame()
        if call is None and callee is not None:
            call = _known_name(callee.f_code) or \
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

    def check_op(self, func: Any) -> None:
        """Record an operator if the list forbids it (decided once per operator)."""
        if func in self._op_rule:
            rule = self._op_rule[func]
        else:
            names = _op_names(func)
            rule = names[0] if forbidden_rules.match(names, self.rules.aten) else None
            if names[0] == _FORWARD_AD_OP and "autograd.forward_ad" in self.rules.pseudo:
                rule = "autograd.forward_ad"
            self._op_rule[func] = rule
        if rule:
            self.hit(rule, public_name(self.current) if self.current is not None else None)

    # -- the window ---------------------------------------------------------------------------
    @contextmanager
    def active(self) -> Iterator[None]:
        """Record what the student's code reaches inside the block."""
        if not self.rules:
            yield
            return
        self._thread = threading.get_ident()
        with ExitStack() as stack:
            if self.targets is not None:
                stack.enter_context(_constructions(self, self.targets.classes))
            calls, ops = _CallMode(self), _OpMode(self)
            stack.enter_context(calls)
            stack.enter_context(ops)
            stack.callback(self._check_stacks, calls, ops)
            if self.targets is not None and self.targets.watches_python:
                stack.enter_context(_profiled(self, self.targets))
            yield

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
            rec.current = func
            rec.check_op(func)
        if self.functorch and _functorch_active():
            rec.hit("autograd.functorch", _transform_name())
        if self.forward_ad and func in _DUAL_FUNCS:
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

    def __torch_dispatch__(self, func: Any, types_: Any, args: Any = (), kwargs: Any = None) -> Any:
        rec = self.rec
        if func not in rec._ops_seen:
            rec._ops_seen.add(func)
            rec.check_op(func)
        if self.engine and not self.engine_seen and _graph_task_id() != -1:
            self.engine_seen = True
            current = rec.current
            rec.hit("autograd.backward", public_name(current) if current is not None else None)
        if _tf_all_disabled():
            rec.hit(RECORDER_OFF, "torch._C.DisableTorchFunction")
        return func(*args, **(kwargs or {}))


@contextmanager
def _constructions(rec: Recording, classes: list[tuple[type, str]]) -> Iterator[None]:
    """Record constructions of forbidden classes (and their subclasses) in the block."""
    saved: list[tuple[type, Any]] = []
    for cls, name in classes:
        saved.append((cls, cls.__dict__.get("__init__", None)))
        cls.__init__ = _recording_init(rec, cls, name)  # type: ignore[misc]
    try:
        yield
    finally:
        for cls, original in saved:
            if original is None:
                delattr(cls, "__init__")
            else:
                cls.__init__ = original  # type: ignore[misc]


def _recording_init(rec: Recording, cls: type, name: str) -> Callable[..., None]:
    parent_init = next(base.__dict__["__init__"] for base in cls.__mro__
                       if "__init__" in base.__dict__)

    def __init__(obj: Any, *args: Any, **kwargs: Any) -> None:
        label = name if not name.endswith(".*") else f"{name[:-2]}.{type(obj).__name__}"
        rec.hit(label, label)
        parent_init(obj, *args, **kwargs)

    return __init__


@contextmanager
def _profiled(rec: Recording, targets: _Targets) -> Iterator[None]:
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
        sys.setprofile(previous)


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
