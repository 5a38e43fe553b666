"""Reports with mismatch maps: what the text map draws and when, the HTML heatmaps and value
tables (public tests only), and Jupyter's scoped fragment keeping them."""

from __future__ import annotations

import torch

from grader.integrations.notebook import scoped_html
from grader.judge import results as R
from grader.judge.compare import Mismatch, assert_close
from grader.judge.outcomes import mismatch_details
from grader.reports.render import _heat, _shade, render

VERSIONS = {"grader": "0", "suite": "s", "torch": "2", "python": "3"}


def _failed(got: torch.Tensor, want: torch.Tensor, hidden: bool = False) -> R.TestResult:
    try:
        assert_close(got, want, name="f(...)", profile="accumulate")
    except Mismatch as m:
        return R.TestResult(id="t::f", part="f", visibility="hidden" if hidden else "public",
                            points=0.0, max_points=1.0, status="failed", stage=m.stage,
                            message=m.public_message if hidden else m.message,
                            details=mismatch_details(m, hidden))
    raise AssertionError("must differ")


def _result(test: R.TestResult) -> R.SubmissionResult:
    return R.SubmissionResult(assignment="hw2", submission={"id": "ana", "path": "p",
                                                            "sha256": "x"},
                              score=0.0, max_score=1.0, status="graded", device="cpu",
                              isolation="process", versions=VERSIONS, duration_s=0.1,
                              tests=(test,), parts_order=("f",))


def test_shades_and_heat_follow_the_ratio():
    assert [_shade(r) for r in (0.0, 1.0, 5.0, 50.0, 5e3, 1e6)] == \
        ["\u00b7", "\u00b7", "\u2591", "\u2592", "\u2593", "\u2588"]
    assert _heat(0.2) != _heat(0.9) and _heat(1.0001) == "#f6d55c" and _heat(1e6) == "#8b0000"


def test_a_small_map_is_drawn_under_the_message():
    want = torch.zeros(3, 4, dtype=torch.float64)
    got = want.clone()
    got[1, 2] = 1e-4  # against a float64 bound of 1e-7: 1000 times over, a dark shade
    text = render(_result(_failed(got, want)), "text").splitlines()
    assert text[2].strip().startswith("where it differs")
    assert [line.strip() for line in text[3:6]] == ["\u00b7\u00b7\u00b7\u00b7",
                                                    "\u00b7\u00b7\u2593\u00b7",
                                                    "\u00b7\u00b7\u00b7\u00b7"]


def test_a_large_or_pooled_map_is_left_to_the_html_report():
    want = torch.zeros(10, 100, dtype=torch.float64)
    text = render(_result(_failed(want + 1, want)), "text")
    assert "where it differs" not in text
    page = render(_result(_failed(want + 1, want)), "html")
    assert '<svg class="heatmap"' in page and "the worst of each 1x2 block" in page


def test_values_side_by_side_for_public_tests_only():
    want = torch.arange(6, dtype=torch.float64).reshape(2, 3)
    public = render(_result(_failed(2 * want, want)), "html")
    assert "<caption>yours</caption>" in public and "<caption>expected</caption>" in public
    assert '<td class="bad">10</td>' in public  # the student's 2 * 5, marked
    hidden = render(_result(_failed(2 * want, want, hidden=True)), "html")
    assert '<svg class="heatmap"' in hidden and "<caption>yours</caption>" not in hidden
    assert ">10<" not in hidden


def test_jupyter_fragment_keeps_the_maps_and_scopes_their_styles():
    want = torch.randn(3, 5, 5, dtype=torch.float64)
    got = want.clone()
    got[:, range(5), range(5)] += 1
    fragment = scoped_html(render(_result(_failed(got, want)), "html"))
    assert fragment.startswith('<div class="grader-report">')
    assert fragment.count('<svg class="heatmap"') == 3 and 'fill="#8b0000"' in fragment
    assert ".grader-report figure.map" in fragment and "\nfigure.map" not in fragment
    assert "only the diagonal differs" in fragment
