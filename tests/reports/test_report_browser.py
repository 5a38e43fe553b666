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
