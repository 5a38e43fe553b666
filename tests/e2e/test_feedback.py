"""The student's feedback loop on realistic wrong submissions, graded for real: the failing
part's message names the diagnosis (a factor, a sign, the diagonal, the border, a transpose)
or the first step at which a multi-step part leaves the reference's trajectory, the result
carries the mismatch map, the reports draw it, and hidden tests' maps and diagnoses carry no
values, test source or seeds.

Wrong submissions are files of ``tests/submissions/hwN/`` or the course's mutants, overlaid
on the solution as ``grade verify`` does.
"""

from __future__ import annotations

import functools
import json
import re
import zlib
from pathlib import Path
from typing import Any

import pytest

from grader.api import grade_prepared, homework_settings, open_template
from grader.course.manifest import load_course
from grader.course.mutants import write_overlay
from grader.course.submission import prepare_submission
from grader.judge.results import SubmissionResult
from grader.reports.render import render

pytestmark = pytest.mark.slow

HERE = Path(__file__).resolve().parents[1] / "submissions"

# (homework, submission: a file under tests/submissions/hwN or "mutant:NAME") ->
#     (part, the diagnosis' kind or None, words its message must contain)
CASES: dict[tuple[str, str], tuple[str, str | None, list[str]]] = {
    ("hw2", "wrong_cross_entropy_grad_no_mean"): (
        "cross_entropy_grad", "factor",
        ["every element is 6.00 times the expected", "a factor 6 too many"]),
    ("hw2", "wrong_linear_mse_grad_no_two"): (
        "linear_mse_grad", "factor",
        ["every element is 0.500 times the expected", "a factor 2 too few"]),
    ("hw2", "wrong_jacobian_no_diag"): (
        "softmax_jacobian", "diagonal", ["only the diagonal differs"]),
    ("hw3", "mutant:himmelblau_grad_sign_error"): (
        "himmelblau_grad", "sign", ["the sign is flipped"]),
    ("hw3", "mutant:descend_ascends"): (
        "descend", "sign", ["descend leaves the reference trajectory at step 1 of 1",
                            "opposite sign"]),
    ("hw3", "wrong_descend_momentum"): (
        "descend", None, ["descend leaves the reference trajectory at step 2 of 5",
                          "from (0.14, 0.22) your step went to"]),
    ("hw4", "mutant:train_step_no_zero_grad"): (
        "train_step", None, ["train_step leaves the reference's trajectory at step 2 of 3"]),
    ("hw5", "wrong_conv2d_skips_padding"): (
        "conv2d", "border", ["only the border differs", "padding?"]),
    ("hw5", "mutant:mylinear_transposed_weight"): (
        "MyLinear", "transpose", ["the transpose of the expected shape"]),
    ("hw5", "mutant:batchnorm2d_eval_updates_stats"): (
        "BatchNorm2d", None, ["BatchNorm2d leaves the reference at step 4 of 4 after 3 steps"]),
}


def _path(course: Any, homework: Any, name: str, tmp: Path) -> Path:
    if not name.startswith("mutant:"):
        return HERE / homework.id / f"{name}.py"
    mutant_name = name.removeprefix("mutant:")
    target = tmp / homework.id / mutant_name / homework.file
    write_overlay(homework.mutants_dir / f"{mutant_name}.py",
                  homework.solution_path.read_text(encoding="utf-8"), target)
    return target


@functools.cache
def _graded(hw_id: str, course_root: Path, tmp: Path) -> dict[str, tuple[SubmissionResult, Any]]:
    """Every case of one homework, graded in one run (one template, one collection)."""
    course = load_course(course_root)
    homework = course.homework(hw_id)
    settings = homework_settings(course, homework, {"request_timeout_s": 20})
    names = [name for hw, name in CASES if hw == hw_id]
    paths = [_path(course, homework, name, tmp) for name in names]
    with open_template(homework, settings) as template:
        prepared = [prepare_submission(p, homework, student_id=n) for n, p in zip(names, paths)]
        results = grade_prepared(homework, settings, template, prepared,
                                 course_root=course.root)
    return {name: (result, settings) for name, (result, _) in zip(names, results, strict=True)}


@pytest.fixture(scope="module")
def tmp(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("feedback")


def _case(course_root: Path, tmp: Path, key: tuple[str, str]):
    hw_id, name = key
    return _graded(hw_id, course_root, tmp)[name]


def _shown_test(result: SubmissionResult, part: str):
    """The part as the student sees it, and the test whose message it shows."""
    shown = next(p for p in result.parts() if p.name == part)
    return shown, next(t for t in result.tests if t.id == shown.test_id)


@pytest.mark.parametrize("key", sorted(CASES), ids=lambda k: f"{k[0]}-{k[1]}")
def test_the_failing_part_names_the_diagnosis(course_root: Path, tmp: Path, key) -> None:
    result, _ = _case(course_root, tmp, key)
    part, kind, words = CASES[key]
    shown, test = _shown_test(result, part)
    assert shown.status == "failed" and shown.points < shown.max_points, shown
    for word in words:
        assert word in shown.message, (word, shown.message)
    if kind is not None:
        assert test.details.get("diagnosis", {}).get("kind") == kind, test.details
    if test.stage in ("values", "gradients"):
        assert test.details["map"]["slices"], test.details
        assert 'class="heatmap"' in render(result, "html")
    others = [p for p in result.parts() if p.name != part and p.status == "failed"]
    assert not others, [(p.name, p.message) for p in others]  # the bug costs its part only


def test_a_diagnosed_factor_has_its_value(course_root: Path, tmp: Path) -> None:
    result, _ = _case(course_root, tmp, ("hw2", "wrong_linear_mse_grad_no_two"))
    _, test = _shown_test(result, "linear_mse_grad")
    assert test.details["diagnosis"] == {"kind": "factor", "factor": 0.5}


def test_multi_step_parts_say_at_which_step(course_root: Path, tmp: Path) -> None:
    for key, step, steps in ((("hw3", "wrong_descend_momentum"), 2, 5),
                             (("hw4", "mutant:train_step_no_zero_grad"), 2, 3),
                             (("hw5", "mutant:batchnorm2d_eval_updates_stats"), 4, 4)):
        result, _ = _case(course_root, tmp, key)
        _, test = _shown_test(result, CASES[key][0])
        assert (test.details["step"], test.details["steps"]) == (step, steps), key


def test_the_text_report_draws_a_small_map_under_the_message(course_root: Path,
                                                            tmp: Path) -> None:
    result, _ = _case(course_root, tmp, ("hw2", "wrong_jacobian_no_diag"))
    text = render(result, "text").splitlines()
    at = next(i for i, line in enumerate(text) if line.startswith("FAIL       softmax_jacobian"))
    assert text[at + 1].strip().startswith("where it differs")
    assert text[at + 2].split() == ["[0]", "[1]", "[2]"]
    rows = [line.split() for line in text[at + 3:at + 8]]
    for i, row in enumerate(rows):  # the diagonal, in each of the three slices
        assert all(block[i] != "\u00b7" and block.count("\u00b7") == 4 for block in row), row


_ALLOWED = {"mismatched", "total", "max_abs", "max_rel", "rtol", "atol", "nonfinite",
            "nonfinite_reference", "step", "steps", "map", "diagnosis"}
_SLICE_KEYS = {"index", "rows", "cols", "pool", "mismatched", "cells"}


def _strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for v in value.values() for s in _strings(v)]
    if isinstance(value, list):
        return [s for v in value for s in _strings(v)]
    return []


def test_hidden_maps_and_diagnoses_carry_no_values_source_or_seeds(course_root: Path,
                                                                   tmp: Path) -> None:
    checked = 0
    for key in sorted(CASES):
        result, settings = _case(course_root, tmp, key)
        sources = {}
        for test in result.tests:
            if test.visibility != "hidden" or "map" not in test.details:
                continue
            checked += 1
            assert set(test.details) <= _ALLOWED, test.details
            for s in test.details["map"]["slices"]:
                assert set(s) <= _SLICE_KEYS, s  # no got, no expected
            assert set(test.details["diagnosis"]) <= {
                "kind", "factor", "dims", "dim", "by", "width", "which", "of", "count",
                "where"} if "diagnosis" in test.details else True
            assert set(_strings(test.details)) <= {"all", "mismatched"} | {
                test.details.get("diagnosis", {}).get("kind", "")}
            seed = zlib.crc32(f"{settings.seed_salt}:{test.id}".encode())
            shown = json.dumps(test.details) + test.message
            assert str(seed) not in shown
            assert not re.search(r"\bgot -?\d|\bexpected -?\d", test.message), test.message
            path, _, func = test.id.partition("::")
            suite = load_course(course_root).homework(key[0]).tests_dir
            source = sources.setdefault(path, (suite / path).read_text("utf-8"))
            for line in source.splitlines():
                line = line.strip()
                if len(line) > 20 and not line.startswith(("#", "def ", "@", "import", "from")):
                    assert line not in shown, (test.id, line)
    assert checked >= 5  # the cases do fail hidden tests with maps
