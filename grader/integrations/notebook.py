"""``check("hw3")`` inside a notebook (or any Python session).

    from grader import check
    check("hw3")                                  # in Jupyter: this notebook's own definitions
    check("hw3", "assignments/hw3/backprop.py")   # or a file, a folder or another notebook

In a Jupyter kernel the code graded is what this kernel has run (its input history, so
unsaved edits count): the cells become a notebook, and as with a submitted notebook only
imports, functions, classes and constants are kept (calls to ``check`` are dropped, other
top-level code is listed as left out). The HTML report is displayed inline. In a plain Python
session (or a terminal IPython) the text report is printed, and without a path the
homework's folder under ``assignments/`` is graded, as ``grade check`` does.

The result is returned (a ``SubmissionResult`` with a one-line repr).
"""

from __future__ import annotations

import ast
import html as html_lib
import os
import re
import sys
import tempfile
from dataclasses import fields, replace
from pathlib import Path
from typing import Any

from grader.course.submission import is_check_call
from grader.errors import GraderError
from grader.judge.results import SubmissionResult

__all__ = ["NotebookResult", "check", "kernel_source", "notebook_path", "scoped_html"]


class NotebookResult(SubmissionResult):
    """A SubmissionResult whose repr is one line (the report is displayed separately)."""

    def __repr__(self) -> str:
        return (f"<{self.assignment} result: {self.score:g}/{self.max_score:g}, "
                f"{len(self.tests)} tests; .to_dict() for everything>")

    __str__ = __repr__


class _Report:
    """Displayed in Jupyter: HTML for the browser, the text report for anything else."""

    def __init__(self, result: SubmissionResult) -> None:
        self.result = result

    def _repr_html_(self) -> str:
        from grader.reports.render import render

        return scoped_html(render(self.result, "html"))

    def __repr__(self) -> str:
        from grader.reports.render import render

        return render(self.result, "text")


def _ipython() -> Any:
    ip_module = sys.modules.get("IPython")
    if ip_module is None:
        return None
    try:
        return ip_module.get_ipython()
    except Exception:  # noqa: BLE001 - any failure means "not in IPython"
        return None


def _in_kernel(ip: Any) -> bool:
    return ip is not None and getattr(ip, "kernel", None) is not None


def scoped_html(page: str, scope: str = "grader-report") -> str:
    """A full HTML report turned into a fragment whose styles apply only inside it."""
    style = re.search(r"<style>(.*?)</style>", page, re.S)
    body = re.search(r"<body[^>]*>(.*)</body>", page, re.S)
    content = body.group(1) if body else page
    css = ""
    if style:
        rules = []
        for selectors, decl in re.findall(r"([^{}]+)\{([^{}]*)\}", style.group(1)):
            scoped = []
            for sel in selectors.split(","):
                sel = sel.strip()
                scoped.append(f".{scope}" if sel in ("body", "html") else f".{scope} {sel}")
            rules.append(f"{', '.join(scoped)} {{{decl}}}")
        css = "<style>\n" + "\n".join(rules) + "\n</style>\n"
    return f'<div class="{scope}">\n{css}{content}</div>\n'


def notebook_path(ip: Any = None) -> Path | None:
    """The running notebook's file, when the front end tells the kernel (JupyterLab and
    Notebook 7 set JPY_SESSION_NAME, VS Code sets ``__vsc_ipynb_file__``)."""
    ip = ip if ip is not None else _ipython()
    ns = getattr(ip, "user_ns", {}) or {}
    for candidate in (ns.get("__vsc_ipynb_file__"), ns.get("__session__"),
                      os.environ.get("JPY_SESSION_NAME")):
        if isinstance(candidate, str) and candidate.endswith(".ipynb"):
            path = Path(candidate)
            if not path.is_absolute():
                path = Path.cwd() / path
            if path.is_file():
                return path
    return None


def _drop_check_calls(code: str) -> str:
    try:
        tree = ast.parse(code)
    except SyntaxError:
        return code
    lines = code.splitlines()
    for node in reversed(tree.body):
        if is_check_call(node):
            del lines[node.lineno - 1:node.end_lineno or node.lineno]
    return "\n".join(lines)


def kernel_source(ip: Any) -> list[str]:
    """The code cells this kernel has run, in order, without the calls to ``check``."""
    history = list(getattr(ip, "user_ns", {}).get("In", []) or [])
    if not history:
        manager = getattr(ip, "history_manager", None)
        history = list(getattr(manager, "input_hist_parsed", []) or [])
    cells = [_drop_check_calls(str(code)) for code in history]
    return [c for c in cells if c.strip()]


def _grade_kernel(hw_id: str, ip: Any, course: Any, overrides: dict[str, Any],
                  ) -> SubmissionResult:
    import nbformat

    from grader.api import check_submission

    cells = kernel_source(ip)
    nb_file = notebook_path(ip)
    if not cells:
        if nb_file is None:
            raise GraderError("this kernel has run no code yet; run your cells first, or pass "
                              f"a file: check({hw_id!r}, 'path/to/file.py')")
        return check_submission(hw_id, nb_file, course=course, **overrides).result
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(code) for code in cells]
    with tempfile.TemporaryDirectory(prefix="grader-notebook-") as tmp:
        name = nb_file.name if nb_file else f"{hw_id}.ipynb"
        path = Path(tmp) / name
        nbformat.write(nb, str(path))
        result = check_submission(hw_id, path, course=course, **overrides).result
    shown = str(nb_file) if nb_file else "this notebook (kernel history)"
    submission = {**result.submission, "id": nb_file.stem if nb_file else "notebook",
                  "path": shown}
    return replace(result, submission=submission)


def _as_notebook_result(result: SubmissionResult) -> NotebookResult:
    return NotebookResult(**{f.name: getattr(result, f.name) for f in fields(result)})


def check(hw_id: str, path: str | os.PathLike[str] | None = None, *,
          course: str | os.PathLike[str] | None = None, quiet: bool = False,
          **overrides: Any) -> NotebookResult | None:
    """Grade ``hw_id`` and show the report; returns the result.

    ``path``: a ``.py`` file, a folder or a notebook; default in Jupyter: this notebook's own
    definitions; elsewhere: ``assignments/HW/``. ``course``: the course folder (default:
    found from the current folder). ``overrides``: settings such as ``device="cuda"``.
    In Jupyter a grader error (unknown homework, unreadable file) is shown as one line and
    None is returned; elsewhere it is raised.
    """
    from grader.api import check_submission
    from grader.compat import check_torch
    from grader.reports.render import render

    check_torch()
    ip = _ipython()
    kernel = _in_kernel(ip)
    course_dir = Path(course) if course is not None else None
    try:
        if path is None and kernel:
            result = _grade_kernel(hw_id, ip, course_dir, overrides)
        else:
            result = check_submission(hw_id, Path(path) if path is not None else None,
                                      course=course_dir, **overrides).result
    except GraderError as err:
        if not kernel:
            raise
        from IPython.display import HTML, display

        display(HTML(f'<p style="color:#a11"><b>grade: error:</b> '
                     f'{html_lib.escape(str(err))}</p>'))
        return None
    out = _as_notebook_result(result)
    if not quiet:
        if kernel:
            from IPython.display import display

            display(_Report(out))
        else:
            print(render(out, "text"), end="")
    return out
