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

The modes run only for a list they can see something of (each watches the other), and a
list's decisions are made once per executor (``_Plan``): the modes cost microseconds per
operator, the most of what the recorder costs.

A hit is ``{"rule", "call", "line"}``: what was reached, the Python call that reached it and
the line of the student's file; the judge words the message (``grader.wire.rules``).
"""

from __future__ import annotations

import sys
import threading
import types
from collections.abc import Callable, Sequence
from typing import Any

import torch
import torch._library.simple_registry as _simple_registry
from torch.overrides import TorchFunctionMode
from torch.utils._python_dispatch import TorchDispatchMode, _get_current_dispatch_mode

from grader.executor import pynames
from grader.executor.pynames import WRAPPERS, known_name, public_name, targets
from grader.wire import rules
from grader.wire.rules import PSEUDO, RECORDER_OFF, Rules

__all__ = ["DERIVATIVE_LIST", "Recording", "operators_reached", "warm_up"]

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


_OP_NAMES: dict[int, tuple[Any, tuple[str, str]]] = {}
_OVERLOAD = torch._ops.OpOverload
_UNSEEN = "<not yet seen>"  # compared by identity: no rule is this very string


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


def _transform_name() -> str:
    interpreter = torch._C._functorch.peek_interpreter_stack()
    key = interpreter.key().name.lower() if interpreter is not None else "transform"
    return f"torch.func.{key}"


class _Plan:
    """What one forbidden list needs at run time, resolved once per list (in the template for
    the lists the warm-up knows, so each executor inherits them): its rules split by kind,
    its Python targets, each torch function and operator decided at its first sight (matching
    names against patterns costs microseconds). A request's own state lives in its
    ``Recording``."""

    def __init__(self, patterns: tuple[str, ...]) -> None:
        self.rules = rules.split_rules(patterns)
        pseudo = self.rules.pseudo
        self.targets = targets(self.rules.python, pseudo == frozenset(PSEUDO)) \
            if self.rules.python else None
        self.functorch = "autograd.functorch" in pseudo
        self.forward_ad = "autograd.forward_ad" in pseudo
        self.engine = "autograd.backward" in pseudo
        self.watch_python = self.targets is not None and self.targets.watches_python
        # The modes only where they can see something of the list: an operator or pseudo-
        # operator, or a Python name that is a torch function (each mode watches the other).
        self.modes = bool(self.rules.aten or pseudo) or \
            (self.targets is not None and self.targets.seen_by_torch_function)
        # id(torch function or operator) -> its (rule, call) hits, or the rule it hits; the
        # objects are kept alive in ``seen``, so no other object gets one of these ids
        self.calls: dict[int, tuple[tuple[str, str], ...]] = {}
        self.ops: dict[int, str | None] = {}
        self.seen: list[Any] = []

    def call_hits(self, func: Any) -> tuple[tuple[str, str], ...]:
        """The (rule, call) hits of a torch function the student's line calls, decided once
        per function and list where the function lives on."""
        owner = pynames.cache_owner(func)
        known = self.calls.get(id(owner)) if owner is not None else None
        if known is not None:
            return known
        hits: list[tuple[str, str]] = []
        name = self.targets.match(func) if self.targets is not None else None
        if name:
            hits.append((name, name))
        if self.rules.aten and isinstance(func, _OP_TYPES):
            rule = self.op_rule(func)
            if rule:
                hits.append((rule, public_name(func)))
        if self.forward_ad and (func is _DUAL_FUNCS[0] or func is _DUAL_FUNCS[1]):
            hits.append(("autograd.forward_ad", public_name(func)))
        decided = tuple(hits)  # () when none: the one empty tuple, shared
        if owner is not None:
            self.calls[id(owner)] = decided
            self.seen.append(owner)
        return decided

    def op_rule(self, func: Any) -> str | None:
        """The rule an operator hits (None: none), decided once per operator and list."""
        rule = self.ops.get(id(func), _UNSEEN)
        if rule is _UNSEEN:
            names = _op_names(func)
            rule = names[0] if rules.match(names, self.rules.aten) else None
            if names[0] == _FORWARD_AD_OP and self.forward_ad:
                rule = "autograd.forward_ad"
            self.ops[id(func)] = rule
            self.seen.append(func)  # kept alive: no other operator gets its id
        return rule


_PLANS: dict[tuple[str, ...], _Plan] = {}
_IDLE = _Plan(())  # what modes outside a window are bound to


def _plan(patterns: tuple[str, ...]) -> _Plan:
    """The plan of a list, shared by every order and repetition of the same patterns."""
    plan = _PLANS.get(patterns)
    if plan is None:
        key = tuple(sorted(set(patterns)))
        plan = _PLANS.get(key) or _Plan(key)
        if len(_PLANS) > 256:  # lists come from the manifest: a handful per homework
            _PLANS.clear()
        _PLANS[key] = _PLANS[patterns] = plan
    return plan


class Recording:
    """What one request's student code reached, for one forbidden list (made once per
    request; ``active()`` opens each window: construction, each forward, a call)."""

    def __init__(self, patterns: Sequence[str], filename: str) -> None:
        self.plan = _plan(tuple(patterns))
        self.rules: Rules = self.plan.rules
        self.filename = filename
        self.used: list[dict[str, Any]] = []
        self.used_rules: set[str] = set()
        self._inits: list[tuple[type, Any, Any]] | None = None
        self._thread = threading.get_ident()
        self._window: tuple[tuple[_CallMode, _OpMode] | None, Any] | None = None

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
                    if callee.f_code.co_filename not in WRAPPERS:
                        return frame.f_lineno, callee
                return frame.f_lineno, None
            chain.append(frame)
            frame = frame.f_back
        return None, None

    def op_hit(self, rule: str) -> None:
        """Record an operator's hit with the torch function running, the "call" that reached
        it: found on the stack only on a hit, the torch-function mode keeps no record."""
        if rule in self.used_rules:
            return
        frame = sys._getframe(1) if threading.get_ident() == self._thread else \
            sys._current_frames().get(self._thread)
        while frame is not None and frame.f_code is not _CALL_HANDLER:
            frame = frame.f_back
        self.hit(rule, public_name(frame.f_locals["func"]) if frame is not None else None)

    # -- the window ---------------------------------------------------------------------------
    def active(self) -> Recording:
        """Record what the student's code reaches inside the ``with`` block."""
        return self

    def __enter__(self) -> None:
        plan = self.plan
        if not plan.rules:
            return
        if self._window is not None:
            raise RuntimeError("a recording window is already open")
        self._thread = threading.get_ident()
        if plan.targets is not None and plan.targets.classes and self._inits is None:
            self._inits = pynames.init_hooks(plan.targets.classes, self.hit)
        pynames.hook_inits(self._inits)
        modes = self._enter_modes() if plan.modes else None
        profile = pynames.profile_on(plan.targets, self.filename, self.hit, self.used_rules) \
            if plan.targets is not None and plan.watch_python else None
        self._window = (modes, profile)

    def _enter_modes(self) -> tuple[_CallMode, _OpMode]:
        calls, ops = _FREE_MODES.pop() if _FREE_MODES else (_CallMode(), _OpMode())
        calls.bind(self)
        ops.bind(self)
        try:
            calls.__enter__()
            try:
                ops.__enter__()
            except BaseException:
                calls.__exit__(None, None, None)
                raise
        except BaseException:
            self._release((calls, ops))
            raise
        return calls, ops

    def __exit__(self, *exc: object) -> None:
        if self._window is None:
            return
        modes, profile = self._window
        self._window = None
        intact = False
        try:
            if profile is not None:
                pynames.profile_off(profile, self.hit)
            intact = modes is None or self._check_stacks(*modes)
        finally:
            try:
                if modes is not None:
                    try:
                        modes[1].__exit__(None, None, None)
                    finally:
                        modes[0].__exit__(None, None, None)
            finally:
                self._release(modes, reuse=intact)

    def _release(self, modes: tuple[_CallMode, _OpMode] | None, *, reuse: bool = True) -> None:
        """Undo the window's class hooks and give its modes back for the next window. Modes
        whose stack the submission changed may still be on it: they stay bound to this
        recording and are never reused."""
        pynames.unhook_inits(self._inits)
        if modes is not None and reuse:
            for mode in modes:
                mode.bind(None)
            _FREE_MODES.append(modes)

    def _check_stacks(self, calls: TorchFunctionMode, ops: TorchDispatchMode) -> bool:
        """Whether our modes are still on top as the window closes: a submission that popped
        them ran unseen (a hit)."""
        intact = True
        if _get_current_dispatch_mode() is not ops:
            self.hit(RECORDER_OFF, "a change of torch's dispatch-mode stack")
            intact = False
        depth = torch._C._len_torch_function_stack()
        if depth < 1 or torch._C._get_function_stack_at(depth - 1) is not calls:
            self.hit(RECORDER_OFF, "a change of torch's function-mode stack")
            intact = False
        return intact


class _CallMode(TorchFunctionMode):
    """The torch functions a student's line calls (only the outermost: inside a handler the
    mode is off), checked against the list's Python names."""

    def __init__(self) -> None:
        super().__init__()
        self.bind(None)

    def bind(self, rec: Recording | None) -> None:
        """Record for ``rec`` (its window opens), or for nobody (it closed)."""
        plan = rec.plan if rec is not None else _IDLE
        self.rec: Any = rec
        self.plan, self.calls, self.functorch = plan, plan.calls, plan.functorch

    def __torch_function__(self, func: Any, types_: Any, args: Any = (), kwargs: Any = None) -> Any:
        hits = self.calls.get(id(func))
        if hits is None:
            hits = self.plan.call_hits(func)
        if hits:
            for rule, call in hits:
                self.rec.hit(rule, call)
        if self.functorch and _functorch_active():
            self.rec.hit("autograd.functorch", _transform_name())
        if _key_excluded(_PYTHON_KEY):
            self.rec.hit(RECORDER_OFF, "torch._C._DisableTorchDispatch")
        return func(*args, **kwargs) if kwargs else func(*args)


class _OpMode(TorchDispatchMode):
    """Every ATen operator reached, the autograd engine and forward-mode AD."""

    def __init__(self) -> None:
        super().__init__()
        self.bind(None)

    def bind(self, rec: Recording | None) -> None:
        """Record for ``rec`` (its window opens), or for nobody (it closed)."""
        plan = rec.plan if rec is not None else _IDLE
        self.rec: Any = rec
        self.plan, self.ops, self.engine = plan, plan.ops, plan.engine

    @classmethod
    def _should_skip_dynamo(cls) -> bool:
        """No dynamo guard around the handler: it would import torch._dynamo (a second) in
        every executor, and wrap each operator in another call."""
        return False

    def __torch_dispatch__(self, func: Any, types_: Any, args: Any = (), kwargs: Any = None) -> Any:
        rule = self.ops.get(id(func), _UNSEEN)
        if rule is _UNSEEN:
            rule = self.plan.op_rule(func)
        if rule is not None:
            self.rec.op_hit(rule)
        if self.engine and _graph_task_id() != -1:
            self.rec.op_hit("autograd.backward")
        if _tf_all_disabled():
            self.rec.hit(RECORDER_OFF, "torch._C.DisableTorchFunction")
        # An OpOverload runs through its C++ handle, one Python call less.
        run = func._op if type(func) is _OVERLOAD else func
        return run(*args, **kwargs) if kwargs else run(*args)


def _dispatch_rule(op: Any, torch_dispatch_class: type,
                   _find: Any = _simple_registry.find_torch_dispatch_rule,
                   ) -> Callable[..., Any] | None:
    """torch's lookup of a ``torch.library.register_torch_dispatch`` rule, which runs instead
    of a mode's ``__torch_dispatch__`` (asked before each operator a mode sees): none counts
    for the recorder's mode, so a rule registered for it cannot hide an operator from it, and
    the mode skips a registry lookup per operator. torch keeps the function it finds at its
    first Python-mode dispatch: this module is imported before any (in the template)."""
    return None if torch_dispatch_class is _OpMode else _find(op, torch_dispatch_class)


_simple_registry.find_torch_dispatch_rule = _dispatch_rule

_CALL_HANDLER = _CallMode.__torch_function__.__code__  # its frames hold the running call

# The modes of closed windows, for the next: made once (in the template, by the warm-up) and
# bound to each window's recording; a window opened inside another gets a pair of its own.
_FREE_MODES: list[tuple[_CallMode, _OpMode]] = []


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


def warm_up(run: Callable[[], object], lists: Sequence[Sequence[str]] = ()) -> None:
    """Run ``run`` in a window of the derivative list, of a list that matches every operator
    and of each of the homework's ``lists``, before the template forks: each executor then
    inherits what their first windows cost (the modes' first use, torch's registration of each
    operator for Python dispatch at its first visit, each list's plan and its decisions about
    those operators). ``run`` must stay forward only (a backward pass would start autograd's
    device threads, see preload)."""
    for patterns in (DERIVATIVE_LIST, ("aten.*", "autograd.*", "torch.nn.functional.softmax",
                                       "torch.broadcast_shapes"), *lists):
        with Recording(patterns, filename=__file__).active():
            run()
