"""The judge's outer time limit on one test (its own code included), on every platform.

A request to the executor has its own deadline; this guard is for the judge's side of a test
(a reference computed too slowly, a test that waits forever). Where the main thread can take
``SIGALRM`` it is used (it interrupts blocking calls too); elsewhere (Windows, or a test run
off the main thread) a timer thread raises the exception in the test's thread between two
bytecodes, which stops any Python loop.
"""

from __future__ import annotations

import ctypes
import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

__all__ = ["OuterTimeout", "time_limit"]


class OuterTimeout(Exception):
    """A test ran past its time limit."""

    seconds: float = 0.0

    def __init__(self, seconds: float | None = None) -> None:
        if seconds is not None:
            self.seconds = seconds
        super().__init__(f"the test ran past its time limit of {self.seconds:g} s")


@contextmanager
def time_limit(seconds: float) -> Iterator[None]:
    """Raise OuterTimeout in this thread if the block runs longer than ``seconds``."""
    if seconds <= 0:
        yield
        return
    on_main = threading.current_thread() is threading.main_thread()
    if on_main and hasattr(signal, "SIGALRM") and hasattr(signal, "setitimer"):
        with _alarm(seconds):
            yield
    else:
        with _async_raise(seconds):
            yield


@contextmanager
def _alarm(seconds: float) -> Iterator[None]:
    def expired(signum: int, frame: Any) -> None:
        raise OuterTimeout(seconds)

    previous = signal.signal(signal.SIGALRM, expired)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


@contextmanager
def _async_raise(seconds: float) -> Iterator[None]:
    """A timer thread that raises in this thread (CPython's PyThreadState_SetAsyncExc)."""
    target = ctypes.c_ulong(threading.get_ident())
    expired: type[OuterTimeout] = type("TestTimeLimit", (OuterTimeout,), {"seconds": seconds})
    lock = threading.Lock()
    state = {"inside": True, "fired": False}

    def fire() -> None:
        with lock:
            if state["inside"]:
                state["fired"] = True
                ctypes.pythonapi.PyThreadState_SetAsyncExc(target, ctypes.py_object(expired))

    timer = threading.Timer(seconds, fire)
    timer.daemon = True
    timer.start()
    delivered = False
    try:
        yield
    except expired:
        delivered = True
        raise
    finally:
        with lock:
            state["inside"] = False
            timer.cancel()
        if state["fired"] and not delivered:
            # Fired as the block ended: take it here, where it stops nothing. Never clear it
            # with SetAsyncExc(..., NULL): CPython 3.11 then leaves its interpreter-wide
            # async-exception flag set, and every later bytecode takes the slow path (a
            # profile hook then spins for ever).
            try:
                for _ in range(1_000_000):
                    pass
            except expired:
                pass
