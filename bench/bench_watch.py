"""Benchmark of the feedback loop: a cold `grade check hw2 FILE` against a re-check under
`grade check hw2 FILE --watch` after an edit, measured side by side in one run.

    python bench/bench_watch.py [--repeat 5]

Both run the CLI as a student would. The cold check is a fresh `grade` process each time
(interpreter, torch, pytest's collection, the template). The watch runs stay up
(`--format json` prints one result per line): each edit saves the file the way editors do
(a new file renamed over the old one), alternating between the solution and the solution
with cross_entropy_grad's 1/N forgotten (so every other re-check also computes a mismatch
map and a diagnosis), and the time is taken from the save to the result's line. Rows for the
default isolation level and for `--isolation portable`; the edits are interleaved with the
cold runs so that all of them see the same machine load. Target: a re-check within 0.5 s.
"""

from __future__ import annotations

import argparse
import json
import os
import queue
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from table import print_table

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
SOLUTION = (ROOT / "solutions/hw2/gradients.py").read_text(encoding="utf-8")
NO_MEAN = SOLUTION.replace("return (p - one_hot) / logits.shape[0]", "return p - one_hot")
TARGET_S = 0.5


class Watch:
    """`grade check hw2 FILE --watch --format json`, its lines stamped as they arrive."""

    def __init__(self, path: Path, *options: str) -> None:
        env = {**os.environ, "GRADE_SANDBOX_UID": "0"} if "portable" in options else None
        self.proc = subprocess.Popen([str(BIN / "grade"), "check", "hw2", str(path), "--watch",
                                      "--format", "json", *options], cwd=ROOT, env=env,
                                     stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                                     text=True)
        self.lines: queue.Queue[tuple[float, str]] = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.put((time.perf_counter(), line))
        self.lines.put((time.perf_counter(), ""))

    def result(self, timeout_s: float = 120.0) -> tuple[float, dict]:
        stamp, line = self.lines.get(timeout=timeout_s)
        if not line:
            raise RuntimeError("the watcher ended")
        return stamp, json.loads(line)

    def stop(self) -> None:
        self.proc.send_signal(signal.SIGINT)
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


def save(path: Path, text: str) -> float:
    """Save as editors do; the time of the rename."""
    tmp = path.with_name(path.name + ".swp~")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)
    return time.perf_counter()


def cold(path: Path) -> float:
    start = time.perf_counter()
    subprocess.run([str(BIN / "grade"), "check", "hw2", str(path), "--format", "json"],
                   cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
    return time.perf_counter() - start


def recheck(watch: Watch, path: Path, text: str, want_full: bool) -> float:
    """Save ``text`` and wait for the result of that save; seconds from the save."""
    saved = save(path, text)
    while True:
        stamp, result = watch.result()
        full = result["score"] == result["max_score"]
        if full == want_full:  # a result of this save (not a late one of the last)
            return stamp - saved


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-watch-") as tmp:
        files = {name: Path(tmp, name, "gradients.py") for name in ("cold", "auto", "portable")}
        for path in files.values():
            path.parent.mkdir()
            path.write_text(SOLUTION, encoding="utf-8")
        start = time.perf_counter()
        watches = {"auto": Watch(files["auto"]),
                   "portable": Watch(files["portable"], "--isolation", "portable")}
        first = {}
        for name, watch in watches.items():
            first[name] = watch.result()[0] - start
        cold_s: list[float] = []
        again: dict[str, list[float]] = {name: [] for name in watches}
        try:
            for i in range(args.repeat):
                cold_s.append(cold(files["cold"]))
                for name, watch in watches.items():
                    wrong = i % 2 == 0
                    again[name].append(recheck(watch, files[name], NO_MEAN if wrong else
                                               SOLUTION, want_full=not wrong))
        finally:
            for watch in watches.values():
                watch.stop()
    med = statistics.median
    rows = [
        ("grade check hw2 FILE (cold)", f"{med(cold_s):.2f} s",
         f"median of {args.repeat}; min {min(cold_s):.2f} s"),
        ("re-check under --watch after a save", f"{med(again['auto']):.3f} s",
         f"median of {args.repeat}; max {max(again['auto']):.3f} s; "
         f"{med(cold_s) / med(again['auto']):.0f}x faster than cold; target {TARGET_S} s: "
         f"{'met' if med(again['auto']) <= TARGET_S else 'MISSED'}"),
        ("  ... --isolation portable", f"{med(again['portable']):.3f} s",
         f"median of {args.repeat}; max {max(again['portable']):.3f} s"),
        ("first result of --watch (startup)", f"{first['auto']:.2f} s",
         f"portable {first['portable']:.2f} s (both started together)"),
    ]
    print_table(rows, "each re-check alternates the solution and a missing 1/N (a map and a "
                      "diagnosis)", value_width=9)

if __name__ == "__main__":
    main()
