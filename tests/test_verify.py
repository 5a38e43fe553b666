"""``grade verify``: solutions pass, stubs score 0, every mutant is caught (and only where it
should be); a suite that lets a mutant through fails with the mutant's name."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from grader.cli import main
from grader.course.manifest import load_course
from grader.verify import verify_course

ROOT = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.slow


def _course_copy(tmp_path: Path, hw: str) -> Path:
    """A course folder holding only ``hw`` (its manifest entry, stub, solution, suite)."""
    dst = tmp_path / "course"
    for part in ("assignments", "solutions", "reference_tests"):
        shutil.copytree(ROOT / part / hw, dst / part / hw,
                        ignore=shutil.ignore_patterns("__pycache__"))
    text = (ROOT / "course.toml").read_text()
    shutil.copy(ROOT / "course.toml", dst / "course.toml")
    assert f"[hw.{hw}]" in text
    return dst


def test_two_homeworks_with_same_test_file_names_verify_in_one_process():
    # hw3 and hw4 both have public/test_mlp.py: one process must not mix their modules.
    verdicts = verify_course(load_course(ROOT), ["hw3", "hw4"], {})
    assert [v.homework for v in verdicts] == ["hw3", "hw4"]
    assert all(v.ok for v in verdicts), [v.problems for v in verdicts]


def test_a_surviving_mutant_fails_verify_with_its_name(tmp_path):
    course = _course_copy(tmp_path, "hw2")
    mutants = course / "reference_tests" / "hw2" / "mutants"
    # "relu_grad" with a bug no test can see: x > 0 written as 0 < x.
    (mutants / "invisible_relu.py").write_text(
        "# part: relu_grad\n# bug: none the tests can see\n\n\n"
        "def relu_grad(x):\n    return (0 < x).to(x.dtype)\n")
    result = CliRunner().invoke(main, ["verify", "hw2", "--course", str(course)])
    assert result.exit_code == 1, result.output
    assert "mutant invisible_relu survives: part relu_grad still scores full marks" in result.output


def test_a_mutant_that_breaks_another_part_too_is_reported(tmp_path):
    course = _course_copy(tmp_path, "hw2")
    mutants = course / "reference_tests" / "hw2" / "mutants"
    for extra in mutants.glob("*.py"):
        extra.unlink()
    (mutants / "two_parts.py").write_text(
        "# part: sigmoid_grad\n# bug: also tanh\n\n\n"
        "def sigmoid_grad(x):\n    return torch.sigmoid(x)\n\n\n"
        "def tanh_grad(x):\n    return 1 - torch.tanh(x)\n")
    verdict = verify_course(load_course(course), ["hw2"], {})[0]
    assert not verdict.ok
    assert any("also loses points on tanh_grad" in p for p in verdict.problems)
    assert any("only 1 mutants" in p for p in verdict.problems)
