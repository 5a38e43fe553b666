"""``gradebook.csv``: one row per student, one column per part, the total and the status.

UTF-8 (with no byte-order mark), comma-separated, rows sorted by student id, columns in a
stable order: ``student``, the parts in the manifest's order, ``total``, ``max``, ``status``,
``sha256``. An unreadable submission or one the judges could not finish has empty part
cells and a total of 0.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from pathlib import Path

from grader.judge.results import SubmissionResult
from grader.reports.files import write_atomic

__all__ = ["gradebook_rows", "write_gradebook"]


def _part_names(results: Sequence[SubmissionResult]) -> list[str]:
    names: list[str] = []
    for r in results:
        for name in (r.parts_order or tuple(p.name for p in r.parts())):
            if name not in names:
                names.append(name)
    return names


def gradebook_rows(results: Sequence[SubmissionResult]) -> list[list[str]]:
    """The header and one row per student."""
    parts = _part_names(results)
    rows = [["student", *parts, "total", "max", "status", "sha256"]]
    for r in sorted(results, key=lambda r: r.student):
        points = {p.name: f"{round(p.points, 3):g}" for p in r.parts()}
        rows.append([r.student, *(points.get(name, "") for name in parts), f"{r.score:g}",
                     f"{r.max_score:g}", r.status, r.submission.get("sha256", "")])
    return rows


def write_gradebook(path: Path, results: Sequence[SubmissionResult]) -> None:
    """Write the gradebook atomically."""
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerows(gradebook_rows(results))
    write_atomic(Path(path), buf.getvalue())
