"""A test's outcome: what it raised, turned into a status, a stage and a message (a hidden
test's message keeps only summary numbers), and recorded as a TestResult of its run."""

from __future__ import annotations

import traceback
from typing import Any

import pytest

from grader.errors import StudentFailure
from grader.judge.compare import Mismatch
from grader.judge.diagnosis import public_diagnosis
from grader.judge.maps import without_values
from grader.judge.results import TestResult
from grader.judge.run import SubmissionRun
from grader.judge.timelimit import OuterTimeout
from grader.status import Status

__all__ = ["classify", "mismatch_details", "part_of", "record", "weight_of"]

_PUBLIC_DETAILS = ("mismatched", "total", "max_abs", "max_rel", "rtol", "atol", "nonfinite",
                   "nonfinite_reference", "step", "steps")
# Summaries that are mappings: a hidden test keeps their masks, ratios and positions only.
_SUMMARIES = {"map": without_values, "diagnosis": public_diagnosis}


def part_of(item: pytest.Item) -> str:
    """The part a test grades (its ``@pytest.mark.part``)."""
    marker = item.get_closest_marker("part")
    return str(marker.args[0]) if marker else ""


def weight_of(item: pytest.Item) -> float:
    """A test's share of its part's points (its ``@pytest.mark.weight``, default 1)."""
    marker = item.get_closest_marker("weight")
    return float(marker.args[0]) if marker and marker.args else 1.0


def mismatch_details(exc: BaseException, hidden: bool) -> dict[str, Any]:
    """The numbers of a mismatch for reports, with its map and diagnosis; hidden tests keep
    only summary numbers, and maps and diagnoses without values (masks, ratios, positions)."""
    if not isinstance(exc, Mismatch):
        return {}
    details: dict[str, Any] = {k: v for k, v in exc.details.items()
                               if isinstance(v, (int, float, list))
                               or k in _SUMMARIES and isinstance(v, dict)}
    if hidden:
        details = {k: _SUMMARIES[k](v) if isinstance(v, dict) else v
                   for k, v in details.items() if k in _PUBLIC_DETAILS or k in _SUMMARIES}
    return details


def classify(exc: BaseException | None, hidden: bool) -> tuple[str, str, str]:
    """(status, stage, message) for a test that raised ``exc``."""
    if exc is None:
        return Status.PASSED, "", ""
    if isinstance(exc, StudentFailure):
        return exc.status, exc.stage, exc.public_message if hidden else exc.message
    if isinstance(exc, Mismatch):
        return Status.FAILED, exc.stage, exc.public_message if hidden else exc.message
    if isinstance(exc, pytest.skip.Exception):
        return Status.SKIPPED, "", str(exc.msg) if not hidden else "skipped"
    text = str(exc)
    if isinstance(exc, OuterTimeout):
        return Status.TIMEOUT, "call", str(exc)
    if isinstance(exc, AssertionError):
        return Status.FAILED, "values", "an assertion about the result failed" if hidden else \
            (text.splitlines()[0] if text else "an assertion about the result failed")
    return Status.ERROR, "internal", ("the test itself failed (an error in the grader or the test, "
                                 f"not in your code: {type(exc).__name__}); tell your instructor")


def record(run: SubmissionRun, item: pytest.Item, when: str, exc: BaseException | None,
           duration: float) -> tuple[str, str]:
    """Store a test's outcome in ``run``; returns (status, message). An award the test made
    (``student.award``) decides a passing test's share and message."""
    hidden = item.get_closest_marker("hidden") is not None
    status, stage, message = classify(exc, hidden)
    details = mismatch_details(exc, hidden) if exc is not None else {}
    award = run.awards.pop(item.nodeid, None) if when == "call" else None
    credit = None
    if award is not None and status == Status.PASSED:
        message, details = award.message, dict(award.details)
        if award.credit < 1.0:
            status, stage, credit = Status.FAILED, "outcome", award.credit
    if when == "call" or (when == "setup" and exc is not None):
        run.outcomes[item.nodeid] = TestResult(
            id=item.nodeid, part=part_of(item), visibility="hidden" if hidden else "public",
            points=0.0, max_points=0.0, status=status, stage=stage, message=message,
            duration_s=round(duration, 4), details=details, credit=credit)
        if stage == "internal" and exc is not None:
            run.internal_errors.append(f"{item.nodeid}:\n" + "".join(
                traceback.format_exception(exc, limit=-6)))
    return status, message
