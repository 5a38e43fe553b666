"""Real hw2 submissions through the real grader: a correct one written differently, realistic
wrong ones, hostile ones and a notebook. Each must fail exactly its part, with the expected
status and stage, and none may gain a point it should not.

All submissions are graded in one run (one template, one collection of the suite), with a
2 s request timeout for the hanging ones.
"""

from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import Any

import nbformat
import pytest

from grader.api import grade_prepared, homework_settings, open_template
from grader.course.manifest import load_course
from grader.course.submission import prepare_submission
from grader.reports.render import render

pytestmark = pytest.mark.slow

HERE = Path(__file__).resolve().parents[1] / "submissions" / "hw2"
PARTS = ("sigmoid_grad", "tanh_grad", "relu_grad", "softmax", "softmax_jacobian",
         "softmax_backward", "linear_mse_grad", "cross_entropy", "cross_entropy_grad")

# file -> {part: (allowed statuses, allowed stages, words the message must contain)}.
# Every part not listed must get full marks.
WRONG = {
    "wrong_softmax_no_max": {"softmax": ({"failed"}, {"values"}, ["nan"])},
    "wrong_relu_grad_one_at_zero": {"relu_grad": ({"failed"}, {"values"}, ["at exactly x = 0"])},
    "wrong_jacobian_no_diag": {"softmax_jacobian": ({"failed"}, {"values"}, ["diagonal"])},
    "wrong_softmax_backward_full_jacobian": {
        "softmax_backward": ({"error", "crashed"}, {"call"}, ["softmax_backward"])},
    "wrong_cross_entropy_grad_no_mean": {
        "cross_entropy_grad": ({"failed"}, {"values"}, ["divide by N"])},
    "wrong_linear_mse_grad_no_two": {"linear_mse_grad": ({"failed"}, {"values"}, ["2/N"])},
    "wrong_sigmoid_grad_overflow": {"sigmoid_grad": ({"failed"}, {"values"}, ["nan"])},
    "wrong_tanh_grad_not_squared": {"tanh_grad": ({"failed"}, {"values"}, ["differs"])},
    "wrong_softmax_fixed_dim": {"softmax": ({"failed"}, {"values"}, ["differs"])},
    "wrong_cross_entropy_naive": {"cross_entropy": ({"failed"}, {"values"}, ["log-sum-exp"])},
}
ALL_PARTS_ZERO = {
    "hostile_patch_allclose": ({"failed", "crashed"}, {"values", "call"}),
    "hostile_tensor_subclass": ({"failed", "error"}, {"type", "protocol"}),
    "hostile_read_solutions": ({"error"}, {"call"}),
}
HOSTILE_ONE_PART = {
    "hostile_os_exit": {"softmax": ({"crashed"}, {"call"}, ["exited with code 0"])},
    "hostile_forged_stdout": {"tanh_grad": ({"failed"}, {"values"}, ["differs"])},
    "hostile_infinite_loop": {"relu_grad": ({"timeout"}, {"call"}, ["timed out"])},
    # the memory limit (MemoryError/RuntimeError or a kill), or the 2 s deadline on a slow machine
    "hostile_unbounded_memory": {
        "softmax_jacobian": ({"error", "crashed", "timeout"}, {"call"}, [])},
    # forged frames on the executor's socket: each is that part's failure, and the
    # executor restarts, so the next function is graded normally
    "hostile_malformed_replies": {part: ({"error"}, {"protocol"}, ["malformed"]) for part in (
        "sigmoid_grad", "tanh_grad", "relu_grad", "softmax", "softmax_jacobian")},
    "hostile_enormous_return": {
        # over the memory limit, the reply cap, or (slow to allocate) the 2 s deadline
        "cross_entropy_grad": ({"error", "crashed", "timeout"}, {"call", "protocol"}, [])},
}
TIMEOUT_S = 2.0


def _notebook(path: Path) -> Path:
    body = (HERE / "correct_alt.py").read_text(encoding="utf-8").split('"""', 2)[2]
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_markdown_cell("# hw2, my solutions"),
        nbformat.v4.new_code_cell("%matplotlib inline\n!pip install tqdm\n%load_ext autoreload"),
        nbformat.v4.new_code_cell(body),
        nbformat.v4.new_code_cell("import time\nprint('training...')\ntime.sleep(60)"),
        nbformat.v4.new_code_cell("x = torch.randn(1000, 1000)\nfor step in range(10**9):\n"
                                  "    x = x @ x\nprint(softmax(x))"),
    ]
    path.write_text(nbformat.writes(nb), encoding="utf-8")
    return path


LEVELS = ["auto", "portable"]
# What the portable level does not protect (it does not hide the course's files; documented
# in docs/isolation.md): a submission that reads the solutions off the disk.
NAMESPACE_ONLY = {"hostile_read_solutions"}


@functools.cache
def _grade(level: str, course_root: Path, nb_dir: Path) -> dict[str, Any]:
    course = load_course(course_root)
    homework = course.homework("hw2")
    settings = homework_settings(course, homework, {"request_timeout_s": TIMEOUT_S,
                                                    "isolation": level})
    paths = [p for p in sorted(HERE.glob("*.py"))
             if level != "portable" or p.stem not in NAMESPACE_ONLY]
    paths.append(_notebook(nb_dir / f"hw2-{level}.ipynb"))
    with open_template(homework, settings) as template:
        prepared = [prepare_submission(p, homework) for p in paths]
        results = grade_prepared(homework, settings, template, prepared,
                                 course_root=course.root)
    return {p.stem if p.suffix == ".py" else "notebook": r
            for p, (r, _) in zip(paths, results, strict=True)}


@pytest.fixture(scope="module")
def nb_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("nb")


@pytest.fixture(scope="module", params=LEVELS)
def graded(request: pytest.FixtureRequest, course_root: Path, nb_dir: Path) -> dict[str, Any]:
    return _grade(request.param, course_root, nb_dir)


# Whether a memory hog meets the memory limit or the 2 s deadline first depends on the load.
RESOURCE_BOUND = {"hostile_unbounded_memory", "hostile_enormous_return"}


def test_verdicts_equal_at_every_level(course_root: Path, nb_dir: Path) -> None:
    """The same submission gets the same status on every test at every level (for a memory
    hog, the same tests pass)."""
    by_level = {level: _grade(level, course_root, nb_dir) for level in LEVELS}
    first, *others = LEVELS
    assert {r.isolation for r in by_level["portable"].values()} == {"portable"}
    for level in others:
        assert set(by_level[level]) == set(by_level[first]) - NAMESPACE_ONLY
        for name, result in by_level[level].items():
            if name in RESOURCE_BOUND:
                want = {t.id: t.status == "passed" for t in by_level[first][name].tests}
                got = {t.id: t.status == "passed" for t in result.tests}
            else:
                want = {t.id: t.status for t in by_level[first][name].tests}
                got = {t.id: t.status for t in result.tests}
            assert got == want, (level, name)
            assert result.score == by_level[first][name].score, (level, name)


def parts_of(result):
    return {p.name: p for p in result.parts()}


def assert_only(result, expected):
    parts = parts_of(result)
    assert set(parts) == set(PARTS)
    for name, part in parts.items():
        if name not in expected:
            assert part.status == "passed" and part.points == part.max_points, \
                f"{name} should pass: {part.status} {part.message}"
            continue
        statuses, stages, words = expected[name]
        assert part.points < part.max_points, f"{name} gained points it should not"
        failing = [t for t in result.tests if t.part == name and t.status != "passed"]
        assert failing
        for test in failing:
            assert test.status in statuses, (test.id, test.status, test.message)
            assert test.stage in stages, (test.id, test.stage, test.message)
            assert test.points == 0
        assert part.message, f"{name} does not say why"
        messages = " ".join(t.message for t in failing)
        for word in words:
            assert word in messages, (name, word, messages)


def test_every_submission_was_graded(graded):
    expected = {p.stem for p in HERE.glob("*.py")} | {"notebook"}
    assert set(graded) | NAMESPACE_ONLY == expected
    for name, result in graded.items():
        assert result.status == "graded", name
        assert len(result.tests) >= 2 * len(PARTS)
        json.loads(render(result, "json"))  # the result serialises


def test_correct_alt_full_marks(graded):
    result = graded["correct_alt"]
    assert result.full_marks, [(t.id, t.message) for t in result.tests if t.status != "passed"]
    assert result.score == pytest.approx(result.max_score) and result.max_score == \
        pytest.approx(15)
    import torch

    assert any("float32" in t.id or "dtype1" in t.id for t in result.tests)  # float32 too
    del torch


@pytest.mark.parametrize("name", sorted(WRONG))
def test_wrong_submission_fails_exactly_its_part(graded, name):
    assert_only(graded[name], WRONG[name])


def test_full_jacobian_fails_only_the_large_n_test(graded):
    result = graded["wrong_softmax_backward_full_jacobian"]
    failing = [t.id.rsplit("::", 1)[-1] for t in result.tests if t.status != "passed"]
    assert failing == ["test_softmax_backward_large_n"]


@pytest.mark.parametrize("name", sorted(HOSTILE_ONE_PART))
def test_hostile_submission_fails_exactly_its_part(graded, name):
    assert_only(graded[name], HOSTILE_ONE_PART[name])


@pytest.mark.parametrize("name", sorted(ALL_PARTS_ZERO))
def test_hostile_submission_gains_nothing(graded, name):
    if name not in graded:
        pytest.skip(f"{name} needs a level that hides the course's files")
    result = graded[name]
    statuses, stages = ALL_PARTS_ZERO[name]
    assert result.score == 0
    for test in result.tests:
        assert test.status in statuses, (test.id, test.status, test.message)
        assert test.stage in stages, (test.id, test.stage, test.message)
        assert test.message


def test_read_solutions_found_nothing(graded):
    if "hostile_read_solutions" not in graded:
        pytest.skip("the portable level does not hide the course's files (documented)")
    for test in graded["hostile_read_solutions"].tests:
        assert "could not find the solutions" in test.message


def test_hanging_function_costs_one_timeout(graded):
    tests = [t for t in graded["hostile_infinite_loop"].tests if t.part == "relu_grad"]
    assert len(tests) >= 3
    waited = [t for t in tests if t.duration_s >= TIMEOUT_S * 0.9]
    assert len(waited) == 1
    assert all("timed out earlier" in t.message for t in tests if t not in waited)
    assert sum(t.duration_s for t in tests) < TIMEOUT_S * 2


def test_forged_stdout_is_ignored(graded):
    result = graded["hostile_forged_stdout"]
    assert result.score == pytest.approx(result.max_score - 1)


def test_notebook_full_marks_without_running_the_demo(graded):
    result = graded["notebook"]
    assert result.full_marks, [(t.id, t.message) for t in result.tests if t.status != "passed"]
    assert result.duration_s < 60
    left = "\n".join(result.left_out)
    assert "cell 4, line 2: an expression at top level" in left  # print
    assert "cell 4, line 3: an expression at top level" in left  # time.sleep(60)
    assert "cell 5, line 2: a for loop at top level" in left
    assert "left out of the graded module" in render(result, "text")
