"""class.html and a per-student HTML report render in a real headless browser."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from grader.judge import results as R
from grader.reports.classreport import render_class
from grader.reports.render import render

VERSIONS = {"grader": "0", "suite": "s", "torch": "2", "python": "3"}
BROWSER = next((shutil.which(b) for b in ("chromium", "chromium-browser", "google-chrome")
                if shutil.which(b)), None)
pytestmark = pytest.mark.skipif(BROWSER is None, reason="no chromium on this machine "
                                "(apt-get install -y chromium)")


def _result(student: str, status: str, score: float) -> R.SubmissionResult:
    tests = (R.TestResult(id="t::a", part="softmax", visibility="public", points=score,
                          max_points=2.0, status=status, stage="values" if score < 2 else "",
                          message="" if score == 2 else "values differ at [0, 1]: got 0.4, "
                          "expected 0.1", details={"max_abs": 0.3, "atol": 1e-6,
                                                   "mismatched": 3, "total": 10}),
             R.TestResult(id="t::b", part="relu_grad", visibility="hidden", points=1.0,
                          max_points=1.0, status="passed"))
    return R.SubmissionResult(assignment="hw2", submission={"id": student, "path": "p",
                                                            "sha256": "x"},
                              score=score + 1, max_score=3.0, status="graded", device="cpu",
                              isolation="process", versions=VERSIONS,
                              duration_s=0.4, tests=tests, parts_order=("softmax", "relu_grad"))


def _screenshot(page: Path, tmp_path: Path) -> tuple[Path, str]:
    shot = tmp_path / (page.stem + ".png")
    proc = subprocess.run([BROWSER, "--headless", "--no-sandbox", "--disable-gpu",
                           "--disable-dev-shm-usage", f"--screenshot={shot}",
                           "--window-size=1000,1400", "--dump-dom", page.as_uri()],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-2000:]
    return shot, proc.stdout


def test_pages_render_in_chromium(tmp_path: Path) -> None:
    results = [_result("ana", "passed", 2.0), _result("ben", "failed", 0.0)]
    class_page = tmp_path / "class.html"
    class_page.write_text(render_class(results), encoding="utf-8")
    student_page = tmp_path / "ben.html"
    student_page.write_text(render(results[1], "html"), encoding="utf-8")
    for page, must in ((class_page, ['id="histogram"', 'id="passrate"', "class report"]),
                       (student_page, ["<svg", "values differ"])):
        shot, dom = _screenshot(page, tmp_path)
        for text in must:
            assert text in dom, f"{page.name}: {text!r} missing from the rendered DOM"
        data = shot.read_bytes()
        assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 5000  # a real, non-blank image


def _mapped_result() -> R.SubmissionResult:
    """A report whose failing tests carry real mismatch maps: a public 3-D result wrong on
    its diagonal (heatmaps and value tables) and a hidden pooled one (heatmap only)."""
    import torch

    from grader.judge.compare import Mismatch, assert_close
    from grader.judge.outcomes import mismatch_details

    want = torch.arange(75, dtype=torch.float64).reshape(3, 5, 5) / 10
    diag = want.clone()
    diag[:, range(5), range(5)] *= 2
    big = torch.zeros(40, 200, dtype=torch.float64)
    tests = []
    for i, (got, ref, hidden) in enumerate(((diag, want, False), (big + 1e-3, big, True))):
        try:
            assert_close(got, ref, name="softmax_jacobian(...)", profile="accumulate")
        except Mismatch as m:
            tests.append(R.TestResult(
                id=f"t::{i}", part="softmax_jacobian", visibility="hidden" if hidden else
                "public", points=0.0, max_points=1.0, status="failed", stage=m.stage,
                message=m.public_message if hidden else m.message,
                details=mismatch_details(m, hidden)))
    return R.SubmissionResult(assignment="hw2", submission={"id": "cem", "path": "p",
                                                            "sha256": "x"},
                              score=0.0, max_score=2.0, status="graded", device="cpu",
                              isolation="process", versions=VERSIONS, duration_s=0.2,
                              tests=tuple(tests), parts_order=("softmax_jacobian",))


def test_a_report_with_maps_renders_in_chromium(tmp_path: Path) -> None:
    page = tmp_path / "cem.html"
    page.write_text(render(_mapped_result(), "html"), encoding="utf-8")
    shot, dom = _screenshot(page, tmp_path)
    # three public slices and one pooled hidden map, every cell a rect in the live DOM
    assert dom.count('<svg class="heatmap"') == 4, dom[:2000]
    assert dom.count("<rect") >= 3 * 25 + 20 * 64
    assert "only the diagonal differs" in dom and "<caption>yours</caption>" in dom
    image = pytest.importorskip("PIL.Image").open(shot).convert("RGB")
    # the mismatching cells are drawn: dark red (#8b0000 and near) fills part of the page
    data = image.tobytes()
    dark_red = sum(1 for r, g, b in zip(data[0::3], data[1::3], data[2::3])
                   if r > 110 and g < 40 and b < 40)
    assert dark_red > 15 * 18 * 18 * 0.8, dark_red
