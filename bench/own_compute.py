"""The tests' own compute: a homework's suite with nothing of the grader's isolation around it.

    python bench/own_compute.py HW SUBMISSION [--reps 20]

Runs the same tests, references and comparisons as ``grade``, but calls the student's functions
in this process (no executor process, no sandbox, no wire format, no state reset between
requests), skips the forbidden-API source scan, and prints the median seconds per submission
as JSON. What ``grade batch`` spends above this number is the grader's overhead per submission.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import torch  # noqa: E402

import grader.judge.plugin  # noqa: E402
import grader.judge.run  # noqa: E402
from grader.api import homework_settings  # noqa: E402
from grader.course.manifest import load_course  # noqa: E402
from grader.course.submission import prepare_submission  # noqa: E402
from grader.executor.child import _answer, load_submission  # noqa: E402
from grader.executor.ops import RequestContext  # noqa: E402
from grader.judge.runner import run_suite  # noqa: E402


class InProcessExecutor:
    """Stands in for ``grader.launch.executor.Executor``: answers requests in this process."""

    launcher_lost = False
    restarts = 0

    def __init__(self, template: Any, spec: Any) -> None:
        self.spec = spec
        self.module: Any = None
        self.report: dict[str, Any] = {}

    def start(self) -> dict[str, Any]:
        if self.module is None:
            self.module, self.report = load_submission(self.spec.submission)
        return self.report

    def request(self, header: dict[str, Any], tensors: dict[str, torch.Tensor], *,
                timeout_s: float, label: str) -> tuple[dict[str, Any], dict[str, torch.Tensor]]:
        self.start()
        ctx = RequestContext(module=self.module, harness=None, header=header,
                             tensors={k: v.clone() for k, v in tensors.items()},
                             device=str(header.get("device", "cpu")),
                             filenames={self.spec.submission["filename"]})
        return _answer(ctx)

    def refuse_timed_out(self, name: str) -> None:
        pass

    def log_tail(self) -> str:
        return ""

    def close(self) -> None:
        pass


class NoTemplate:
    def ready(self) -> dict[str, Any]:
        return {"isolation": "none", "versions": {}}


def own_compute(hw_id: str, submission: Path, reps: int) -> list[tuple[float, float, float]]:
    """(seconds, score, max score) per submission, ``reps`` times (after one warm-up)."""
    course = load_course(ROOT)
    homework = course.homework(hw_id)
    settings = homework_settings(course, homework, {})
    prepared = prepare_submission(submission, homework)
    # what is replaced must exist, or a renamed module would leave the bench timing the grader
    assert hasattr(grader.judge.plugin, "Executor") and hasattr(grader.judge.run, "scan_forbidden")
    grader.judge.plugin.Executor = InProcessExecutor  # type: ignore[misc, assignment]
    grader.judge.run.scan_forbidden = lambda source, patterns: {}  # type: ignore[assignment]
    runs: list[tuple[float, float, float]] = []
    run_suite(homework, settings, NoTemplate(), [prepared] * (reps + 1),  # type: ignore[arg-type]
              lambda r, log: runs.append((r.duration_s, r.score, r.max_score)),
              course_root=course.root)
    return runs[1:]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("homework")
    ap.add_argument("submission", type=Path)
    ap.add_argument("--reps", type=int, default=20)
    args = ap.parse_args()
    runs = own_compute(args.homework, args.submission, args.reps)
    print(json.dumps({"median_s": statistics.median(r[0] for r in runs),
                      "scores": sorted({f"{r[1]:g}/{r[2]:g}" for r in runs})}))


if __name__ == "__main__":
    main()
