"""The notebook of a homework in the student bundle (``hwN.ipynb``), built from its stub.

One markdown cell introduces the homework; a code cell holds the stub's imports and given
code; then, per part in the manifest's order, a markdown cell with the part's docstring (the
spec), a code cell with the stub itself (to fill in) and a ``check("hwN")`` cell. The notebook
is graded exactly like the ``.py``: the check cells are left out of the graded module.
"""

from __future__ import annotations

import ast
import inspect
from typing import Any

import nbformat

from grader.course.manifest import Homework
from grader.errors import ConfigError

__all__ = ["homework_notebook"]


def _segments(source: str, hw: Homework) -> tuple[list[str], dict[str, tuple[str, str]]]:
    """The stub's given code (imports, helpers) and, per part, (docstring, source)."""
    try:
        tree = ast.parse(source)
    except SyntaxError as err:
        raise ConfigError(f"{hw.stub_path}: the stub does not parse ({err})") from None
    lines = source.splitlines()
    parts = {p.name for p in hw.parts}
    given: list[str] = []
    defined: dict[str, tuple[str, str]] = {}
    for node in tree.body:
        start = min([node.lineno, *(d.lineno for d in getattr(node, "decorator_list", []))])
        text = "\n".join(lines[start - 1:node.end_lineno])
        if isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant) and \
                node is tree.body[0]:
            continue  # the module docstring goes into the first markdown cell
        if isinstance(node, ast.ImportFrom) and node.module == "__future__":
            continue  # only legal first in a module; annotations evaluate fine in 3.11
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) and \
                node.name in parts:
            defined[node.name] = (ast.get_docstring(node) or "", text)
        else:
            given.append(text)
    return given, defined


def homework_notebook(hw: Homework) -> Any:
    """The homework's notebook (an nbformat v4 NotebookNode)."""
    source = hw.stub_path.read_text(encoding="utf-8")
    given, defined = _segments(source, hw)
    missing = [p.name for p in hw.parts if p.name not in defined]
    if missing:
        raise ConfigError(f"{hw.stub_path}: the stub does not define {', '.join(missing)}, "
                          f"which course.toml lists as parts of {hw.id}")
    intro = inspect.cleandoc(ast.get_docstring(ast.parse(source)) or "")
    v4 = nbformat.v4
    cells = [v4.new_markdown_cell(
        f"# {hw.id}: {hw.title}\n\n{intro}\n\n"
        f"Fill in each function below (replace `raise NotImplementedError`), run its cell, then "
        f"run the `check(\"{hw.id}\")` cell under it: it grades this notebook's own "
        f"definitions, one line per part. `grade check {hw.id} {hw.id}.ipynb` in a terminal "
        f"grades the saved notebook the same way."),
        v4.new_code_cell("\n".join(["from grader import check", *given]))]
    for part in hw.parts:
        doc, text = defined[part.name]
        cells += [v4.new_markdown_cell(f"## `{part.name}` ({part.points:g} points)\n\n"
                                       f"```text\n{inspect.cleandoc(doc)}\n```"),
                  v4.new_code_cell(text),
                  v4.new_code_cell(f'check("{hw.id}")')]
    notebook = v4.new_notebook(cells=cells)
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                       "language": "python"}
    return notebook
