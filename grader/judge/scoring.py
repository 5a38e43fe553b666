"""Points: each part's points are split over its tests by weight; a test earns its share
only when it passes, or the credit it was awarded (an outcome-graded test: half its share for
an accuracy in the lower tier); a part where a forbidden use was seen earns nothing (every one of
its tests is marked ``forbidden``). Shares are not rounded, so a part's tests sum to its points;
totals are rounded to 4 decimals. Pure functions, no I/O."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from grader.course.manifest import Homework
from grader.judge.results import TestResult
from grader.status import Status

__all__ = ["Award", "score_tests", "tiered", "total"]


@dataclass(frozen=True)
class Award:
    """A test's verdict on an outcome (the accuracy a training run reached): the share of the
    test's points it earns, and the message and numbers shown with it, to students too."""

    credit: float
    message: str
    details: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not 0.0 <= self.credit <= 1.0:
            raise ValueError(f"an award's credit must be between 0 and 1 (got {self.credit!r})")


def tiered(value: float, tiers: Sequence[tuple[float, float]]) -> float:
    """The credit of ``value`` under ``tiers`` (``(threshold, credit)`` pairs, best first):
    the credit of the first threshold it reaches, else 0. ``((0.95, 1.0), (0.90, 0.5))``
    gives full credit at 0.95 and above, half from 0.90."""
    for threshold, credit in tiers:
        if value >= threshold:
            return credit
    return 0.0


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
            status=Status.ERROR, stage="internal", message="the test produced no result")
        if part in forbidden and result.status != Status.FORBIDDEN:
            result = replace(result, status=Status.FORBIDDEN, stage="forbidden",
                             message=forbidden[part], details={}, credit=None)
        earned = share if result.status == Status.PASSED else share * (result.credit or 0.0)
        # unrounded: a part's shares sum to its points (rounding each lost up to 5e-7 a test)
        scored.append(replace(result, points=earned, max_points=share))
    return tuple(scored)


def _forbidden_parts(order: Sequence[tuple[str, str, str, float]],
                     outcomes: Mapping[str, TestResult]) -> dict[str, str]:
    """The parts with a forbidden use, each with the message of its first forbidden test (in
    collection order, so the same submission always gets the same message)."""
    found: dict[str, str] = {}
    for test_id, part, _, _ in order:
        result = outcomes.get(test_id)
        if result is not None and result.status == Status.FORBIDDEN and part not in found:
            found[part] = result.message
    return found


def total(tests: Sequence[TestResult]) -> tuple[float, float]:
    """(score, max score) of a list of scored tests."""
    return (round(sum(t.points for t in tests), 4), round(sum(t.max_points for t in tests), 4))
