"""Fault injection: in a batch of 20, submissions that kill their parent, their template, their
process group or every process they may signal (-1) each lose their own part, while every other
submission keeps the grade it gets alone; at every isolation level this machine offers, and as
root also with executors at the grader's own uid (``sandbox_uid = 0``: what a grader that does
not run as root gets), where only the signal filter stands between a submission and the
template, the judge and the instructor's shell."""

from __future__ import annotations

import functools
import os
import shutil
from pathlib import Path
from typing import Any

import pytest

from grader.api import grade_prepared, homework_settings, open_template
from grader.batch.driver import grade_batch
from grader.course.manifest import load_course
from grader.course.submission import prepare_submission
from grader.executor import sandbox
from grader.reports.files import load_results

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
SUBMISSIONS = Path(__file__).resolve().parents[1] / "submissions"
FAULTS = {"kill_parent": "tanh_grad", "kill_template": "relu_grad",
          "kill_group": "softmax_jacobian", "kill_everyone": "cross_entropy_grad"}
TIMEOUT_S = 2.0


def _others() -> dict[str, Path]:
    """16 ordinary submissions: the solution (5 copies), correct_alt and 10 wrong ones."""
    hw2 = SUBMISSIONS / "hw2"
    others = {f"solution{i}": ROOT / "solutions/hw2/gradients.py" for i in range(5)}
    others["correct_alt"] = hw2 / "correct_alt.py"
    others.update({p.stem: p for p in sorted(hw2.glob("wrong_*.py"))})
    assert len(others) == 16
    return others


def _levels() -> list[tuple[str, int | None]]:
    levels: list[tuple[str, int | None]] = [("process", None), ("portable", None)]
    if sandbox.available_isolation() == "namespace":
        levels.insert(0, ("namespace", None))
    if os.geteuid() == 0:  # as root, executors drop to a slot uid unless told not to
        levels += [("process", 0), ("portable", 0)]
    return levels


@functools.cache
def _alone() -> dict[str, dict[str, str]]:
    """Each ordinary submission's test statuses, graded without the faulty ones."""
    course = load_course(ROOT)
    homework = course.homework("hw2")
    settings = homework_settings(course, homework, {"request_timeout_s": TIMEOUT_S})
    others = _others()
    with open_template(homework, settings) as template:
        prepared = [prepare_submission(p, homework, student_id=s) for s, p in others.items()]
        graded = grade_prepared(homework, settings, template, prepared, course_root=course.root)
    return {r.student: {t.id: t.status for t in r.tests} for r, _ in graded}


@functools.cache
def _batch(level: str, uid: int | None, folder: Path) -> dict[str, Any]:
    subs = folder / f"subs-{level}-{uid}"
    subs.mkdir(parents=True)
    for student, path in _others().items():
        shutil.copy(path, subs / f"{student}.py")
    for fault in FAULTS:
        shutil.copy(SUBMISSIONS / "faults" / f"{fault}.py", subs / f"{fault}.py")
    overrides: dict[str, Any] = {"isolation": level, "request_timeout_s": TIMEOUT_S}
    if uid is not None:
        overrides["sandbox_uid"] = uid
    out = folder / f"out-{level}-{uid}"
    summary = grade_batch("hw2", subs, out, course=ROOT, jobs=2, progress=False, **overrides)
    return {"summary": summary, "results": load_results(out)}


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("faults")


@pytest.mark.parametrize(("level", "uid"), _levels(),
                         ids=lambda v: v if isinstance(v, str) else f"uid{v}")
def test_faults_cost_only_their_own_part(level: str, uid: int | None, folder: Path) -> None:
    graded = _batch(level, uid, folder)
    results = graded["results"]
    assert set(results) == set(_others()) | set(FAULTS)  # the batch went on to the end
    assert {r.status for r in results.values()} == {"graded"}
    assert {r.isolation for r in results.values()} == {level}
    for student, want in _alone().items():
        got = {t.id: t.status for t in results[student].tests}
        assert got == want, student
    for fault, part in FAULTS.items():
        parts = {p.name: p for p in results[fault].parts()}
        assert parts[part].points == 0, (fault, parts[part].status)
        others = {n: p.status for n, p in parts.items() if n != part}
        assert set(others.values()) == {"passed"}, (fault, others)
        message = parts[part].message
        if level != "namespace" and fault in ("kill_parent", "kill_everyone"):
            assert "PermissionError" in message, (fault, message)  # refused, never sent


def test_a_template_that_dies_anyway_costs_only_its_submission(monkeypatch: pytest.MonkeyPatch,
                                                                ) -> None:
    """Defence in depth: with the signal filter off (as if it failed), a submission that kills
    its template is recorded as crashed from that test on, a fresh template starts, and the
    next submissions are graded normally."""
    from grader.judge import runner

    config = runner.sandbox_config

    def unfiltered(*args: Any, **kwargs: Any) -> dict[str, Any]:
        return {**config(*args, **kwargs), "seccomp": False, "uid": None}

    monkeypatch.setattr(runner, "sandbox_config", unfiltered)
    course = load_course(ROOT)
    homework = course.homework("hw2")
    settings = homework_settings(course, homework, {"isolation": "process",
                                                    "request_timeout_s": TIMEOUT_S})
    subjects = [("kill_parent", SUBMISSIONS / "faults/kill_parent.py"),
                ("after1", ROOT / "solutions/hw2/gradients.py"),
                ("kill_parent_again", SUBMISSIONS / "faults/kill_parent.py"),
                ("after2", ROOT / "solutions/hw2/gradients.py")]
    with open_template(homework, settings) as template:
        prepared = [prepare_submission(p, homework, student_id=s) for s, p in subjects]
        graded = {r.student: r for r, _ in grade_prepared(homework, settings, template, prepared,
                                                          course_root=course.root)}
    for killer in ("kill_parent", "kill_parent_again"):
        parts = {p.name: p for p in graded[killer].parts()}
        assert parts["tanh_grad"].status == "crashed", parts["tanh_grad"]
        assert "template process died" in parts["tanh_grad"].message
        assert graded[killer].score < graded[killer].max_score
    assert graded["after1"].full_marks and graded["after2"].full_marks
