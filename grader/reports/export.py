"""A batch's results (``DIR/results/*.json``) as one file: ``grade export``, and the
``gradebook.csv`` that ``grade batch`` writes.

* ``csv``: one header row, then one row per submission sorted by student id; the columns are
  ``student, status, score, max_score``, one ``part:NAME`` column per part (in the manifest's
  order), then ``passed_tests, total_tests, hidden_tests, message, path, sha256, suite,
  duration_s``. UTF-8, ``\\r\\n`` line ends (RFC 4180), numbers without trailing zeros.
* ``gradebook``: ``gradebook.csv``: ``student``, one column per part, ``total``, ``max``,
  ``status``, ``sha256``; a submission that could not be graded has empty part cells.
* ``gradescope``: a CSV for Gradescope's score upload: ``SID`` (or ``Email`` when every id
  looks like an address), ``Total Score``, then one column per part.
* ``json``: ``{"schema": "grader.export/1", "results": [...]}``, each result as written by
  ``grade check --format json``.
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

from grader.errors import UsageError
from grader.judge.results import SubmissionResult
from grader.reports.files import load_results
from grader.status import Status, SubmissionStatus

__all__ = ["CSV_COLUMNS", "EXPORT_SCHEMA", "export", "gradebook_rows", "to_csv",
           "to_gradebook_csv", "to_gradescope_csv",
           "to_json"]

EXPORT_SCHEMA = "grader.export/1"
CSV_COLUMNS = ("student", "status", "score", "max_score")
CSV_TAIL = ("passed_tests", "total_tests", "hidden_tests", "message", "path", "sha256", "suite",
            "duration_s")


def _num(x: float) -> str:
    return f"{round(x, 6):g}"


def _parts(results: list[SubmissionResult]) -> list[str]:
    names: dict[str, None] = {}
    for r in results:
        for name in r.parts_order or tuple(t.part for t in r.tests):
            names.setdefault(name, None)
    return list(names)


def _part_points(r: SubmissionResult) -> dict[str, str]:
    return {p.name: _num(p.points) for p in r.parts()}


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _write_csv(header: list[str], rows: list[list[str]]) -> str:
    buf = io.StringIO(newline="")
    writer = csv.writer(buf, lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows(rows)
    return buf.getvalue()


def to_csv(results: list[SubmissionResult]) -> str:
    parts = _parts(results)
    header = [*CSV_COLUMNS, *(f"part:{p}" for p in parts), *CSV_TAIL]
    rows = []
    for r in results:
        points = _part_points(r)
        rows.append([r.student, r.status, _num(r.score), _num(r.max_score),
                     *(points.get(p, "0" if r.status != SubmissionStatus.GRADED else "") for p in parts),
                     str(sum(t.status == Status.PASSED for t in r.tests)), str(len(r.tests)),
                     str(sum(t.visibility == "hidden" for t in r.tests)), _one_line(r.message),
                     r.submission.get("path", ""), r.submission.get("sha256", ""),
                     r.versions.get("suite", ""), _num(r.duration_s)])
    return _write_csv(header, rows)


def gradebook_rows(results: list[SubmissionResult]) -> list[list[str]]:
    """``gradebook.csv``'s header and one row per student (sorted by id): ``student``, the
    parts in the manifest's order, ``total``, ``max``, ``status``, ``sha256``. A submission
    that could not be read or graded has empty part cells and a total of 0."""
    parts = _parts(results)
    rows = [["student", *parts, "total", "max", "status", "sha256"]]
    for r in sorted(results, key=lambda r: r.student):
        points = _part_points(r)
        rows.append([r.student, *(points.get(name, "") for name in parts), _num(r.score),
                     _num(r.max_score), r.status, r.submission.get("sha256", "")])
    return rows


def to_gradebook_csv(results: list[SubmissionResult]) -> str:
    header, *rows = gradebook_rows(results)
    return _write_csv(header, rows)


def to_gradescope_csv(results: list[SubmissionResult]) -> str:
    parts = _parts(results)
    key = "Email" if results and all("@" in r.student for r in results) else "SID"
    rows = []
    for r in results:
        points = _part_points(r)
        rows.append([r.student, _num(r.score), *(points.get(p, "0") for p in parts)])
    return _write_csv([key, "Total Score", *parts], rows)


def to_json(results: list[SubmissionResult]) -> str:
    return json.dumps({"schema": EXPORT_SCHEMA, "count": len(results),
                       "results": [r.to_dict() for r in results]},
                      indent=2, ensure_ascii=False, allow_nan=False) + "\n"


def export(batch_dir: Path, fmt: str) -> tuple[str, int]:
    """The batch's results in ``fmt`` (csv, gradescope or json), and how many there are."""
    writers: dict[str, Any] = {"csv": to_csv, "gradebook": to_gradebook_csv,
                               "gradescope": to_gradescope_csv, "json": to_json}
    if fmt not in writers:
        raise UsageError(f"--format {fmt!r}: expected one of {', '.join(writers)}")
    results = sorted(load_results(batch_dir).values(),
                     key=lambda r: (r.student, r.submission.get("path", "")))
    return writers[fmt](results), len(results)
