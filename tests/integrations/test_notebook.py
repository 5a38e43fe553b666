"""``from grader import check; check("hw2", ...)`` in a real notebook executed by nbclient,
and in a plain Python session."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
HW = "hw2"

pytestmark = pytest.mark.slow


def _kernel_or_skip() -> str:
    nbclient = pytest.importorskip("nbclient", reason="nbclient is not installed")
    pytest.importorskip("ipykernel", reason="ipykernel is not installed (pip install ipykernel)")
    from jupyter_client.kernelspec import KernelSpecManager, NoSuchKernel

    try:
        KernelSpecManager().get_kernel_spec("python3")
    except NoSuchKernel:
        pytest.skip("no python3 Jupyter kernel spec (python -m ipykernel install --user)")
    return nbclient.__version__


def test_check_in_an_executed_notebook(tmp_path):
    _kernel_or_skip()
    import nbformat
    from nbclient import NotebookClient

    solution = ROOT / "solutions" / HW
    source = next(p for p in solution.iterdir() if p.suffix == ".py")
    submission = tmp_path / source.name
    submission.write_text(source.read_text(encoding="utf-8"), encoding="utf-8")
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_code_cell("import torch\n\n"
                                  "def sigmoid_grad(x):\n"
                                  "    s = torch.sigmoid(x)\n"
                                  "    return s * (1 - s)\n"),
        nbformat.v4.new_code_cell("def cross_entropy_grad(logits, target):\n"
                                  "    p = logits.softmax(dim=1)\n"
                                  "    hot = torch.zeros_like(p).scatter_(1, target[:, None], 1.0)\n"
                                  "    return p - hot  # the mean's 1/N forgotten\n"),
        nbformat.v4.new_code_cell("print('a top-level statement')"),
        nbformat.v4.new_code_cell(f"from grader import check\n"
                                  f"r = check({HW!r}, {str(submission)!r})\n"
                                  f"print('SCORE', r.score, r.max_score)"),
        nbformat.v4.new_code_cell(f"own = check({HW!r})\n"
                                  f"print('OWN', own.score, own.submission['path'], "
                                  f"sorted({{p.name: str(p.status) for p in own.parts()}}.items()))"),
    ]
    # The kernel must import this checkout's grader, whatever is installed in the kernel.
    nb.cells.insert(0, nbformat.v4.new_code_cell(
        f"import sys; sys.path.insert(0, {str(ROOT)!r})"))
    client = NotebookClient(nb, timeout=240, kernel_name="python3",
                            resources={"metadata": {"path": str(ROOT)}})
    client.execute()
    outputs = [o for cell in nb.cells for o in cell.get("outputs", [])]
    html = "".join(o.get("data", {}).get("text/html", "") for o in outputs)
    text = "".join(o.get("text", "") for o in outputs if o.get("output_type") == "stream")
    errors = [o for o in outputs if o.get("output_type") == "error"]
    assert not errors, errors
    # The named file: the solution, full marks, the report displayed as HTML.
    assert 'class="grader-report"' in html
    assert "sigmoid_grad" in html and "Score" in html
    score_line = next(line for line in text.splitlines() if line.startswith("SCORE"))
    _, score, max_score = score_line.split()
    assert float(score) == pytest.approx(float(max_score)) and float(max_score) > 0
    # The notebook's own definitions: sigmoid_grad passes, the rest is not defined there.
    own_line = next(line for line in text.splitlines() if line.startswith("OWN"))
    assert "kernel history" in own_line
    assert "('sigmoid_grad', 'passed')" in own_line
    assert own_line.count("'passed'") == 1
    # The wrong cross_entropy_grad: the diagnosis and the mismatch map, inline.
    assert "('cross_entropy_grad', 'failed')" in own_line
    assert "6.00 times the expected" in html
    assert '<svg class="heatmap"' in html and "<rect" in html
    assert ".grader-report table.vals td" in html  # the map's styles, scoped to the report
    # The text report is there too, for front ends without HTML.
    plain = "".join(o.get("data", {}).get("text/plain", "") for o in outputs)
    assert "score" in plain


def test_check_outside_jupyter_prints_the_text_report(capsys, monkeypatch):
    from grader import check

    monkeypatch.chdir(ROOT)
    r = check(HW, ROOT / "solutions" / HW)
    out = capsys.readouterr().out
    assert "score " in out and "sigmoid_grad" in out
    assert type(r).__name__ == "NotebookResult" and r.score == r.max_score > 0
    assert repr(r).startswith(f"<{HW} result:")
