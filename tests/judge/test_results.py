"""Results are strict JSON everywhere (results/*.json, --format json, grade export, Gradescope's
results.json): a non-finite number is a string, which a strict parser reads."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
from click.testing import CliRunner

from grader.cli import main
from grader.judge import results as gr

ROOT = Path(__file__).resolve().parents[2]
WRONG_RELU = ROOT / "tests" / "submissions" / "hw2" / "wrong_relu_grad_one_at_zero.py"


def strict_loads(text: str):
    """json.loads as JavaScript, jq and LMS importers read JSON: no NaN or Infinity."""
    def refuse(name: str):
        raise ValueError(f"not JSON: {name}")

    return json.loads(text, parse_constant=refuse)


def _mismatch_result() -> gr.SubmissionResult:
    test = gr.TestResult(id="t.py::test_relu", part="relu_grad", visibility="public",
                         points=0.0, max_points=1.0, status="failed", stage="values",
                         message="differs",
                         details={"max_rel": math.inf, "max_abs": 1.0, "got": -math.inf,
                                  "expected": math.nan, "index": [2]})
    return gr.SubmissionResult(assignment="hw2", submission={"id": "ana", "path": "ana.py",
                                                             "sha256": "x"},
                               score=0.0, max_score=1.0, status="graded", device="cpu",
                               isolation="process", versions={"suite": "s"}, duration_s=0.1,
                               tests=(test,), parts_order=("relu_grad",))


def test_to_dict_is_strict_json_and_from_dict_reads_it_back():
    result = _mismatch_result()
    text = json.dumps(result.to_dict(), allow_nan=False)
    details = strict_loads(text)["tests"][0]["details"]
    assert details["max_rel"] == "Infinity" and details["got"] == "-Infinity"
    assert details["expected"] == "NaN" and details["max_abs"] == 1.0
    back = gr.SubmissionResult.from_dict(strict_loads(text)).tests[0].details
    assert back["max_rel"] == math.inf and back["got"] == -math.inf
    assert math.isnan(back["expected"]) and back["index"] == [2]


def test_the_json_report_is_strict_json():
    from grader.reports.render import render

    data = strict_loads(render(_mismatch_result(), "json"))
    assert data["tests"][0]["details"]["max_rel"] == "Infinity"


@pytest.mark.slow
def test_check_batch_and_export_write_strict_json(tmp_path, monkeypatch):
    """relu_grad wrong at 0: the reference is 0 there, so the relative error is infinite."""
    monkeypatch.chdir(ROOT)
    runner = CliRunner()
    res = runner.invoke(main, ["check", "hw2", str(WRONG_RELU), "--format", "json"])
    assert res.exit_code == 1, res.output
    data = strict_loads(res.stdout)
    assert any(t["details"].get("max_rel") == "Infinity" for t in data["tests"])
    subs = tmp_path / "subs"
    subs.mkdir()
    (subs / "ana.py").write_text(WRONG_RELU.read_text())
    out = tmp_path / "out"
    res = runner.invoke(main, ["batch", "hw2", str(subs), "--out", str(out), "-q", "--jobs", "1",
                               "--format", "json"])
    assert res.exit_code == 0, res.output
    on_disk = strict_loads((out / "results" / "ana.json").read_text())
    assert any(t["details"].get("max_rel") == "Infinity" for t in on_disk["tests"])
    res = runner.invoke(main, ["export", str(out), "--format", "json"])
    assert res.exit_code == 0, res.output
    assert strict_loads(res.stdout)["results"][0]["tests"] == on_disk["tests"]
    from grader.integrations.gradescope import _write_json, to_gradescope

    gradescope = tmp_path / "results.json"
    _write_json(gradescope, to_gradescope(gr.SubmissionResult.from_dict(on_disk),
                                          hidden_visibility="visible"))
    assert strict_loads(gradescope.read_text())["score"] == on_disk["score"]
