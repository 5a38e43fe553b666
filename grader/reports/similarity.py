"""Presenting similarity: ``similarity.html`` (the top pairs side by side, shared code marked),
the terminal summary, ``similarity.json``, and the section of ``class.html``.

The batch computes the section cheaply: it compares again only when the code or the stub
changed since its ``similarity.json`` (the report's key), and a missing copydetect, or any
failure of the comparison, leaves a line in the section instead of failing the batch whose
results are already written.
"""

from __future__ import annotations

import importlib.util
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from grader.course.lms import Entry
from grader.course.manifest import Homework
from grader.reports.files import write_atomic
from grader.similarity.fingerprint import INSTALL_HINT
from grader.similarity.rank import (
    FILE,
    HTML_NAME,
    JSON_NAME,
    NOTE,
    SCHEMA,
    Match,
    SimilarityReport,
    compare_read,
    read_entries,
    report_key,
)

__all__ = ["CLASS_PAIRS", "NOT_COMPUTED", "batch_similarity", "class_section", "have_copydetect",
           "render_similarity", "write_similarity"]

CLASS_PAIRS = 5
"""Pairs class.html lists; similarity.html has them all."""
SIDE_BY_SIDE_PER_PART = 3


def have_copydetect() -> bool:
    """Whether copydetect is installed (without importing it and matplotlib)."""
    return importlib.util.find_spec("copydetect") is not None


def _segments(text: str, regions: Sequence[tuple[int, int]]) -> list[dict[str, Any]]:
    """``text`` cut into runs, each marked shared or not."""
    runs: list[dict[str, Any]] = []
    at = 0
    for start, end in sorted(regions):
        start, end = max(start, at), min(end, len(text))
        if end <= start:
            continue
        if start > at:
            runs.append({"text": text[at:start], "shared": False})
        runs.append({"text": text[start:end], "shared": True})
        at = end
    if at < len(text):
        runs.append({"text": text[at:], "shared": False})
    return runs


def _view(report: SimilarityReport, m: Match, anchor: str) -> dict[str, Any]:
    sides = []
    for side in ("a", "b"):
        c = report.submission(getattr(m, side))
        sides.append({"id": c.id, "path": c.path, "kind": c.kind,
                      "share": getattr(m, f"share_{side}"),
                      "runs": _segments(c.text(m.scope), getattr(m, f"regions_{side}"))})
    return {"anchor": anchor, "scope": m.scope, "a": m.a, "b": m.b, "score": m.score,
            "share_a": m.share_a, "share_b": m.share_b, "shared": m.shared, "sides": sides}


def _context(report: SimilarityReport) -> dict[str, Any]:
    files = [_view(report, m, f"file-{i}") for i, m in enumerate(report.files, start=1)]
    parts = []
    for name, matches in report.parts:
        views = [_view(report, m, f"{name}-{i}") for i, m in enumerate(matches, start=1)]
        parts.append({"name": name, "pairs": views, "shown": views[:SIDE_BY_SIDE_PER_PART],
                      "compared": sum(name in c.parts for c in report.submissions)})
    return {"r": report, "note": NOTE, "files": files, "parts": parts}


def render_similarity(report: SimilarityReport, fmt: str) -> str:
    """The report as ``html`` (one self-contained page), ``text`` (the terminal summary) or
    ``json`` (strict: no NaN or Infinity)."""
    from grader.reports.render import render_template

    if fmt == "json":
        return json.dumps(report.to_dict(), indent=2, allow_nan=False) + "\n"
    if fmt not in ("html", "text"):
        raise ValueError(f"unknown format {fmt!r}; expected html, text or json")
    return render_template(f"similarity.{'html' if fmt == 'html' else 'txt'}.j2",
                           **_context(report))


def write_similarity(report: SimilarityReport, out: str | Path) -> list[Path]:
    """Write ``out/similarity.html`` and ``out/similarity.json``; the paths written."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for name, fmt in ((HTML_NAME, "html"), (JSON_NAME, "json")):
        write_atomic(out / name, render_similarity(report, fmt))
        written.append(out / name)
    return written


def _write_failure(out: Path, message: str) -> None:
    (out / HTML_NAME).unlink(missing_ok=True)
    write_atomic(out / JSON_NAME, json.dumps({"schema": SCHEMA, "error": message}) + "\n")


def _stored_key(out: Path) -> str:
    try:
        return str(json.loads((out / JSON_NAME).read_text(encoding="utf-8")).get("key", ""))
    except (OSError, ValueError, AttributeError):
        return ""


def batch_similarity(homework: Homework, entries: Sequence[Entry], out: str | Path, *,
                     top: int = 10, max_shared: int = 10) -> str:
    """The batch's similarity step: ``out/similarity.{json,html}`` from ``entries``; returns
    ``"written"``, ``"cached"``, ``"missing"`` (copydetect not installed) or ``"failed"``."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    if not have_copydetect():
        for name in (JSON_NAME, HTML_NAME):  # an old report would describe other code
            (out / name).unlink(missing_ok=True)
        return "missing"
    try:
        compared, unreadable = read_entries(homework, entries)
        key = report_key(homework, compared, unreadable, top, max_shared)
        if key == _stored_key(out) and (out / HTML_NAME).is_file():
            return "cached"
        report = compare_read(homework, compared, unreadable, top=top, max_shared=max_shared)
        write_similarity(report, out)
    except Exception as err:  # a hint must never cost the batch its outputs
        _write_failure(out, f"{type(err).__name__}: {' '.join(str(err).split())[:300]}")
        return "failed"
    return "written"


NOT_COMPUTED: dict[str, Any] = {
    "state": "none", "note": NOTE, "pairs": [], "link": HTML_NAME, "compared": 0,
    "message": "Not computed for this class report."}
"""The section of a class report rendered without a batch folder."""


def class_section(out: str | Path) -> dict[str, Any]:
    """What class.html says about similarity, read from ``out/similarity.json``."""
    path = Path(out) / JSON_NAME
    section = dict(NOT_COMPUTED)
    if not path.is_file():
        if not have_copydetect():
            section["message"] = f"Not computed: copydetect is not installed ({INSTALL_HINT})."
        else:
            section["message"] = ("Not computed for this folder: run `grade similarity HW "
                                  "SUBMISSIONS --out DIR` with this folder as DIR.")
        return section
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        if data.get("schema") != SCHEMA:
            raise ValueError(f"schema {data.get('schema')!r}, expected {SCHEMA}")
    except (OSError, ValueError, AttributeError) as err:
        section["message"] = f"{path.name} cannot be read ({err}); run `grade similarity` again."
        return section
    if "error" in data:
        section["message"] = f"The comparison failed: {data['error']}"
        return section
    section.update(state="ok", compared=len(data.get("submissions", [])),
                   pairs=[m for m in data.get("files", []) if m.get("scope") == FILE][:CLASS_PAIRS])
    return section
