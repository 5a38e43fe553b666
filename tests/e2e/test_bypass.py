"""The bypass corpus (tests/submissions/bypass/): routes around a part's forbidden list.

Each file is an overlay of its homework's solution (``grader.course.mutants``): only the
definitions that take a route to what the part's list forbids (an internal ``torch._*``
function, ``torch.ops.aten``, ``torch._C._nn``, a sibling API on the same kernel, a backward
kernel called directly, the autograd engine reached through ``importlib`` or ``getattr``,
forward-mode AD, ``torch.func``, another thread or process, the recorder's own modes taken
off torch's stacks); the rest of the submission is the solution. Its header
names the part and what the message must say; ``# bypass`` marks the line it must name.

Each overlaid submission is graded twice in one template and one pytest session per
homework: with the forbidden lists switched off it scores full marks (the route computes the
right values, so the test proves something), and with them on it loses exactly its part,
every test of it ``forbidden``.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import torch

from grader.api import grade_prepared, homework_settings, open_template
from grader.course.manifest import load_course
from grader.course.mutants import overlay, read_mutant
from grader.course.submission import prepare_submission
from grader.judge.run import SubmissionRun

ROOT = Path(__file__).resolve().parents[2]
BYPASS = Path(__file__).resolve().parents[1] / "submissions" / "bypass"
pytestmark = pytest.mark.slow


COURSE = load_course(ROOT)


@dataclass(frozen=True)
class Case:
    path: Path
    hw: str
    part: str
    expect: str
    source: str
    """The submission graded: the solution with the overlay's definitions in place."""
    line: int
    """The line of ``source`` marked ``# bypass``."""


def _case(path: Path) -> Case:
    hw = path.name.split("_", 1)[0]
    text = path.read_text(encoding="utf-8")
    header = dict(line[2:].split(": ", 1) for line in text.splitlines()
                  if line.startswith(("# part: ", "# expect: ")))
    solution = COURSE.homework(hw).solution_path.read_text(encoding="utf-8")
    source = overlay(solution, read_mutant(path, solution))
    marked = [i + 1 for i, line in enumerate(source.splitlines())
              if line.rstrip().endswith("# bypass")]
    assert len(marked) == 1, f"{path.name}: mark exactly one line with `# bypass`"
    return Case(path, hw, header["part"], header["expect"], source, marked[0])


CASES = [_case(p) for p in sorted(BYPASS.glob("*.py"))]


def _files(cases: list[Case], folder: Path) -> list[Path]:
    """Each case's submission, written under its homework's file name."""
    paths = []
    for case in cases:
        target = folder / case.path.stem / COURSE.homework(case.hw).file
        target.parent.mkdir(parents=True)
        target.write_text(case.source, encoding="utf-8")
        paths.append(target)
    return paths


def _grade(hw: str, paths: list[Path], **overrides: Any) -> list[Any]:
    homework = COURSE.homework(hw)
    settings = homework_settings(COURSE, homework, overrides)
    prepared = [prepare_submission(p, homework) for p in paths]
    with open_template(homework, settings) as template:
        return [r for r, _ in grade_prepared(homework, settings, template, prepared,
                                             course_root=COURSE.root)]


@pytest.fixture(scope="module")
def graded(tmp_path_factory: pytest.TempPathFactory) -> dict[Path, tuple[Any, Any]]:
    """{the case's path: (result with the forbidden lists, result without them)}."""
    by_hw: dict[str, list[Case]] = defaultdict(list)
    for case in CASES:
        by_hw[case.hw].append(case)
    out: dict[Path, tuple[Any, Any]] = {}
    for hw, cases in sorted(by_hw.items()):
        paths = _files(cases, tmp_path_factory.mktemp(hw))
        with_lists = _grade(hw, paths)
        with pytest.MonkeyPatch.context() as mp:
            mp.setattr(SubmissionRun, "forbidden_patterns", lambda self, part: ())
            without = _grade(hw, paths)
        out.update({c.path: (a, b) for c, a, b in zip(cases, with_lists, without, strict=True)})
    return out


def test_the_corpus_covers_every_homework_with_enough_routes():
    assert len(CASES) >= 15
    assert {c.hw for c in CASES} == {"hw1", "hw2", "hw3", "hw4", "hw5", "hw6"}


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.path.stem)
def test_the_route_computes_the_right_values(graded, case):
    _, without = graded[case.path]
    failing = [(t.id, t.status, t.message) for t in without.tests if t.status != "passed"]
    assert not failing, "the bypass must be correct, or its test proves nothing"


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.path.stem)
def test_the_route_loses_its_whole_part(graded, case):
    result, _ = graded[case.path]
    mine = [t for t in result.tests if t.part == case.part]
    assert mine and all(t.status == "forbidden" and t.points == 0 for t in mine)
    part = next(p for p in result.parts() if p.name == case.part)
    assert part.status == "forbidden" and part.points == 0
    assert part.message.startswith(f"{case.part}: line {case.line} "), part.message
    assert case.expect in part.message
    assert any(words in part.message for words in (  # what the list forbids, or any escape
        "forbidden in this part", "forbidden in every part that forbids something"))
    others = [(t.id, t.status, t.message) for t in result.tests
              if t.part != case.part and t.status != "passed"]
    assert not others, "only the bypassing part may lose points"


@pytest.mark.cuda
@pytest.mark.skipif(not torch.cuda.is_available(),
                    reason="needs a CUDA GPU (torch.cuda.is_available() is False)")
@pytest.mark.parametrize("hw", ["hw1", "hw2", "hw3", "hw4", "hw5", "hw6"])
def test_the_routes_lose_their_parts_on_cuda_too(hw, tmp_path):
    cases = [c for c in CASES if c.hw == hw]
    for case, result in zip(cases, _grade(hw, _files(cases, tmp_path), device="cuda"),
                            strict=True):
        parts = {p.name: p for p in result.parts()}
        assert parts[case.part].status == "forbidden", (case.path.name, parts[case.part].message)
        assert f"line {case.line} " in parts[case.part].message
        assert all(p.status == "passed" for n, p in parts.items() if n != case.part), \
            case.path.name
