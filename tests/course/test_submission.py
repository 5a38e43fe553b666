"""grader.course.submission: files, folders and notebooks turned into chunks the executor runs."""

from __future__ import annotations

import textwrap
from pathlib import Path

import nbformat
import pytest

from grader.course.manifest import load_course
from grader.course.submission import prepare_submission, split_chunks
from grader.errors import SubmissionError


@pytest.fixture(scope="module")
def hw2(course_root: Path):
    return load_course(course_root).homework("hw2")


def test_chunks_of_a_valid_file():
    chunks, errors = split_chunks("import torch\n\nX = 1\n\n@dec\ndef f(x):\n    return x\n")
    assert errors == []
    assert [c["defines"] for c in chunks] == [[], [], ["f"]]
    assert chunks[2]["lineno"] == 5 and chunks[2]["code"].startswith("@dec")


def test_syntax_error_costs_only_its_function():
    source = textwrap.dedent("""\
        import torch


        def good(x):
            return x + 1


        def broken(x):
            return x +* 2


        def also_good(x):
            y = x * 2
            return y
        """)
    chunks, errors = split_chunks(source)
    assert [e["defines"] for e in errors] == [["broken"]]
    assert "SyntaxError" in errors[0]["message"] and "line 9" in errors[0]["message"]
    defined = [name for c in chunks for name in c["defines"]]
    assert defined == ["good", "also_good"]
    good = next(c for c in chunks if c["defines"] == ["good"])
    assert good["lineno"] == 4  # line numbers stay those of the file


def test_prepared_failed_names(tmp_path: Path, hw2):
    path = tmp_path / "gradients.py"
    path.write_text("import torch\n\ndef softmax(a, dim=-1):\n    return (\n\n"
                    "def relu_grad(x):\n    return (x > 0).to(x.dtype)\n")
    prepared = prepare_submission(path, hw2)
    assert set(prepared.failed_names()) == {"softmax"}
    assert prepared.kind == "py" and len(prepared.sha256) == 64
    assert prepared.module == "gradients" and prepared.id == "gradients"


def _notebook(path: Path, cells: list[str]) -> Path:
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell("# hw2")] + [nbformat.v4.new_code_cell(c)
                                                           for c in cells]
    path.write_text(nbformat.writes(nb), encoding="utf-8")
    return path


def test_notebook_magics_and_shell_escapes_skipped(tmp_path: Path, hw2):
    path = _notebook(tmp_path / "hw2.ipynb", [
        "%matplotlib inline\n!pip install something\nimport torch",
        "%%time\ndef relu_grad(x):\n    return (x > 0).to(x.dtype)",
        "get_ipython().run_line_magic('load_ext', 'autoreload')\nLIMIT = 3",
    ])
    prepared = prepare_submission(path, hw2)
    assert prepared.kind == "ipynb"
    assert "%" not in prepared.source and "!pip" not in prepared.source
    assert "get_ipython" not in prepared.source
    assert "def relu_grad" in prepared.source and "LIMIT = 3" in prepared.source
    assert prepared.syntax_errors == ()


def test_notebook_top_level_code_left_out_and_listed(tmp_path: Path, hw2):
    path = _notebook(tmp_path / "hw2.ipynb", [
        "import torch\nimport time",
        "def tanh_grad(x):\n    return 1 - torch.tanh(x) ** 2",
        "time.sleep(60)",
        "x = torch.randn(3)\nfor i in range(10**9):\n    x = x + 1\nprint(x)",
        "EPS = 1e-6\nNAMES = ('a', 'b')",
    ])
    prepared = prepare_submission(path, hw2)
    assert "sleep" not in prepared.source and "range(10**9)" not in prepared.source
    assert "EPS = 1e-6" in prepared.source and "NAMES" in prepared.source
    left = prepared.left_out
    assert left == ("cell 4, line 1: an expression at top level",
                    "cell 5, line 1: an assignment of a computed value at top level",
                    "cell 5, line 2: a for loop at top level",
                    "cell 5, line 4: an expression at top level")


def test_notebook_later_definition_replaces_earlier(tmp_path: Path, hw2):
    path = _notebook(tmp_path / "hw2.ipynb", [
        "import torch",
        "def relu_grad(x):\n    return x  # first try",
        "def relu_grad(x):\n    return (x > 0).to(x.dtype)  # final",
    ])
    prepared = prepare_submission(path, hw2)
    namespace: dict = {}
    for chunk in prepared.chunks:
        exec(compile("\n" * (chunk["lineno"] - 1) + chunk["code"], "nb", "exec"), namespace)
    import torch

    assert torch.equal(namespace["relu_grad"](torch.tensor([-1.0, 2.0])), torch.tensor([0.0, 1.0]))


def test_notebook_cell_with_syntax_error_costs_its_names(tmp_path: Path, hw2):
    path = _notebook(tmp_path / "hw2.ipynb", [
        "import torch",
        "def softmax(a, dim=-1):\n    return a.exp(",
        "def relu_grad(x):\n    return (x > 0).to(x.dtype)",
    ])
    prepared = prepare_submission(path, hw2)
    assert set(prepared.failed_names()) == {"softmax"}
    assert any("relu_grad" in c["defines"] for c in prepared.chunks)


@pytest.mark.parametrize("content, match", [
    (b"", "empty"), (b"\x00\x01binary", "binary"), (b"\xff\xfe bad", "UTF-8"),
])
def test_unreadable_files(tmp_path: Path, hw2, content: bytes, match: str):
    path = tmp_path / "gradients.py"
    path.write_bytes(content)
    with pytest.raises(SubmissionError, match=match):
        prepare_submission(path, hw2)


def test_bad_notebooks(tmp_path: Path, hw2):
    bad = tmp_path / "hw2.ipynb"
    bad.write_text("{not json")
    with pytest.raises(SubmissionError, match="not a valid notebook"):
        prepare_submission(bad, hw2)
    bad.write_text('{"nbformat": 2, "cells": []}')
    with pytest.raises(SubmissionError, match="too old"):
        prepare_submission(bad, hw2)


def test_folders(tmp_path: Path, hw2):
    with pytest.raises(SubmissionError, match="no gradients.py"):
        prepare_submission(tmp_path, hw2)
    (tmp_path / "mine.py").write_text("import torch\n")
    assert prepare_submission(tmp_path, hw2).filename == "gradients.py"
    (tmp_path / "other.py").write_text("import torch\n")
    with pytest.raises(SubmissionError, match="candidate files"):
        prepare_submission(tmp_path, hw2)
    (tmp_path / "gradients.py").write_text("import torch\n")
    assert prepare_submission(tmp_path, hw2).path == str(tmp_path)
    with pytest.raises(SubmissionError, match="no such file"):
        prepare_submission(tmp_path / "missing.py", hw2)
    (tmp_path / "notes.txt").write_text("hello")
    with pytest.raises(SubmissionError, match="expected a .py file"):
        prepare_submission(tmp_path / "notes.txt", hw2)
