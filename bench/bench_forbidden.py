"""The cost of the forbidden-API recorder, measured side by side in one run.

    python bench/bench_forbidden.py [--rounds 5] [--copies 4] [--hw hw2]

Grades copies of the homework's reference solution through the real grader (template,
sandboxed executors, the whole suite), alternating in one session submissions graded with the
course's forbidden lists and with every list emptied (so the executor enters no recorder),
and prints per submission: the sum of the request round trips, the time the executor spent
answering them, and the whole suite.
Every part of hw2 forbids something, so every one of its requests runs under the recorder.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from grader.api import grade_prepared, homework_settings, open_template  # noqa: E402
from grader.course import load_course  # noqa: E402
from grader.plugin import SubmissionRun  # noqa: E402
from grader.submission import prepare_submission  # noqa: E402


class Timing:
    """Request round trips and executor-side answer times, per submission (by its id)."""

    def __init__(self) -> None:
        self.round_trip: dict[str, float] = {}
        self.answer: dict[str, float] = {}
        self.requests: dict[str, int] = {}

    def wrap(self, request: Any) -> Any:
        def timed(run: SubmissionRun, header: dict[str, Any], tensors: Any, *, label: str,
                  **extra: Any) -> Any:
            start = time.perf_counter()
            reply, out = request(run, header, tensors, label=label, **extra)
            key = run.prepared.id
            self.round_trip[key] = self.round_trip.get(key, 0.0) + time.perf_counter() - start
            self.answer[key] = self.answer.get(key, 0.0) + float(reply.get("duration_s") or 0.0)
            self.requests[key] = self.requests.get(key, 0) + 1
            return reply, out

        return timed


def session(hw: str, copies: int) -> tuple[dict[bool, list[list[float]]], int, float]:
    """One template and one collection grading ``2 * copies + 1`` copies of the solution,
    alternately with the forbidden lists and without them (so both see the same machine):
    {recorder on: [round trips, answers, suites]} per submission, requests per submission,
    the lowest score (as a fraction of full marks)."""
    course = load_course(ROOT)
    homework = course.homework(hw)
    settings = homework_settings(course, homework, {})
    solution = prepare_submission(homework.solution_path, homework)
    prepared = [replace(solution, id=f"copy{i}") for i in range(2 * copies + 1)]
    off = {p.id for i, p in enumerate(prepared) if i % 2 == 0}  # copy0 warms the template up
    timing = Timing()
    original_request, original_patterns = SubmissionRun.request, SubmissionRun.forbidden_patterns

    def patterns(run: SubmissionRun, part: str) -> tuple[str, ...]:
        return () if run.prepared.id in off else original_patterns(run, part)

    SubmissionRun.request = timing.wrap(original_request)  # type: ignore[method-assign]
    SubmissionRun.forbidden_patterns = patterns  # type: ignore[method-assign]
    try:
        with open_template(homework, settings) as template:
            results = grade_prepared(homework, settings, template, prepared,
                                     course_root=course.root)
    finally:
        SubmissionRun.request = original_request  # type: ignore[method-assign]
        SubmissionRun.forbidden_patterns = original_patterns  # type: ignore[method-assign]
    data: dict[bool, list[list[float]]] = {True: [[], [], []], False: [[], [], []]}
    for result, _ in results:
        key = result.submission["id"]
        if key == "copy0":
            continue
        column = data[key not in off]
        for store, value in zip(column, (timing.round_trip[key], timing.answer[key],
                                         result.duration_s), strict=True):
            store.append(value)
    score = min(r.score / r.max_score for r, _ in results)
    return data, next(iter(timing.requests.values())), score


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hw", default="hw2")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--copies", type=int, default=4, help="submissions per session")
    args = parser.parse_args()
    os.chdir(ROOT)
    data: dict[bool, list[list[float]]] = {True: [[], [], []], False: [[], [], []]}
    requests, scores = 0, []
    for _ in range(args.rounds):
        got, requests, score = session(args.hw, args.copies)
        scores.append(score)
        for recorder in (True, False):
            for store, values in zip(data[recorder], got[recorder], strict=True):
                store.extend(values)
    med = statistics.median
    n = args.rounds * args.copies
    print(f"{args.hw} suite on its solution, {requests} requests per submission, median of {n} "
          f"submissions each (scores all full: {min(scores) == 1.0})")
    print(f"{'per submission':<34} {'with recorder':>14} {'without':>10} {'ratio':>7}")
    print("-" * 68)
    for i, name in enumerate(("request round trips (sum)", "executor answering (sum)",
                              "whole suite")):
        on, off = med(data[True][i]), med(data[False][i])
        print(f"{name:<34} {on * 1e3:>11.1f} ms {off * 1e3:>7.1f} ms {on / off:>7.3f}")
    on, off = med(data[True][0]) / requests, med(data[False][0]) / requests
    print(f"{'one request (round trip)':<34} {on * 1e3:>11.3f} ms {off * 1e3:>7.3f} ms "
          f"{on / off:>7.3f}")
    print(f"target: whole suite under 1.10; machine: {os.cpu_count()} CPUs, load average "
          f"{os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
