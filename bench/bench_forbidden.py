"""The cost of the forbidden-API recorder, measured side by side in one run.

    python bench/bench_forbidden.py [--rounds 6] [--copies 4] [--hw hw2] [--control]

Grades copies of the homework's reference solution through the real grader (template,
sandboxed executors, the whole suite), in one session per round: after a copy that warms the
template up, pairs of copies, one graded with the course's forbidden lists and one with every
list emptied (so the executor enters no recorder), the order within the pairs alternating
from round to round. It prints per submission the sum of the request round trips, the time the
executor spent answering them, and the whole suite: the median with and without, and the
median of the pairs' ratios (a pair runs back to back, so a change in the machine's load
between pairs cancels out). ``--control`` grades both copies of each pair with the lists: the
ratios it prints are the bench's noise floor. On Linux it also prints the CPU time of the
suite (the judge's thread and the executor process, from /proc): on a loaded machine the wall
times carry the other processes' load, the CPU times what the recorder costs.
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
from grader.course.manifest import load_course  # noqa: E402
from grader.course.submission import prepare_submission  # noqa: E402
from grader.judge.run import SubmissionRun  # noqa: E402

MEASURES = ("request round trips (sum)", "executor answering (sum)", "whole suite",
            "whole suite, CPU time", "  of which the executor's")


def _cpu_s(pid: int | None) -> float | None:
    """The CPU time of a process's main thread (Linux: /proc/PID/schedstat, in ns)."""
    try:
        with open(f"/proc/{pid}/schedstat") as stat:
            return int(stat.read().split()[0]) / 1e9
    except (OSError, ValueError, IndexError):
        return None


class Timing:
    """Request round trips, executor-side answer times and CPU times, per submission (by id)."""

    def __init__(self) -> None:
        self.round_trip: dict[str, float] = {}
        self.answer: dict[str, float] = {}
        self.requests: dict[str, int] = {}
        self.executor_cpu: dict[str, float | None] = {}
        self.judge_cpu: dict[str, float] = {}  # the judge thread's, from the submission's start
        self.order: list[str] = []

    def wrap(self, request: Any) -> Any:
        def timed(run: SubmissionRun, header: dict[str, Any], tensors: Any, *, label: str,
                  **extra: Any) -> Any:
            key = run.prepared.id
            if key not in self.judge_cpu:
                self.judge_cpu[key] = time.thread_time()
                self.order.append(key)
            start = time.perf_counter()
            reply, out = request(run, header, tensors, label=label, **extra)
            self.round_trip[key] = self.round_trip.get(key, 0.0) + time.perf_counter() - start
            self.answer[key] = self.answer.get(key, 0.0) + float(reply.get("duration_s") or 0.0)
            self.requests[key] = self.requests.get(key, 0) + 1
            self.executor_cpu[key] = _cpu_s(run.executor.pid)
            return reply, out

        return timed

    def judge_cpu_s(self, key: str, end: float) -> float:
        """The judge's CPU time from the submission's first request to the next one's."""
        later = self.order[self.order.index(key) + 1:]
        return (self.judge_cpu[later[0]] if later else end) - self.judge_cpu[key]


def session(hw: str, copies: int, round_: int, control: bool,
            ) -> tuple[list[tuple[list[float], list[float]]], int, float]:
    """One template and one collection grading ``2 * copies + 1`` copies of the solution:
    copy0 warms up, then pairs (one with the lists, one without; with first in even rounds).
    Returns per pair ([round trips, answers, suite] with, [...] without), the requests per
    submission and the lowest score (as a fraction of full marks)."""
    course = load_course(ROOT)
    homework = course.homework(hw)
    settings = homework_settings(course, homework, {})
    solution = prepare_submission(homework.solution_path, homework)
    prepared = [replace(solution, id=f"copy{i}") for i in range(2 * copies + 1)]
    first_on = round_ % 2 == 0
    pairs = [(f"copy{2 * k + 1}", f"copy{2 * k + 2}")[::1 if first_on else -1]
             for k in range(copies)]  # (with, without)
    off = {"copy0"} | ({without for _, without in pairs} if not control else set())
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
    end = time.thread_time()
    suite = {r.submission["id"]: r.duration_s for r, _ in results}

    def measures(key: str) -> list[float]:
        executor = timing.executor_cpu[key]
        cpu = [timing.judge_cpu_s(key, end) + executor, executor] if executor is not None \
            else [float("nan")] * 2
        return [timing.round_trip[key], timing.answer[key], suite[key], *cpu]

    score = min(r.score / r.max_score for r, _ in results)
    return ([(measures(on), measures(off_)) for on, off_ in pairs],
            next(iter(timing.requests.values())), score)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hw", default="hw2")
    parser.add_argument("--rounds", type=int, default=6)
    parser.add_argument("--copies", type=int, default=4, help="pairs per session")
    parser.add_argument("--control", action="store_true",
                        help="both copies of a pair with the lists: the noise floor")
    args = parser.parse_args()
    os.chdir(ROOT)
    pairs: list[tuple[list[float], list[float]]] = []
    requests, scores = 0, []
    for round_ in range(args.rounds):
        got, requests, score = session(args.hw, args.copies, round_, args.control)
        pairs.extend(got)
        scores.append(score)
    med = statistics.median
    print(f"{args.hw} suite on its solution, {requests} requests per submission, "
          f"{len(pairs)} pairs of submissions (scores all full: {min(scores) == 1.0})"
          + (" -- CONTROL: both sides with the lists" if args.control else ""))
    print(f"{'per submission (median)':<30} {'with recorder':>14} {'without':>10} "
          f"{'ratio':>7} {'(quartiles)':>14}")
    print("-" * 80)
    for i, name in enumerate(MEASURES):
        if any(p[0][i] != p[0][i] for p in pairs):  # NaN: no CPU times on this system
            continue
        on, off = med(p[0][i] for p in pairs), med(p[1][i] for p in pairs)
        ratios = sorted(p[0][i] / p[1][i] for p in pairs)
        q1, _, q3 = statistics.quantiles(ratios, n=4) if len(ratios) > 1 else (ratios[0],) * 3
        print(f"{name:<30} {on * 1e3:>11.1f} ms {off * 1e3:>7.1f} ms {med(ratios):>7.3f} "
              f"{q1:>6.3f}-{q3:.3f}")
    on, off = med(p[0][0] for p in pairs) / requests, med(p[1][0] for p in pairs) / requests
    print(f"{'one request (round trip)':<30} {on * 1e3:>11.3f} ms {off * 1e3:>7.3f} ms "
          f"{med(p[0][0] / p[1][0] for p in pairs):>7.3f}")
    print(f"ratio: the median of the pairs' ratios; target: whole suite under 1.10; machine: "
          f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
