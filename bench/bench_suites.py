"""Benchmark of every homework's full suite on its solution, against the 30 s budget.

    python bench/bench_suites.py [--repeat 3] [--budget 30]

Prints one row per homework: the median wall time of `grade check hwN solutions/hwN` (hidden
tests included), measured interleaved with `python -c "import torch"` so that both see the
same machine load, the ratio of the two, and for outcome-graded parts (hw6's
train_classifier) the training time the result reports. Exits 1 when a suite is over budget.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent


def _run(cmd: list[str]) -> tuple[float, str]:
    start = time.perf_counter()
    proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, check=False)
    return time.perf_counter() - start, proc.stdout


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--budget", type=float, default=30.0)
    args = parser.parse_args()
    homeworks = sorted(tomllib.loads((ROOT / "course.toml").read_text(encoding="utf-8"))["hw"])
    print(f"{'homework':10} {'grade check (s)':>16} {'import torch (s)':>17} {'ratio':>6} "
          f"{'training (s)':>13}  verdict")
    over = []
    for hw in homeworks:
        grade, torch_only, training = [], [], []
        for _ in range(args.repeat):
            seconds, out = _run([str(BIN / "grade"), "check", hw, f"solutions/{hw}",
                                 "--format", "json"])
            grade.append(seconds)
            result = json.loads(out) if out.strip().startswith("{") else {}
            training += [t["details"]["train_s"] for t in result.get("tests", [])
                         if "train_s" in t.get("details", {})]
            torch_only.append(_run([sys.executable, "-c", "import torch"])[0])
        g, t = statistics.median(grade), statistics.median(torch_only)
        train = f"{max(training):.1f}" if training else "-"
        verdict = "ok" if g <= args.budget else f"OVER {args.budget:g} s"
        if g > args.budget:
            over.append(hw)
        print(f"{hw:10} {g:16.2f} {t:17.2f} {g / t:6.1f} {train:>13}  {verdict}")
    return 1 if over else 0


if __name__ == "__main__":
    sys.exit(main())
