"""``class.html``: what the class got right and wrong, computed here, drawn by Jinja in SVG.

Sections: the score histogram, the pass rate per part (share of students with full points
on the part), the most common failure messages per part (numbers folded so "got 0.41" and
"got 0.37" count as one message), the accuracy each student's training run reached (for
outcome-graded tests, which report it in their details), the slowest submissions, the
submissions that crashed, timed out, could not be read or could not be graded, and the most
similar pairs of submissions.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from typing import Any

from grader.judge.results import SubmissionResult
from grader.status import Status, SubmissionStatus

__all__ = ["class_stats", "render_class"]

_NUMBER = re.compile(r"-?\d+(?:\.\d+)?(?:e[-+]?\d+)?")
_TROUBLE = (Status.CRASHED, Status.TIMEOUT)


def _fold(message: str) -> str:
    """A failure message with its numbers folded, for counting alike failures together."""
    first = message.splitlines()[0] if message else ""
    return _NUMBER.sub("#", first)[:200]


def _histogram(scores: list[float], max_score: float) -> dict[str, Any]:
    bins = max(1, min(20, int(round(max_score)) if max_score >= 1 else 1))
    width = max_score / bins if max_score > 0 else 1.0
    counts = [0] * bins
    for s in scores:
        i = min(bins - 1, int(s / width)) if width > 0 else 0
        counts[max(0, i)] += 1
    top = max(counts) if counts else 1
    return {"bins": [{"lo": round(i * width, 3), "hi": round((i + 1) * width, 3), "count": c,
                      "height": round(120 * c / top, 1) if top else 0.0}
                     for i, c in enumerate(counts)],
            "bar_width": round(min(40.0, 560.0 / bins), 1), "top": top}


def _outcome_label(test_id: str, part: str) -> str:
    """The column of a test: ``test_fit_on_digits`` of part ``fit`` is ``on_digits``."""
    name = test_id.rsplit("::", 1)[-1].split("[", 1)[0].removeprefix("test_")
    return name.removeprefix(f"{part}_") or name


def _outcomes(results: Sequence[SubmissionResult]) -> dict[str, Any]:
    """Per student, the accuracy and training time of every test that reports one, with a
    column per test and its median; a student whose run reached nothing shows the status."""
    columns: dict[str, dict[str, str]] = {}
    for r in results:
        for t in r.tests:
            if "accuracy" in t.details:
                key = t.id.split("[", 1)[0]
                columns.setdefault(key, {"part": t.part, "label": _outcome_label(t.id, t.part)})
    rows: list[dict[str, Any]] = []
    for r in results:
        by_key = {t.id.split("[", 1)[0]: t for t in r.tests}
        cells: list[dict[str, Any]] = []
        for key in columns:
            test = by_key.get(key)
            if test is not None and "accuracy" in test.details:
                cells.append({"accuracy": float(test.details["accuracy"]),
                              "train_s": float(test.details.get("train_s", 0.0)),
                              "points": test.points, "max_points": test.max_points,
                              "status": ""})
            else:
                cells.append({"accuracy": None, "train_s": None, "points": 0.0,
                              "max_points": test.max_points if test else 0.0,
                              "status": test.status if test else r.status})
        if columns:
            rows.append({"student": r.student, "cells": cells})
    medians = []
    for i in range(len(columns)):
        reached = sorted(row["cells"][i]["accuracy"] for row in rows
                         if row["cells"][i]["accuracy"] is not None)
        medians.append(reached[len(reached) // 2] if reached else None)
    return {"columns": list(columns.values()), "rows": rows, "medians": medians}


def class_stats(results: Sequence[SubmissionResult]) -> dict[str, Any]:
    """Everything class.html shows, as plain data."""
    results = sorted(results, key=lambda r: r.student)
    assignment = next((r.assignment for r in results), "")
    max_score = max((r.max_score for r in results), default=0.0)
    scores = [r.score for r in results]
    graded = [r for r in results if r.status == SubmissionStatus.GRADED]
    order: list[str] = []
    for r in results:
        for name in (r.parts_order or tuple(p.name for p in r.parts())):
            if name not in order:
                order.append(name)
    parts = []
    for name in order:
        full = attempted = 0
        messages: Counter[str] = Counter()
        example: dict[str, str] = {}
        statuses: Counter[str] = Counter()
        for r in graded:
            part = next((p for p in r.parts() if p.name == name), None)
            if part is None:
                continue
            attempted += 1
            statuses[part.status] += 1
            if part.points >= part.max_points:
                full += 1
            seen = set()  # each student counts once per message
            for t in r.tests:
                if t.part == name and t.status not in (Status.PASSED, Status.SKIPPED):
                    key = f"{t.status}: {_fold(t.message)}" if t.message else t.status
                    if key not in seen:
                        seen.add(key)
                        messages[key] += 1
                    first = t.message.splitlines()[0] if t.message else ""
                    example.setdefault(key, f"{t.status}: {first}")
        rate = full / attempted if attempted else 0.0
        parts.append({"name": name, "full": full, "attempted": attempted,
                      "rate": rate, "width": round(300 * rate, 1),
                      "statuses": dict(statuses),
                      "failures": [{"message": example[m], "count": n}
                                   for m, n in messages.most_common(3)]})
    slowest = sorted(graded, key=lambda r: -r.duration_s)[:10]
    trouble = []
    for r in results:
        kinds = sorted({t.status for t in r.tests if t.status in _TROUBLE})
        if r.status != SubmissionStatus.GRADED or kinds:
            trouble.append({"student": r.student, "status": r.status,
                            "kinds": kinds or [r.status],
                            "message": r.message or next(
                                (t.message for t in r.tests if t.status in _TROUBLE), "")})
    mean = sum(scores) / len(scores) if scores else 0.0
    ordered = sorted(scores)
    median = (ordered[len(ordered) // 2] if len(ordered) % 2 else
              (ordered[len(ordered) // 2 - 1] + ordered[len(ordered) // 2]) / 2) if ordered else 0.0
    slow_top = max((r.duration_s for r in slowest), default=0.0) or 1.0
    return {
        "assignment": assignment, "count": len(results), "graded": len(graded),
        "max_score": max_score, "mean": mean, "median": median,
        "full_marks": sum(r.full_marks for r in results),
        "histogram": _histogram(scores, max_score), "parts": parts,
        "slowest": [{"student": r.student, "duration_s": r.duration_s, "score": r.score,
                     "width": round(300 * r.duration_s / slow_top, 1)} for r in slowest],
        "trouble": trouble,
        "outcomes": _outcomes(results),
    }


def render_class(results: Sequence[SubmissionResult],
                 similarity: dict[str, Any] | None = None) -> str:
    """The class report as one self-contained HTML page; ``similarity`` is its section on
    similar submissions (``grader.reports.similarity.class_section``), "not computed" without."""
    from grader.reports.render import render_template
    from grader.reports.similarity import NOT_COMPUTED

    return render_template("class.html.j2", s=class_stats(results),
                           similarity=similarity or NOT_COMPUTED)
