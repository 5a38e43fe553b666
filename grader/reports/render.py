"""Presentation: results rendered through Jinja templates (StrictUndefined).

Formats for one submission: ``text`` (the terminal), ``json``, ``html`` (a self-contained
page, mismatches drawn in SVG), ``md``.
"""

from __future__ import annotations

import json
import math
from functools import lru_cache
from typing import Any

import jinja2

from grader.judge.results import SubmissionResult
from grader.status import Status

__all__ = ["FORMATS", "render", "render_template"]

FORMATS = ("text", "json", "html", "md")
_MARK = {Status.PASSED: "ok", Status.FAILED: "FAIL", Status.ERROR: "ERROR",
         Status.TIMEOUT: "TIMEOUT", Status.CRASHED: "CRASH", Status.FORBIDDEN: "FORBIDDEN",
         Status.NOT_IMPLEMENTED: "todo", Status.SKIPPED: "skip"}


def _num(x: float) -> str:
    return f"{x:g}"


def _log_width(value: float, lo: float = 1e-12, hi: float = 1e3, width: float = 200.0) -> float:
    """Position of a positive number on a log axis from ``lo`` to ``hi``, in pixels."""
    if not value or value <= 0 or math.isnan(value):
        return 0.0
    clipped = min(max(value, lo), hi)
    return round(width * (math.log10(clipped) - math.log10(lo)) /
                 (math.log10(hi) - math.log10(lo)), 1)


@lru_cache(maxsize=1)
def _env() -> jinja2.Environment:
    env = jinja2.Environment(loader=jinja2.PackageLoader("grader.reports", "templates"),
                             undefined=jinja2.StrictUndefined, keep_trailing_newline=True,
                             trim_blocks=True, lstrip_blocks=True,
                             autoescape=jinja2.select_autoescape(["html.j2"]))
    env.filters["num"] = _num
    env.filters["mark"] = lambda status: _MARK.get(status, status)
    env.filters["logx"] = _log_width
    return env


def render_template(name: str, **context: Any) -> str:
    """Render one of the package's templates."""
    return _env().get_template(name).render(**context)


def render(result: SubmissionResult, fmt: str) -> str:
    """A submission's result in one of FORMATS."""
    if fmt == "json":
        return json.dumps(result.to_dict(), indent=2, allow_nan=False) + "\n"
    if fmt not in FORMATS:
        raise ValueError(f"unknown format {fmt!r}; expected one of {', '.join(FORMATS)}")
    ext = {"text": "txt", "html": "html", "md": "md"}[fmt]
    hidden_run = sum(t.visibility == "hidden" for t in result.tests)
    return render_template(f"submission.{ext}.j2", r=result, parts=result.parts(),
                           hidden_run=hidden_run)
