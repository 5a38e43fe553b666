"""``grade verify``: the suites are right. For each homework, the solution scores full marks,
the untouched stub scores 0 with every part "not implemented", and every mutant (the solution
with a deliberate bug, overlaid from ``reference_tests/hwN/mutants/``: see
``grader.course.mutants``) loses points on the part it names and only that part.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from grader.api import check_device, grade_prepared, homework_settings, open_template
from grader.course.manifest import Course, Homework
from grader.course.mutants import Mutant, write_overlay
from grader.course.submission import prepare_submission
from grader.judge.results import SubmissionResult
from grader.status import Status

__all__ = ["HomeworkVerdict", "verify_course", "verify_homework"]

@dataclass(frozen=True)
class HomeworkVerdict:
    """What verify found for one homework."""

    homework: str
    problems: tuple[str, ...]
    checked: tuple[str, ...]
    results: tuple[SubmissionResult, ...] = field(default=(), compare=False)

    @property
    def ok(self) -> bool:
        return not self.problems


def _judge_solution(result: SubmissionResult) -> list[str]:
    bad = [f"{p.name} ({p.status}: {p.message})" for p in result.parts() if p.status != Status.PASSED]
    return [f"the solution fails {', '.join(bad)}"] if bad or not result.tests else []


def _judge_stub(result: SubmissionResult) -> list[str]:
    problems = []
    if result.score != 0:
        problems.append(f"the stub scores {result.score:g}, expected 0")
    odd = [p.name for p in result.parts() if p.status != Status.NOT_IMPLEMENTED]
    if odd:
        problems.append(f"the stub's parts {', '.join(odd)} do not say \"not implemented\"")
    return problems


def _judge_mutant(name: str, part: str, result: SubmissionResult) -> list[str]:
    parts = {p.name: p for p in result.parts()}
    if part not in parts:
        return [f"mutant {name} names part {part!r}, which has no tests"]
    problems = []
    if parts[part].points >= parts[part].max_points:
        problems.append(f"mutant {name} survives: part {part} still scores full marks")
    collateral = [p.name for p in parts.values() if p.name != part and p.points < p.max_points]
    if collateral:
        problems.append(f"mutant {name} (of {part}) also loses points on {', '.join(collateral)}")
    return problems


def _mutants(homework: Homework, folder: Path) -> list[tuple[Mutant, Path]]:
    """Every mutant of the homework, overlaid on its solution and written under the
    homework's file name (so it is read as a student's file would be)."""
    if not homework.mutants_dir.is_dir():
        return []
    solution = homework.solution_path.read_text(encoding="utf-8")
    out = []
    for path in sorted(homework.mutants_dir.glob("*.py")):
        target = folder / path.stem / homework.file
        out.append((write_overlay(path, solution, target), target))
    return out


def verify_homework(course: Course, homework: Homework, overrides: dict[str, Any]) -> HomeworkVerdict:
    """Grade the solution, the stub and every mutant of one homework with one collection."""
    settings = homework_settings(course, homework, overrides)
    check_device(settings)
    with tempfile.TemporaryDirectory(prefix="grader-mutants-") as tmp:
        mutants = _mutants(homework, Path(tmp))
        subjects = [("solution", homework.solution_path), ("stub", homework.stub_path),
                    *((f"mutant {m.name}", path) for m, path in mutants)]
        with open_template(homework, settings) as template:
            prepared = [prepare_submission(path, homework, student_id=label)
                        for label, path in subjects]
            graded = grade_prepared(homework, settings, template, prepared,
                                    course_root=course.root)
    results = [r for r, _ in graded]
    problems = _judge_solution(results[0]) + _judge_stub(results[1])
    for (mutant, _), result in zip(mutants, results[2:]):
        problems += _judge_mutant(mutant.name, mutant.part, result)
    if len(mutants) < 4:
        problems.append(f"only {len(mutants)} mutants in {homework.mutants_dir} (at least 4 needed)")
    return HomeworkVerdict(homework=homework.id, problems=tuple(problems),
                           checked=tuple(label for label, _ in subjects), results=tuple(results))


def verify_course(course: Course, hw_ids: list[str] | None, overrides: dict[str, Any]) -> list[HomeworkVerdict]:
    """Verify the named homeworks (all of them by default)."""
    ids = hw_ids or sorted(course.homeworks)
    return [verify_homework(course, course.homework(h), overrides) for h in ids]
