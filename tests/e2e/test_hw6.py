"""hw6 end to end: ``grade batch`` over real submissions, one of which trains past its part's
time limit. The trained model scores full marks with its accuracy and training time in the
message, an untrained one scores 0 with its accuracy, a slow one times out naming the limit,
the stub scores 0 with every part not implemented, the other parts of each submission are
unaffected, and class.html shows the accuracy each student reached.

The course is a copy whose manifest lowers train_classifier's own limit from 60 s to
LIMIT_S, so that the slow submission costs seconds, not a minute.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from grader.cli import main
from grader.course.mutants import write_overlay

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
SUBS = ROOT / "tests" / "submissions" / "hw6"
LIMIT_S = 15
PART = "train_classifier"


def _course(tmp: Path) -> Path:
    course = tmp / "course"
    for top in ("assignments", "solutions", "reference_tests"):
        shutil.copytree(ROOT / top / "hw6", course / top / "hw6",
                        ignore=shutil.ignore_patterns("__pycache__", "mutants"))
    manifest = (ROOT / "course.toml").read_text(encoding="utf-8")
    lowered = manifest.replace("request_timeout_s = 60,", f"request_timeout_s = {LIMIT_S},")
    assert lowered != manifest, "train_classifier's request_timeout_s moved in course.toml"
    (course / "course.toml").write_text(lowered, encoding="utf-8")
    return course


@pytest.fixture(scope="module")
def graded(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, dict], str]:
    tmp = tmp_path_factory.mktemp("hw6")
    course = _course(tmp)
    subs = tmp / "subs"
    subs.mkdir()
    shutil.copy(ROOT / "solutions" / "hw6" / "modules.py", subs / "trained.py")
    shutil.copy(ROOT / "assignments" / "hw6" / "modules.py", subs / "stub.py")
    solution = (ROOT / "solutions" / "hw6" / "modules.py").read_text(encoding="utf-8")
    for path in SUBS.glob("*.py"):  # overlays of the solution
        write_overlay(path, solution, subs / path.name)
    out = tmp / "graded"
    result = CliRunner().invoke(main, ["batch", "hw6", str(subs), "--out", str(out), "--course",
                                       str(course), "--quiet"], catch_exceptions=False)
    assert result.exit_code in (0, 1), result.output
    results = {p.stem: json.loads(p.read_text(encoding="utf-8"))
               for p in (out / "results").glob("*.json")}
    return results, (out / "class.html").read_text(encoding="utf-8")


def _parts(result: dict) -> dict[str, dict]:
    return {p["name"]: p for p in result["parts"]}


def _outcome_tests(result: dict) -> list[dict]:
    return [t for t in result["tests"] if t["part"] == PART]


def _others_full(result: dict) -> None:
    for name, part in _parts(result).items():
        if name != PART:
            assert part["status"] == "passed" and part["points"] == part["max_points"], \
                (name, part["message"])


def test_every_submission_was_graded(graded):
    results, _ = graded
    assert set(results) == {"trained", "stub", "untrained", "slow"}
    assert all(r["status"] == "graded" for r in results.values())


def test_a_trained_model_scores_full_marks_and_says_how_far_it_got(graded):
    result = graded[0]["trained"]
    assert result["score"] == result["max_score"] == 20
    for test in _outcome_tests(result):
        assert test["status"] == "passed"
        assert test["details"]["accuracy"] >= 0.95 and test["details"]["train_s"] > 0
        assert f"accuracy {test['details']['accuracy']:.4f}" in test["message"]
        assert "full points" in test["message"] and f"of the {LIMIT_S} s allowed" in \
            test["message"]
    part = _parts(result)[PART]
    assert part["message"].startswith("accuracy 0.9")  # a passed part says what it reached


def test_an_untrained_model_scores_zero_with_its_accuracy(graded):
    result = graded[0]["untrained"]
    _others_full(result)
    part = _parts(result)[PART]
    assert part["points"] == 0 and part["status"] == "failed"
    tests = _outcome_tests(result)
    assert {t["visibility"] for t in tests} == {"public", "hidden"}
    for test in tests:
        assert test["status"] == "failed" and test["stage"] == "outcome" and test["points"] == 0
        accuracy = test["details"]["accuracy"]
        assert accuracy < 0.5
        assert f"accuracy {accuracy:.4f}" in test["message"] and "no points" in test["message"]
    hidden = next(t for t in tests if t["visibility"] == "hidden")
    assert re.search(r"on the 360 images of the test split", hidden["message"])


def test_training_past_the_limit_fails_that_part_only_naming_the_limit(graded):
    result = graded[0]["slow"]
    _others_full(result)
    tests = _outcome_tests(result)
    assert tests and all(t["status"] == "timeout" and t["points"] == 0 for t in tests)
    messages = " | ".join(t["message"] for t in tests)
    assert f"timed out after {LIMIT_S} s in `train_classifier`" in messages
    assert "timed out earlier" in messages  # its second run is not started again
    assert all(t["duration_s"] < LIMIT_S + 10 for t in tests)


def test_the_stub_scores_zero_with_every_part_not_implemented(graded):
    result = graded[0]["stub"]
    assert result["score"] == 0
    assert {p["status"] for p in result["parts"]} == {"not_implemented"}


def test_the_class_report_shows_the_accuracy_each_student_reached(graded):
    results, html = graded
    table = html[html.index('<table id="outcomes">'):]
    table = table[:table.index("</table>")]
    rows = {re.match(r"<tr><td>([^<]+)</td>", row).group(1): row
            for row in table.split("\n") if row.startswith("<tr><td>")}
    assert set(rows) == {"trained", "stub", "untrained", "slow"}
    for student in ("trained", "untrained"):
        for test in _outcome_tests(results[student]):
            assert f"{test['details']['accuracy']:.4f}" in rows[student]
    assert "timeout" in rows["slow"] and "not_implemented" in rows["stub"]
    assert "test_accuracy" in table and "validation_accuracy" in table
