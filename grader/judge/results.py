"""Results as frozen dataclasses, serialised as JSON with a schema version.

The JSON shape is the one in the journeys (``grader.result/1``); fields may be added, none is
renamed without a new schema. It is strict JSON (RFC 8259): a number that is not finite (a
relative error where the reference is 0 is infinite) is written as the string
``"Infinity"``, ``"-Infinity"`` or ``"NaN"`` (``to_dict``), and read back as a float
(``from_dict``); every writer passes ``allow_nan=False`` so none can slip through.
"""

from __future__ import annotations

import functools
import math
import platform
from dataclasses import dataclass, field, fields
from importlib import metadata
from typing import TYPE_CHECKING, Any

from grader.status import Status, SubmissionStatus
from grader.version import __version__

if TYPE_CHECKING:
    from grader.config import Settings
    from grader.course.manifest import Homework

__all__ = ["SCHEMA", "STATUSES", "PartResult", "SubmissionResult", "TestResult", "json_safe",
           "unreadable_result", "versions"]

SCHEMA = "grader.result/1"
STATUSES = tuple(Status)
# Which status a part shows when its tests differ: the most telling first.
_PART_ORDER = (Status.FORBIDDEN, Status.NOT_IMPLEMENTED, Status.TIMEOUT, Status.CRASHED,
               Status.ERROR, Status.FAILED, Status.SKIPPED, Status.PASSED)


@dataclass(frozen=True)
class TestResult:
    """One test of one submission."""

    id: str
    part: str
    visibility: str
    points: float
    max_points: float
    status: str
    stage: str = ""
    message: str = ""
    duration_s: float = 0.0
    details: dict[str, Any] = field(default_factory=dict)
    credit: float | None = None
    """The share of ``max_points`` a test that did not pass still earned (an outcome in a
    lower tier); None for an all-or-nothing test."""


@dataclass(frozen=True)
class PartResult:
    """One part (function or class): its tests summed up."""

    name: str
    points: float
    max_points: float
    status: str
    message: str
    passed: int
    total: int
    test_id: str = ""
    """The test whose message the part shows (its first failing public test, else a hidden
    one), so a report can draw that test's mismatch map under the message."""


@dataclass(frozen=True)
class SubmissionResult:
    """Everything a program needs about one graded submission."""

    assignment: str
    submission: dict[str, str]
    score: float
    max_score: float
    status: str
    device: str
    isolation: str
    versions: dict[str, str]
    duration_s: float
    tests: tuple[TestResult, ...] = ()
    left_out: tuple[str, ...] = ()
    message: str = ""
    hidden_pending: int = 0
    warnings: tuple[str, ...] = ()
    """Early warnings from the source (forbidden names it reaches); they cost nothing."""
    schema: str = SCHEMA
    parts_order: tuple[str, ...] = field(default=(), compare=False)

    @property
    def student(self) -> str:
        return self.submission.get("id", "")

    @property
    def full_marks(self) -> bool:
        return self.status == SubmissionStatus.GRADED and \
            all(t.status == Status.PASSED for t in self.tests) \
            and bool(self.tests)

    def parts(self) -> list[PartResult]:
        """The tests grouped by part, in the manifest's order."""
        order = list(self.parts_order) or list(dict.fromkeys(t.part for t in self.tests))
        out = []
        for name in order:
            tests = [t for t in self.tests if t.part == name]
            if not tests:
                continue
            status = min((t.status for t in tests), key=_PART_ORDER.index)
            # A public test's message shows values; a hidden one only summary numbers.
            candidates = [t for t in tests if t.status == status and status != Status.PASSED]
            failing = next((t for t in candidates if t.visibility == "public"),
                           candidates[0] if candidates else None)
            # A passed part says what it reached when a test reports it (an accuracy).
            said = next((t.message for t in tests if t.message), "")
            out.append(PartResult(
                name=name, points=round(sum(t.points for t in tests), 4),
                max_points=round(sum(t.max_points for t in tests), 4), status=status,
                message=failing.message if failing else said,
                passed=sum(t.status == Status.PASSED for t in tests), total=len(tests),
                test_id=failing.id if failing else ""))
        return out

    def to_dict(self) -> dict[str, Any]:
        """The result as strict JSON data (non-finite numbers as strings)."""
        data = _fields(self)
        data.pop("parts_order")
        data["tests"] = [_fields(t) for t in self.tests]
        data["parts"] = [_fields(p) for p in self.parts()]
        # json_safe copies every container: nothing of the result is shared with the data
        return json_safe({"schema": data.pop("schema"), **data})  # type: ignore[no-any-return]

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> SubmissionResult:
        if data.get("schema") != SCHEMA:
            raise ValueError(f"unknown result schema {data.get('schema')!r}; expected {SCHEMA}")
        tests = tuple(TestResult(**{k: _numbers(t[k]) if k == "details" else t[k]
                                    for k in TestResult.__dataclass_fields__ if k in t})
                      for t in data.get("tests", []))
        parts_order = tuple(p["name"] for p in data.get("parts", []))
        keep = {k: v for k, v in data.items()
                if k in cls.__dataclass_fields__
                and k not in ("tests", "left_out", "warnings", "parts_order")}
        return cls(**keep, tests=tests, left_out=tuple(data.get("left_out", [])),
                   warnings=tuple(data.get("warnings", [])), parts_order=parts_order)


def _fields(obj: Any) -> dict[str, Any]:
    """A dataclass's fields, one level deep (``asdict`` deep-copies, which json_safe does
    anyway: twice the cost for nothing)."""
    return {f.name: getattr(obj, f.name) for f in fields(obj)}


_NONFINITE = {"Infinity": math.inf, "-Infinity": -math.inf, "NaN": math.nan}


def json_safe(value: Any) -> Any:
    """``value`` with every non-finite float written as ``"Infinity"``, ``"-Infinity"`` or
    ``"NaN"``: strict JSON readers (JavaScript, jq, LMS importers) reject ``Infinity``."""
    if isinstance(value, float) and not math.isfinite(value):
        return "NaN" if math.isnan(value) else "Infinity" if value > 0 else "-Infinity"
    if isinstance(value, dict):
        return {k: json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_safe(v) for v in value]
    return value


def _numbers(value: Any) -> Any:
    """Mismatch details as written by ``json_safe``, with their numbers back as floats."""
    if isinstance(value, str):
        return _NONFINITE.get(value, value)
    if isinstance(value, dict):
        return {k: _numbers(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_numbers(v) for v in value]
    return value


@functools.cache
def _installed_torch() -> str:
    try:
        return metadata.version("torch")
    except metadata.PackageNotFoundError:
        return "unknown"


def versions(homework: Homework, template_info: dict[str, Any] | None = None,
             settings: Settings | None = None) -> dict[str, str]:
    """Grader, torch, Python and suite versions recorded in every result: the template's
    when it reported them, else this environment's (read without importing torch, so a
    batch driver never pays for it). The suite version covers the run's settings."""
    info = (template_info or {}).get("versions", {})
    return {"grader": __version__, "torch": info.get("torch") or _installed_torch(),
            "python": info.get("python", platform.python_version()),
            "suite": homework.suite_version(settings)}


def unreadable_result(homework: Homework, *, student: str, path: str, message: str,
                      settings: Settings, sha256: str = "") -> SubmissionResult:
    """The result of a submission that could not be read at all."""
    return SubmissionResult(
        assignment=homework.id, submission={"id": student, "path": path, "sha256": sha256},
        score=0.0, max_score=homework.max_score, status=SubmissionStatus.UNREADABLE, device=settings.device,
        isolation="none", versions=versions(homework, settings=settings), duration_s=0.0,
        message=message,
        parts_order=tuple(p.name for p in homework.parts))
