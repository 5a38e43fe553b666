"""Presentation: results rendered through Jinja templates (StrictUndefined).

Formats for one submission: ``text`` (the terminal), ``json``, ``html`` (a self-contained
page, mismatches drawn in SVG), ``md``. A failing test's mismatch map (``grader.judge.maps``)
is drawn by the macros of ``maps.txt.j2`` (block characters under a part's message, for
small results) and ``maps.html.j2`` (an SVG heatmap per slice, with the values side by side
for small public results).
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


_SHADES = ((1.0, "\u00b7"), (10.0, "\u2591"), (100.0, "\u2592"), (1e4, "\u2593"))


def _shade(ratio: float) -> str:
    """One character of a text map: a dot within the bound, then light to full blocks."""
    value = float(ratio)
    return next((char for bound, char in _SHADES if value <= bound), "\u2588")


def _heat(ratio: float) -> str:
    """The fill of one heatmap cell: greens within the bound, yellow to dark red above it
    (log scale of |error|/bound up to 1e6)."""
    value = float(ratio)
    if not value > 1.0:
        return "#eef5ef" if value < 0.5 else "#cfe6d3"
    t = min(1.0, math.log10(value) / 6.0)
    low, high = (246, 213, 92), (139, 0, 0)
    r, g, b = (round(a + (z - a) * t) for a, z in zip(low, high))
    return f"#{r:02x}{g:02x}{b:02x}"


@lru_cache(maxsize=1)
def _env() -> jinja2.Environment:
    env = jinja2.Environment(loader=jinja2.PackageLoader("grader.reports", "templates"),
                             undefined=jinja2.StrictUndefined, keep_trailing_newline=True,
                             trim_blocks=True, lstrip_blocks=True,
                             autoescape=jinja2.select_autoescape(["html.j2"]))
    env.filters["num"] = _num
    env.filters["mark"] = lambda status: _MARK.get(status, status)
    env.filters["logx"] = _log_width
    env.filters["shade"] = _shade
    env.filters["heat"] = _heat
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
    maps = {t.id: t.details["map"] for t in result.tests
            if isinstance(t.details.get("map"), dict)}
    return render_template(f"submission.{ext}.j2", r=result, parts=result.parts(),
                           hidden_run=hidden_run, maps=maps)
