"""The ways out of the recorder's sight, each followed or closed: other threads, other
processes, foreign code.

The recorder's modes live on the thread that opened the window (torch keeps them per thread),
so code run elsewhere reaches its kernels unseen. Here:

* **threads**: a thread started inside a window gets modes of its own, bound to that window's
  recording (its operators are recorded like the caller's, with its own lines); a thread of
  the submission's still alive when a window closes is a hit, since it can work unseen before
  and after the call (a pool left open, a thread started at import);
* **processes** (``os.fork``, ``multiprocessing``, ``subprocess``, ``os.system``, a spawn): any
  start of one inside a window is a hit;
* **foreign code** (``ctypes``): any use inside a window is a hit;
* **the dispatch mode taken off torch's stack** by code that is not torch's own
  (``torch.utils._python_dispatch._disable_current_modes`` and its kin, which take both modes
  off at once, so neither mode can see the other gone): a hit. (Taking one mode off is seen
  by the other, ``grader.executor.recorder``.)

Threads are followed by wrapping ``_thread``'s start functions (``threading`` holds its own
reference to them: both are wrapped); processes and ctypes are seen by an audit hook (PEP 578),
which no code in the process can remove, and ``_posixsubprocess.fork_exec`` (which
``multiprocessing`` calls without an audit event) is wrapped. ``install`` runs in each
executor before it imports the submission (not in the template, which the batch's zygote
shares with the judges).

Executor side: standard library and the wire (a window is anything with ``hit`` and
``follow``).
"""

from __future__ import annotations

import _thread
import contextlib
import functools
import sys
import threading
from collections.abc import Callable
from typing import Any, Protocol

from grader.wire.rules import RECORDER_OFF
from grader.wire.rules import RECORDER_OUTSIDE as OUTSIDE

__all__ = ["Window", "close", "guard_mode_switches", "install", "open_"]


_EVENTS = {
    "os.fork": "starts a process (os.fork)",
    "os.forkpty": "starts a process (os.forkpty)",
    "os.posix_spawn": "starts a program (os.posix_spawn)",
    "os.spawn": "starts a program (os.spawn*)",
    "os.exec": "replaces the executor's program (os.exec*)",
    "os.system": "starts a program (os.system)",
    "os.startfile": "starts a program (os.startfile)",
    "subprocess.Popen": "starts a program (subprocess)",
    "_winapi.CreateProcess": "starts a program (CreateProcess)",
    "ctypes.dlopen": "loads foreign code (ctypes)",
    "ctypes.dlsym": "calls foreign code (ctypes)",
    "ctypes.dlsym/handle": "calls foreign code (ctypes)",
    "ctypes.call_function": "calls foreign code (ctypes)",
    "ctypes.cdata": "reads memory through ctypes",
    "ctypes.cdata/buffer": "reads memory through ctypes",
    "ctypes.string_at": "reads memory through ctypes",
    "ctypes.wstring_at": "reads memory through ctypes",
    "ctypes.addressof": "reads memory through ctypes",
}
_THREAD_STARTS = ("start_new_thread", "start_new", "start_joinable_thread")
# What takes torch's dispatch modes off its stack, by (module, name); wherever else a module
# imported one of them by name, that name is guarded too.
_MODE_SWITCHES = (("torch._C", "_pop_torch_dispatch_stack"),
                  ("torch.utils._python_dispatch", "_pop_mode"),
                  ("torch.utils._python_dispatch", "_pop_mode_temporarily"),
                  ("torch.utils._python_dispatch", "_disable_current_modes"))


class Window(Protocol):
    """What this module needs of a recording: a hit, and modes for another thread."""

    filename: str

    def hit(self, rule: str, call: str | None, line: int | None = None) -> None: ...

    def follow(self) -> contextlib.AbstractContextManager[None]: ...


_OPEN: list[Window] = []  # the windows open now, innermost last (all on one thread)
# threads started in this process (after install) that have not ended: where they started
_live: dict[int, list[tuple[str, int]]] = {}
_ids = iter(range(1 << 62))
_done: set[str] = set()  # what of install and guard_mode_switches has run in this process


def open_(window: Window) -> None:
    """A window opens: what starts a thread, a process or foreign code is its business now."""
    _OPEN.append(window)


def close(window: Window) -> None:
    """A window closes; a thread of the submission's still running is a hit."""
    if window in _OPEN:
        _OPEN.remove(window)
    if _live:
        lines = [line for origin in list(_live.values()) for name, line in origin
                 if name == window.filename]
        count = len(_live)
        window.hit(OUTSIDE, f"leaves {count} thread{'s' * (count > 1)} running beside the call "
                            "(a thread must end before the call returns)",
                   lines[0] if lines else None)


def _audit(event: str, args: tuple[Any, ...]) -> None:
    if _OPEN and event in _EVENTS:
        _OPEN[-1].hit(OUTSIDE, _EVENTS[event])


def _run(key: int, window: Window | None, function: Callable[..., Any], *args: Any,
         **kwargs: Any) -> Any:
    """A started thread's body: under modes of its own if a window was open at its start."""
    try:
        if window is None:
            return function(*args, **kwargs)
        with window.follow():
            return function(*args, **kwargs)
    finally:
        _live.pop(key, None)


def _origin(frame: Any) -> list[tuple[str, int]]:
    """The (file, line) of each frame that started a thread, innermost first."""
    found: list[tuple[str, int]] = []
    while frame is not None and len(found) < 64:
        found.append((frame.f_code.co_filename, frame.f_lineno))
        frame = frame.f_back
    return found


def _followed(start: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(start)
    def follow(function: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        window = _OPEN[-1] if _OPEN else None
        key = next(_ids)
        _live[key] = _origin(sys._getframe(1))
        try:
            return start(functools.partial(_run, key, window, function), *args, **kwargs)
        except BaseException:
            _live.pop(key, None)
            raise
    return follow


def _forbidden_fork_exec(real: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(real)
    def fork_exec(*args: Any, **kwargs: Any) -> Any:
        if _OPEN:
            _OPEN[-1].hit(OUTSIDE, "starts a program (multiprocessing)")
        return real(*args, **kwargs)
    return fork_exec


def install() -> None:
    """Follow threads, watch processes and foreign code, once per process."""
    if "install" in _done:
        return
    _done.add("install")
    sys.addaudithook(_audit)
    for name in _THREAD_STARTS:
        real = getattr(_thread, name, None)
        if real is None:
            continue
        wrapped = _followed(real)
        setattr(_thread, name, wrapped)
        for attr in (f"_{name}", name):
            if getattr(threading, attr, None) is real:
                setattr(threading, attr, wrapped)
    try:
        import _posixsubprocess
    except ImportError:  # Windows: CreateProcess is audited
        return
    _posixsubprocess.fork_exec = _forbidden_fork_exec(_posixsubprocess.fork_exec)


def _guarded(real: Callable[..., Any], name: str, torch_dir: str) -> Callable[..., Any]:
    """``real``, a hit when code that is not torch's own calls it inside a window."""
    @functools.wraps(real)
    def guarded(*args: Any, **kwargs: Any) -> Any:
        if _OPEN and not sys._getframe(1).f_code.co_filename.startswith(torch_dir):
            _OPEN[-1].hit(RECORDER_OFF, name)
        return real(*args, **kwargs)
    return guarded


def guard_mode_switches() -> None:
    """Guard what takes the dispatch modes off torch's stack, in every module that holds it
    (once, before the template forks: it walks every module loaded)."""
    torch = sys.modules.get("torch")
    if torch is None or "guard" in _done:
        return
    _done.add("guard")
    torch_dir = str(getattr(torch, "__file__", None) or "<no torch>").rsplit("__init__.py", 1)[0]
    reals = {}
    for module_name, name in _MODE_SWITCHES:
        real = getattr(sys.modules.get(module_name), name, None)
        if real is not None:
            reals[id(real)] = (real, _guarded(real, f"{module_name}.{name}", torch_dir))
    for module_name, module in list(sys.modules.items()):
        if module_name.startswith("grader."):
            continue  # the recorder's own references stay the real ones
        names = getattr(module, "__dict__", None)
        if not isinstance(names, dict):
            continue
        for key, value in list(names.items()):
            found = reals.get(id(value))
            if found is not None and found[0] is value:
                names[key] = found[1]

