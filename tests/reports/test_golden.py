"""Golden files for the text, Markdown and HTML reports of one fixed result, with mismatch
maps and diagnoses from real comparisons of fixed tensors (a public and a hidden one).

Regenerate after an intended change of a template with ``GRADER_UPDATE_GOLDENS=1 pytest
tests/reports/test_golden.py`` and review the diff.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import torch

from grader.judge import results
from grader.judge.compare import Mismatch, assert_close
from grader.judge.outcomes import mismatch_details
from grader.judge.results import SubmissionResult
from grader.reports.render import render

T = results.TestResult  # aliased: pytest would try to collect a class named Test*

GOLDEN = Path(__file__).resolve().parents[1] / "golden"
UPDATE = os.environ.get("GRADER_UPDATE_GOLDENS") == "1"


def _compared(test_id: str, part: str, hidden: bool, got: torch.Tensor,
              want: torch.Tensor) -> results.TestResult:
    """A failing test as the plugin records it, from a real comparison of fixed tensors: its
    message with the diagnosis, its details with the mismatch map (no values when hidden)."""
    try:
        assert_close(got, want, name=f"{part}(...)", profile="accumulate")
    except Mismatch as m:
        return T(test_id, part, "hidden" if hidden else "public", 0.0, 1.0, "failed", m.stage,
                 m.public_message if hidden else m.message, 0.01, mismatch_details(m, hidden))
    raise AssertionError("the fixed tensors must differ")


def _maps_tests() -> list[results.TestResult]:
    grad = torch.arange(12, dtype=torch.float64).reshape(4, 3) / 10 - 0.55
    jac = torch.arange(27, dtype=torch.float64).reshape(3, 3, 3) / 9 - 1.5
    no_diag = jac.clone()
    no_diag[:, range(3), range(3)] = 0.25
    return [_compared("public/test_a.py::test_ce_grad", "cross_entropy_grad", False, 4 * grad,
                      grad),
            _compared("hidden/test_b.py::test_mse_grad_batched", "linear_mse_grad", True,
                      no_diag, jac)]


def fixed_result() -> SubmissionResult:
    t = [
        T("public/test_a.py::test_softmax_rows", "softmax", "public", 1.0, 1.0,
                   "passed", duration_s=0.01),
        T("hidden/test_b.py::test_softmax_stable", "softmax", "hidden", 0.0, 1.0,
                   "failed", "values", "softmax(...) has nan where the reference is finite "
                   "(2 element(s)); hint: subtract the row maximum before exp", 0.02,
                   {"nonfinite": 2}),
        T("public/test_a.py::test_relu_grad", "relu_grad", "public", 0.0, 1.0,
                   "failed", "values", "relu_grad(...) differs at 1 of 6 elements; worst "
                   "absolute error 1 at [2]: got 1, expected 0; worst relative error 1e+300 "
                   "at [2]; allowed |got - expected| <= 1e-07 + 1e-07*|expected|", 0.01,
                   {"mismatched": 1, "total": 6, "max_abs": 1.0, "max_rel": 1e300,
                    "rtol": 1e-7, "atol": 1e-7, "index": [2]}),
        T("public/test_a.py::test_tanh", "tanh_grad", "public", 0.0, 1.0,
                   "timeout", "call", "timed out after 2 s in `tanh_grad`", 2.0),
        T("public/test_a.py::test_ce", "cross_entropy", "public", 0.0, 2.0,
                   "forbidden", "forbidden", "`cross_entropy` uses "
                   "torch.nn.functional.cross_entropy, which is forbidden in this part", 0.0),
        T("public/test_a.py::test_sig", "sigmoid_grad", "public", 0.0, 1.0,
                   "not_implemented", "call", "`sigmoid_grad` is not implemented yet", 0.0),
        T("public/test_a.py::test_jac", "softmax_jacobian", "public", 0.0, 2.0,
                   "crashed", "call", "the process exited with code 0 (did the code call "
                   "os._exit or sys.exit?)", 0.1),
        *_maps_tests(),
    ]
    return SubmissionResult(
        assignment="hw2", submission={"id": "alice", "path": "alice/hw2.ipynb",
                                      "sha256": "0" * 64},
        score=1.0, max_score=9.0, status="graded", device="cpu", isolation="namespace",
        versions={"grader": "0.0.0", "torch": "2.13.0", "python": "3.11.7",
                  "suite": "hw2@000000000000"},
        duration_s=2.5, tests=tuple(t), left_out=("cell 4, line 1: an expression at top level",),
        parts_order=("sigmoid_grad", "tanh_grad", "relu_grad", "softmax", "softmax_jacobian",
                     "cross_entropy", "cross_entropy_grad", "linear_mse_grad"))


@pytest.mark.parametrize("fmt, ext", [("text", "txt"), ("md", "md"), ("html", "html")])
def test_report_matches_golden(fmt, ext):
    text = render(fixed_result(), fmt)
    path = GOLDEN / f"submission.{ext}"
    if UPDATE or not path.exists():
        path.write_text(text, encoding="utf-8")
        if not UPDATE:
            pytest.skip(f"wrote the missing golden file {path.name}; review and commit it")
    assert text == path.read_text(encoding="utf-8"), (
        f"{path.name} differs from the rendered report; if the change is intended, rerun with "
        "GRADER_UPDATE_GOLDENS=1 and review the diff")


def test_json_roundtrip_of_the_fixed_result():
    result = fixed_result()
    again = SubmissionResult.from_dict(result.to_dict())
    assert again == result
    assert [p.name for p in again.parts()] == [p.name for p in result.parts()]
