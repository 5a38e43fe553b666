"""Outcome-graded parts: a part's own time limit from the manifest, tests that award a share
of their points (tiers) with a message and numbers a student sees, and the class report's
accuracy table."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from grader.api import check_submission
from grader.course.manifest import load_course
from grader.errors import ConfigError
from grader.judge import results as R
from grader.judge.results import SubmissionResult
from grader.judge.scoring import Award, tiered
from grader.reports.classreport import class_stats, render_class

COURSE_TOML = """
[course]
name = "outcomes"

[settings]
request_timeout_s = 10

[hw.hwo]
title = "outcomes"
file = "mod.py"

[hw.hwo.parts]
nap = { points = 1, request_timeout_s = 1 }
doze = 1
scored = 5
"""

SOLUTION = '''
import time


def nap(seconds):
    time.sleep(seconds)
    return seconds


def doze(seconds):
    time.sleep(seconds)
    return seconds
'''

PUBLIC = '''
import pytest


@pytest.mark.part("nap")
def test_nap_past_its_own_limit(student):
    student.call("nap", 2.5)


@pytest.mark.part("doze")
def test_doze_within_the_course_limit(student):
    assert student.call("doze", 1.5).value == 1.5
    assert student.request_timeout_s == 10


@pytest.mark.part("scored")
def test_half_tier(student):
    assert student.request_timeout_s == 10
    student.award(0.5, "reached 0.92: half points", accuracy=0.92, train_s=1.5)


@pytest.mark.part("scored")
@pytest.mark.weight(2)
def test_full_tier(student):
    student.award(1.0, "reached 0.97: full points", accuracy=0.97)
'''

HIDDEN = '''
import pytest


@pytest.mark.part("scored")
def test_hidden_award_keeps_its_numbers(student):
    student.award(0.0, "reached 0.12: no points", accuracy=0.12)


@pytest.mark.part("scored")
def test_an_error_after_an_award_wins(student):
    student.award(1.0, "reached 0.99")
    raise RuntimeError("the check after the award broke")
'''


@pytest.fixture(scope="module")
def course(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("outcomes")
    files = {"course.toml": COURSE_TOML, "assignments/hwo/mod.py": SOLUTION,
             "solutions/hwo/mod.py": SOLUTION, "reference_tests/hwo/public/test_pub.py": PUBLIC,
             "reference_tests/hwo/hidden/test_hid.py": HIDDEN}
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip(), encoding="utf-8")
    return root


@pytest.fixture(scope="module")
def tests(course: Path) -> dict[str, R.TestResult]:
    result = check_submission("hwo", course / "solutions/hwo", course=course).result
    return {t.id.rsplit("::", 1)[-1]: t for t in result.tests}


def test_a_part_with_its_own_limit_times_out_at_it(tests):
    nap = tests["test_nap_past_its_own_limit"]
    assert nap.status == "timeout" and "timed out after 1 s in `nap`" in nap.message
    assert nap.duration_s < 2.4


def test_other_parts_keep_the_course_limit(tests):
    doze = tests["test_doze_within_the_course_limit"]
    assert doze.status == "passed", doze.message


def test_an_award_below_full_earns_its_share_and_says_why(tests):
    half = tests["test_half_tier"]
    assert (half.status, half.stage, half.credit) == ("failed", "outcome", 0.5)
    assert half.max_points == pytest.approx(1.0) and half.points == pytest.approx(0.5)
    assert half.message == "reached 0.92: half points"
    assert half.details == {"accuracy": 0.92, "train_s": 1.5}


def test_a_full_award_passes_with_its_message(tests):
    full = tests["test_full_tier"]
    assert full.status == "passed" and full.credit is None
    assert full.points == full.max_points == pytest.approx(2.0)
    assert full.message == "reached 0.97: full points" and full.details == {"accuracy": 0.97}


def test_a_hidden_award_shows_its_numbers(tests):
    hidden = tests["test_hidden_award_keeps_its_numbers"]
    assert hidden.visibility == "hidden" and hidden.points == 0
    assert hidden.message == "reached 0.12: no points" and hidden.details == {"accuracy": 0.12}


def test_an_error_after_an_award_is_an_error(tests):
    broken = tests["test_an_error_after_an_award_wins"]
    assert broken.status == "error" and broken.points == 0 and "0.99" not in broken.message


def test_tiers_and_award_bounds():
    tiers = ((0.95, 1.0), (0.90, 0.5))
    assert [tiered(v, tiers) for v in (0.99, 0.95, 0.9499, 0.90, 0.8999, 0.0)] == \
        [1.0, 1.0, 0.5, 0.5, 0.0, 0.0]
    with pytest.raises(ValueError, match="between 0 and 1"):
        Award(1.5, "too much")


@pytest.mark.parametrize("value", ["60", 0, -3, True])
def test_a_bad_part_time_limit_is_a_config_error(tmp_path, value):
    text = COURSE_TOML.replace("request_timeout_s = 1 }", f"request_timeout_s = {value!r} }}"
                               .replace("'", '"').replace("True", "true"))
    (tmp_path / "course.toml").write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError, match=r"course.toml: hw.hwo.parts.nap.request_timeout_s must "
                                          r"be a number of seconds > 0"):
        load_course(tmp_path)


def test_a_part_time_limit_is_read_from_the_manifest(course):
    parts = {p.name: p for p in load_course(course).homework("hwo").parts}
    assert parts["nap"].request_timeout_s == 1.0 and parts["doze"].request_timeout_s is None


# -- the class report ---------------------------------------------------------------------------

def _student(name: str, accuracy: float | None, status: str = "passed") -> SubmissionResult:
    details = {"accuracy": accuracy, "train_s": 2.5} if accuracy is not None else {}
    test = R.TestResult(id="hidden/test_t.py::test_fit_on_digits", part="fit",
                        visibility="hidden", points=3.0 if status == "passed" else 0.0,
                        max_points=3.0, status=status, details=details)
    return SubmissionResult(assignment="hw6", submission={"id": name, "path": name, "sha256": ""},
                            score=test.points, max_score=3.0, status="graded", device="cpu",
                            isolation="process", versions={}, duration_s=1.0, tests=(test,),
                            parts_order=("fit",))


def test_the_class_report_lists_the_accuracy_per_student():
    results = [_student("ada", 0.981), _student("bob", 0.42, "failed"),
               _student("cy", None, "timeout")]
    outcomes = class_stats(results)["outcomes"]
    assert outcomes["columns"] == [{"part": "fit", "label": "on_digits"}]
    cells = {row["student"]: row["cells"][0] for row in outcomes["rows"]}
    assert cells["ada"]["accuracy"] == 0.981 and cells["bob"]["accuracy"] == 0.42
    assert cells["cy"]["accuracy"] is None and cells["cy"]["status"] == "timeout"
    assert outcomes["medians"] == [0.981]
    html = render_class(results)
    assert 'id="outcomes"' in html and "0.9810" in html and "0.4200" in html
    assert "timeout" in html[html.index('id="outcomes"'):]


def test_a_class_without_outcomes_has_no_accuracy_table():
    plain = R.TestResult(id="t::x", part="x", visibility="public", points=1.0, max_points=1.0,
                         status="passed")
    result = SubmissionResult(assignment="hw2", submission={"id": "a", "path": "a",
                                                            "sha256": ""},
                              score=1.0, max_score=1.0, status="graded", device="cpu",
                              isolation="process", versions={}, duration_s=1.0, tests=(plain,))
    assert class_stats([result])["outcomes"]["rows"] == []
    assert 'id="outcomes"' not in render_class([result])
