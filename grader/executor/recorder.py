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
list's decisions are made once per executor (``grader.executor.plans``): the modes cost microseconds per
operator, the most of what the recorder costs.

A hit is ``{"rule", "call", "line"}``: what was reached, the Python call that reached it and
the line of the student's file; the judge words the message (``grader.wire.rules``).
"""

from __future__ import annotations

import contextlib
import sys
import threading
import types
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import torch
import torch._library.simple_registry as _simple_registry
from torch.overrides import TorchFunctionMode
from torch.utils._python_dispatch import TorchDispatchMode, _get_current_dispatch_mode

from grader.executor import escapes, pynames
from grader.executor.plans import IDLE, OVERLOAD, UNSEEN, plan, transform_name
from grader.executor.pynames import WRAPPERS, known_name, public_name
from grader.wire.rules import RECORDER_OFF, Rules

__all__ = ["DERIVATIVE_LIST", "Recording", "operators_reached", "warm_up"]

_graph_task_id = torch._C._current_graph_task_id
_functorch_active = torch._C._are_functorch_transforms_active
_key_excluded = torch._C._dispatch_tls_is_dispatch_key_excluded
_PYTHON_KEY = torch._C.DispatchKey.Python
_tf_all_disabled = torch._C._is_torch_function_all_disabled
# Frames of the recorder and of torch's mode plumbing are never the "call" a student made;
# those of torch's decorators are skipped to reach the function they wrap.
_PLUMBING = (__file__, torch.overrides.__file__, torch._ops.__file__,
             sys.modules[TorchDispatchMode.__module__].__file__)


class Recording:
    """What one request's student code reached, for one forbidden list (made once per
    request; ``active()`` opens each window: construction, each forward, a call)."""

    def __init__(self, patterns: Sequence[str], filename: str) -> None:
        self.plan = plan(tuple(patterns))
        self.rules: Rules = self.plan.rules
        self.filename = filename
        self.used: list[dict[str, Any]] = []
        self.used_rules: set[str] = set()
        self._inits: list[tuple[type, Any, Any]] | None = None
        self._thread = threading.get_ident()
        self._window: tuple[tuple[_CallMode, _OpMode] | None, Any] | None = None

    # -- hits ---------------------------------------------------------------------------------
    def hit(self, rule: str, call: str | None, line: int | None = None) -> None:
        """Record a forbidden use once per rule, with the student's line that reached it (or
        ``line``, known to the caller)."""
        if rule in self.used_rules:
            return
        self.used_rules.add(rule)
        found, callee = self._student_frame()
        line = found if line is None else line
        if call is None and callee is not None:
            call = known_name(callee.f_code) or \
                f"{callee.f_globals.get('__name__', '?')}.{callee.f_code.co_qualname}"
        self.used.append({"rule": rule, "call": call, "line": line})

    def _student_frame(self) -> tuple[int | None, types.FrameType | None]:
        """The line of the innermost frame in the student's file, and the Python function it
        called (None when that is a builtin, seen only by the recorder). From an autograd
        engine's device thread, the stack is that of the thread that opened the window."""
        found = self._student_frame_in(sys._getframe(1))
        if found[0] is None and threading.get_ident() != self._thread:
            found = self._student_frame_in(sys._current_frames().get(self._thread))
        return found

    def _student_frame_in(self, frame: types.FrameType | None,
                          ) -> tuple[int | None, types.FrameType | None]:
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
        frame = _handler_frame(sys._getframe(1))
        if frame is None and threading.get_ident() != self._thread:
            frame = _handler_frame(sys._current_frames().get(self._thread))
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
        self._window = (modes, self._profile_on())
        escapes.open_(self)

    def _profile_on(self) -> Any:
        plan = self.plan
        return pynames.profile_on(plan.targets, self.filename, self.hit, self.used_rules) \
            if plan.targets is not None and plan.watch_python else None

    @contextlib.contextmanager
    def follow(self) -> Iterator[None]:
        """Record on this thread too (one the student's code started inside the window),
        with modes of its own: torch keeps modes per thread."""
        if not self.plan.rules:
            yield
            return
        modes = _pair() if self.plan.modes else None
        if modes is not None:
            for mode in modes:
                mode.bind(self)
            modes[0].__enter__()
            modes[1].__enter__()
        profile = self._profile_on()
        try:
            yield
        finally:
            if profile is not None:
                pynames.profile_off(profile, self.hit)
            if modes is not None:
                modes[1].__exit__(None, None, None)
                modes[0].__exit__(None, None, None)

    def _enter_modes(self) -> tuple[_CallMode, _OpMode]:
        calls, ops = _FREE_MODES.pop() if _FREE_MODES else _pair()
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
            escapes.close(self)
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
        self.partner: Any = None  # the dispatch mode it watches, and is watched by (``_pair``)
        self.depth = 0  # its handlers running now (torch takes the mode off meanwhile)
        self.bind(None)

    def bind(self, rec: Recording | None) -> None:
        """Record for ``rec`` (its window opens), or for nobody (it closed)."""
        plan = rec.plan if rec is not None else IDLE
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
            self.rec.hit("autograd.functorch", transform_name())
        if _key_excluded(_PYTHON_KEY):
            self.rec.hit(RECORDER_OFF, "torch._C._DisableTorchDispatch")
        ops = self.partner
        if not ops.depth:  # not inside its handler, so it must be on the dispatch stack
            depth = _dispatch_depth()
            if not depth or _dispatch_at(depth - 1) is not ops:
                _check_partner(self.rec, ops, _dispatch_depth, _dispatch_at)
        self.depth += 1
        try:
            return func(*args, **kwargs) if kwargs else func(*args)
        finally:
            self.depth -= 1


class _OpMode(TorchDispatchMode):
    """Every ATen operator reached, the autograd engine and forward-mode AD."""

    def __init__(self) -> None:
        super().__init__()
        self.partner: Any = None  # the function mode of its pair (``_pair``)
        self.depth = 0  # its handlers running now (torch takes the mode off meanwhile)
        self.bind(None)

    def bind(self, rec: Recording | None) -> None:
        """Record for ``rec`` (its window opens), or for nobody (it closed)."""
        plan = rec.plan if rec is not None else IDLE
        self.rec: Any = rec
        self.plan, self.ops, self.engine = plan, plan.ops, plan.engine

    def __enter__(self) -> _OpMode:
        """``TorchDispatchMode.__enter__`` without its Python layers (most of a window's cost
        in a freshly forked executor): the same flags, the same push."""
        flags = _DISPATCH_FLAGS.__dict__
        self.saved_flags = tuple(flags[name] for name in _FLAG_NAMES)
        for name in _FLAG_NAMES:
            flags[name] = True  # the recorder is neither an infra mode nor ignores compiling
        _set_compile_flag(True)  # torch.compile runs nothing compiled inside the window
        _push_dispatch(self)
        return self

    def __exit__(self, *exc: object) -> None:
        if self.rec is not None and sys._getframe(1).f_code.co_filename != __file__:
            self.rec.hit(RECORDER_OFF, "the recorder's own dispatch mode, left by hand")
        flags = _DISPATCH_FLAGS.__dict__
        for name, value in zip(_FLAG_NAMES, self.saved_flags, strict=True):
            flags[name] = value
        _set_compile_flag(self.saved_flags[-1])
        _pop_dispatch(None)

    @classmethod
    def _should_skip_dynamo(cls) -> bool:
        """No dynamo guard around the handler: it would import torch._dynamo (a second) in
        every executor, and wrap each operator in another call."""
        return False

    def __torch_dispatch__(self, func: Any, types_: Any, args: Any = (), kwargs: Any = None) -> Any:
        rule = self.ops.get(id(func), UNSEEN)
        if rule is UNSEEN:
            rule = self.plan.op_rule(func)
        if rule is not None:
            self.rec.op_hit(rule)
        task = _graph_task_id()
        if self.engine and task != -1:
            self.rec.op_hit("autograd.backward")
        if _tf_all_disabled():
            self.rec.hit(RECORDER_OFF, "torch._C.DisableTorchFunction")
        calls = self.partner
        # Outside its handler and outside a backward pass (which runs without function modes),
        # the function mode must be on its stack.
        if not calls.depth and task == -1:
            depth = _function_depth()
            if not depth or _function_at(depth - 1) is not calls:
                _check_partner(self.rec, calls, _function_depth, _function_at)
        # An OpOverload runs through its C++ handle, one Python call less.
        run = func._op if type(func) is OVERLOAD else func
        self.depth += 1
        try:
            return run(*args, **kwargs) if kwargs else run(*args)
        finally:
            self.depth -= 1


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

_DISPATCH_FLAGS = sys.modules[TorchDispatchMode.__module__]
_FLAG_NAMES = ("_is_in_torch_dispatch_mode", "_is_in_non_infra_torch_dispatch_mode",
               "_is_in_any_mode_without_ignore_compile_internals")
_set_compile_flag = _DISPATCH_FLAGS.set_is_in_mode_without_ignore_compile_internals
_push_dispatch, _pop_dispatch = torch._C._push_on_torch_dispatch_stack, \
    torch._C._pop_torch_dispatch_stack
if not all(name in _DISPATCH_FLAGS.__dict__ for name in _FLAG_NAMES):  # another torch: its own
    del _OpMode.__enter__, _OpMode.__exit__

_CALL_HANDLER = _CallMode.__torch_function__.__code__  # its frames hold the running call
_dispatch_depth, _dispatch_at = torch._C._len_torch_dispatch_stack, torch._C._get_dispatch_stack_at
_function_depth, _function_at = torch._C._len_torch_function_stack, torch._C._get_function_stack_at


def _pair() -> tuple[_CallMode, _OpMode]:
    """A function mode and a dispatch mode that watch each other: each, as it runs, checks
    that the other is still on its stack (code that took one off and put it back ran unseen
    by it meanwhile)."""
    calls, ops = _CallMode(), _OpMode()
    calls.partner, ops.partner = ops, calls
    return calls, ops


def _check_partner(rec: Recording, partner: Any, depth: Callable[[], int],
                   at: Callable[[int], Any]) -> None:
    """A hit unless ``partner`` is somewhere on its stack (the student's own modes, such as
    ``with torch.device(...)``, may sit above it)."""
    if not any(at(i) is partner for i in range(depth())):
        rec.hit(RECORDER_OFF, "a recorder mode taken off torch's stack")


def _handler_frame(frame: types.FrameType | None) -> types.FrameType | None:
    """The innermost frame of the function mode's handler on a stack (it holds the call)."""
    while frame is not None and frame.f_code is not _CALL_HANDLER:
        frame = frame.f_back
    return frame

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
