"""Points: each part's points are split over its tests by weight; a test earns its share
only when it passes. Shares are not rounded, so a part's tests sum to its points; totals are
rounded to 4 decimals. Pure functions, no I/O."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace

from grader.course import Homework
from grader.results import TestResult

__all__ = ["score_tests", "total"]


def score_tests(homework: Homework, order: Sequence[tuple[str, str, str, float]],
                outcomes: Mapping[str, TestResult]) -> tuple[TestResult, ...]:
    """Fill in points for every collected test, in collection order.

    ``order`` lists ``(test id, part, visibility, weight)``; a test with no outcome (its
    setup never ran) counts as an error.
    """
    weights: dict[str, float] = {}
    for _, part, _, weight in order:
        weights[part] = weights.get(part, 0.0) + weight
    points = {p.name: p.points for p in homework.parts}
    scored = []
    for test_id, part, visibility, weight in order:
        share = points.get(part, 0.0) * weight / weights[part] if weights[part] else 0.0
        result = outcomes.get(test_id) or TestResult(
            id=test_id, part=part, visibility=visibility, points=0.0, max_points=0.0,
            status="error", stage="internal", message="the test produced no result")
        earned = share if result.status == "passed" else 0.0
        # unrounded: a part's shares sum to its points (rounding each lost up to 5e-7 a test)
        scored.append(replace(result, points=earned, max_points=share))
    return tuple(scored)


def total(tests: Sequence[TestResult]) -> tuple[float, float]:
    """(score, max score) of a list of scored tests."""
    return (round(sum(t.points for t in tests), 4), round(sum(t.max_points for t in tests), 4))
