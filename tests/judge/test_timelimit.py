"""The judge's outer time limit: SIGALRM where the main thread has it, a timer thread that
raises in the test's thread elsewhere (Windows, or off the main thread)."""

from __future__ import annotations

import threading
import time

import pytest

from grader.judge import timelimit
from grader.judge.timelimit import OuterTimeout, time_limit


def _spin(seconds: float) -> None:
    end = time.monotonic() + seconds
    while time.monotonic() < end:  # a Python loop: interruptible between bytecodes
        pass


def test_the_alarm_stops_a_loop_on_the_main_thread() -> None:
    started = time.monotonic()
    with pytest.raises(OuterTimeout, match="time limit of 0.2 s"):
        with time_limit(0.2):
            _spin(5)
    assert time.monotonic() - started < 2


def test_without_sigalrm_a_timer_thread_raises_in_the_test(monkeypatch: pytest.MonkeyPatch,
                                                           ) -> None:
    monkeypatch.delattr(timelimit.signal, "SIGALRM")  # as on Windows
    started = time.monotonic()
    with pytest.raises(OuterTimeout, match="time limit of 0.2 s"):
        with time_limit(0.2):
            _spin(5)
    assert time.monotonic() - started < 2


def test_off_the_main_thread_the_limit_still_holds() -> None:
    caught: list[BaseException] = []

    def run() -> None:
        try:
            with time_limit(0.2):
                _spin(5)
        except OuterTimeout as err:
            caught.append(err)

    worker = threading.Thread(target=run)
    worker.start()
    worker.join(10)
    assert len(caught) == 1


def test_a_block_that_ends_in_time_is_left_alone(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delattr(timelimit.signal, "SIGALRM")
    with time_limit(0.3):
        _spin(0.05)
    _spin(0.5)  # no late exception after the block


_AFTER_A_TIMEOUT = """
import sys
from grader.judge import timelimit
del timelimit.signal.SIGALRM  # as on Windows: the timer thread raises in the main thread
try:
    with timelimit.time_limit(0.1):
        while True:
            pass
except timelimit.OuterTimeout:
    pass
sys.setprofile(lambda *args: None)
def call():
    return 1
for _ in range(1000):
    call()
sys.setprofile(None)
print("done")
"""


def test_a_timeout_leaves_nothing_pending_in_the_interpreter() -> None:
    # Clearing a delivered asynchronous exception with SetAsyncExc(..., NULL) leaves CPython
    # 3.11's interpreter-wide flag set: every later bytecode takes the slow path, and a
    # profile hook spins for ever. In a fresh interpreter, with a deadline.
    import subprocess
    import sys

    done = subprocess.run([sys.executable, "-c", _AFTER_A_TIMEOUT], capture_output=True,
                          text=True, timeout=60)
    assert done.returncode == 0 and done.stdout.strip() == "done", done.stderr[-2000:]
