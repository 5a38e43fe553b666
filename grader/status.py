"""The statuses of a test and of a submission: one enumeration each, written into every
result as their string values (``"passed"``), so a program reads plain JSON."""

from __future__ import annotations

from enum import StrEnum

__all__ = ["Status", "SubmissionStatus"]


class Status(StrEnum):
    """How one test of one submission ended."""

    PASSED = "passed"
    FAILED = "failed"
    ERROR = "error"
    TIMEOUT = "timeout"
    CRASHED = "crashed"
    FORBIDDEN = "forbidden"
    NOT_IMPLEMENTED = "not_implemented"
    SKIPPED = "skipped"


class SubmissionStatus(StrEnum):
    """How a submission as a whole came out: graded; nothing could be read; or the grader's
    own processes died while grading it (on each try)."""

    GRADED = "graded"
    UNREADABLE = "unreadable"
    CRASHED = "crashed"
