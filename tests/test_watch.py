"""``grade check --watch``: one warm judge grades the submission again after every save, at
every level (portable too); a file that cannot be read yet is reported and the next save
graded; Ctrl-C stops it cleanly."""

from __future__ import annotations

import json
import os
import queue
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from grader.watch import changes

ROOT = Path(__file__).resolve().parents[1]
SOLUTION = (ROOT / "solutions/hw2/gradients.py").read_text(encoding="utf-8")


class Watcher:
    """``grade check hw2 FILE --watch --format json`` in a subprocess, read line by line."""

    def __init__(self, path: Path, *options: str) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "grader.cli", "check", "hw2", str(path), "--watch",
             "--format", "json", *options], cwd=ROOT, stdout=subprocess.PIPE,
            stderr=subprocess.PIPE, text=True)
        self.lines: queue.Queue[str] = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.put(line)
        self.lines.put("")

    def next_result(self, timeout_s: float = 120.0) -> dict[str, Any]:
        try:
            line = self.lines.get(timeout=timeout_s)
        except queue.Empty:
            self.proc.kill()
            raise AssertionError("no result in time: " + self.proc.communicate()[1][-3000:]) from None
        assert line, "the watcher ended"
        return dict(json.loads(line))

    def stop(self) -> tuple[int, str]:
        self.proc.send_signal(signal.SIGINT)
        code = self.proc.wait(timeout=30)
        return code, self.proc.stderr.read() if self.proc.stderr else ""


def _save(path: Path, text: str) -> None:
    """Save the way editors do: a new file renamed over the old one."""
    tmp = path.with_name(path.name + ".swp~")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


@pytest.mark.slow
@pytest.mark.parametrize("level", ["auto", "portable"])
def test_every_save_is_graded_again_by_the_warm_judge(level: str, tmp_path: Path) -> None:
    path = tmp_path / "gradients.py"
    path.write_text(SOLUTION.replace("return s * (1 - s)", "return s"), encoding="utf-8")
    watcher = Watcher(path, "--isolation", level)
    try:
        first = watcher.next_result()
        assert first["score"] == 14 and first["isolation"] == (level if level != "auto"
                                                               else first["isolation"])
        _save(path, SOLUTION)  # the fix
        fixed = watcher.next_result()
        assert fixed["score"] == fixed["max_score"] == 15
        _save(path, "def sigmoid_grad(x:\n")  # half written: a syntax error is a grade too
        broken = watcher.next_result()
        assert broken["score"] == 0
    finally:
        code, err = watcher.stop()
    assert code == 0 and "stopped watching" in err and "Traceback" not in err


@pytest.mark.slow
def test_an_unreadable_save_is_reported_and_the_next_one_graded(tmp_path: Path) -> None:
    path = tmp_path / "gradients.py"
    path.write_text(SOLUTION, encoding="utf-8")
    watcher = Watcher(path)
    try:
        assert watcher.next_result()["score"] == 15
        path.write_bytes(b"\x00\x01 not text")
        time.sleep(1.0)
        _save(path, SOLUTION.replace("return s * (1 - s)", "return s"))
        assert watcher.next_result()["score"] == 14
    finally:
        code, err = watcher.stop()
    assert code == 0 and "cannot read the submission yet" in err and "binary" in err


def test_polling_notices_a_change_without_watchfiles(tmp_path: Path) -> None:
    path = tmp_path / "gradients.py"
    path.write_text("x = 1\n")
    stop = threading.Event()
    seen: list[str] = []

    def edit() -> None:
        time.sleep(0.3)
        _save(path, "x = 2\n")

    threading.Thread(target=edit).start()
    for how in changes([path], stop=stop, force_polling=True):
        seen.append(how)
        stop.set()
    assert seen == ["polling"]
