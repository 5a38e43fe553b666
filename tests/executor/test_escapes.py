"""grader.executor.escapes: code run out of the recorder's sight (another thread, another
process, foreign code) is followed or is a hit.

``install`` adds an audit hook, which nothing can remove: each case runs in a fresh
interpreter, as an executor does, and prints its hits. The "student's file" is the script.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

_PRELUDE = """
import json, os, sys, threading, torch
from grader.executor import escapes
from grader.executor.recorder import Recording
escapes.install()
SOFTMAX = ["torch.softmax", "aten.*softmax*"]
x = torch.randn(3, 4)
def window(body, patterns=SOFTMAX):
    rec = Recording(patterns, __file__)
    with rec.active():
        body()
    return [[h["rule"], h["call"], h["line"]] for h in rec.used]
def line(marker):
    lines = open(__file__).read().splitlines()
    return next(i + 1 for i, text in enumerate(lines) if marker in text and "line(" not in text)
"""


@pytest.fixture
def run(tmp_path):
    def run(body: str) -> object:
        """What the script ``body`` (after the prelude) prints last, decoded."""
        return _run(tmp_path / "student.py", body)
    return run


def _run(script: Path, body: str) -> object:
    script.write_text(_PRELUDE + textwrap.dedent(body), encoding="utf-8")
    done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True,
                          timeout=120, cwd=script.parent)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.splitlines()[-1])


def test_a_thread_started_in_the_window_is_recorded_with_its_own_line(run):
    got = run("""
        def body():
            t = threading.Thread(target=lambda: torch.softmax(x, -1))  # thread-line
            t.start(); t.join()
        print(json.dumps([window(body), line("# thread-line")]))
    """)
    hits, where = got
    assert hits == [["torch.softmax", "torch.softmax", where],
                    ["aten._softmax", "torch.softmax", where]]


def test_a_thread_pool_in_the_window_is_recorded_too(run):
    got = run("""
        from concurrent.futures import ThreadPoolExecutor
        def body():
            with ThreadPoolExecutor(2) as pool:
                list(pool.map(lambda t: torch._softmax(t, -1, False), [x, x]))  # pool-line
        print(json.dumps([window(body), line("# pool-line")]))
    """)
    hits, where = got
    assert [h[0] for h in hits] == ["aten._softmax"] and hits[0][2] == where


def test_a_thread_left_running_is_a_hit_naming_where_it_started(run):
    got = run("""
        import queue
        jobs, results = queue.Queue(), queue.Queue()
        def serve():
            while True:
                results.put(torch.softmax(jobs.get(), -1))
        worker = threading.Thread(target=serve, daemon=True)
        worker.start()  # start-line
        def body():
            jobs.put(x)
            results.get()
        print(json.dumps([window(body), line("# start-line")]))
    """)
    hits, where = got
    assert hits == [["recorder.outside", "leaves 1 thread running beside the call (a thread "
                     "must end before the call returns)", where]]


def test_threads_that_ended_before_the_window_and_clean_windows_cost_nothing(run):
    got = run("""
        t = threading.Thread(target=lambda: torch.softmax(x, -1)); t.start(); t.join()
        def body():
            t = threading.Thread(target=lambda: torch.exp(x)); t.start(); t.join()
            torch.logsumexp(x, -1)
        print(json.dumps([window(body), window(lambda: torch.exp(x))]))
    """)
    assert got == [[], []]


@pytest.mark.skipif(not hasattr(__import__("os"), "fork"), reason="needs os.fork")
@pytest.mark.parametrize("start, what", [
    ("pid = os.fork()\n            if pid == 0: os._exit(0)\n            os.waitpid(pid, 0)",
     "starts a process (os.fork)"),
    ("import subprocess; subprocess.run([sys.executable, '-c', 'pass'])",
     "starts a program (subprocess)"),
    ("os.system('true')", "starts a program (os.system)"),
    ("import multiprocessing as mp\n"
     "            p = mp.get_context('spawn').Process(target=print); p.start(); p.join()",
     "starts a program (multiprocessing)"),
    ("import ctypes; ctypes.CDLL(None).getpid()", "loads foreign code (ctypes)"),
])
def test_a_process_or_foreign_code_started_in_the_window_is_a_hit(run, start, what):
    got = run(f"""
        def body():
            {start}
        print(json.dumps([window(body), window(lambda: None)]))
    """)
    inside, after = got
    assert inside and inside[0][:2] == ["recorder.outside", what]
    assert after == []  # the next window is clean


def test_outside_any_window_nothing_is_watched(run):
    got = run("""
        import subprocess
        subprocess.run([sys.executable, "-c", "pass"])
        t = threading.Thread(target=lambda: None); t.start(); t.join()
        print(json.dumps(window(lambda: torch.exp(x))))
    """)
    assert got == []
