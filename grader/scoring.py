"""Points: each part's points are split over its tests by weight; a test earns its share
only when it passes, and a part where a forbidden use was seen earns nothing (every one of its
tests is marked ``forbidden``). Pure functions, no I/O."""

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
    forbidden = _forbidden_parts(order, outcomes)
    scored = []
    for test_id, part, visibility, weight in order:
        share = points.get(part, 0.0) * weight / weights[part] if weights[part] else 0.0
        result = outcomes.get(test_id) or TestResult(
            id=test_id, part=part, visibility=visibility, points=0.0, max_points=0.0,
            status="error", stage="internal", message="the test produced no result")
        if part in forbidden and result.status != "forbidden":
            result = replace(result, status="forbidden", stage="forbidden",
                             message=forbidden[part], details={})
        earned = share if result.status == "passed" else 0.0
        scored.append(replace(result, points=round(earned, 6), max_points=round(share, 6)))
    return tuple(scored)


def _forbidden_parts(order: Sequence[tuple[str, str, str, float]],
                     outcomes: Mapping[str, TestResult]) -> dict[str, str]:
    """The parts with a forbidden use, each with the message of its first forbidden test (in
    collection order, so the same submission always gets the same message)."""
    found: dict[str, str] = {}
    for test_id, part, _, _ in order:
        result = outcomes.get(test_id)
        if result is not None and result.status == "forbidden" and part not in found:
            found[part] = result.message
    return found


def total(tests: Sequence[TestResult]) -> tuple[float, float]:
    """(score, max score) of a list of scored tests."""
    return (round(sum(t.points for t in tests), 4), round(sum(t.max_points for t in tests), 4))
