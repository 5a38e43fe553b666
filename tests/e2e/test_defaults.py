"""Defaults are part of the contract: every default in a stub's signatures is exercised by the
suite. For each one, a copy of the solution with that default changed (the mistake a student
makes: ``softmax(a, dim=0)``) must lose points on its part, and only there.

The copies are made here from the solutions, so a default added to a stub without a wrong
value in WRONG fails ``test_every_default_of_every_stub_has_a_wrong_value``.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from grader.course.manifest import load_course

ROOT = Path(__file__).resolve().parents[2]
REQUIRED = None
"""A wrong "default" that is no default at all: the parameter made required."""

# (function or class, parameter) -> the wrong default a mutant gets, per homework.
WRONG: dict[str, dict[tuple[str, str], str | None]] = {
    "hw1": {("vector_norm", "dim"): "-1", ("vector_norm", "keepdim"): "True"},
    "hw2": {("softmax", "dim"): "0"},
    "hw3": {},
    "hw4": {("MLP", "sizes"): "(784, 200, 10)", ("MLP", "dropout"): "0.5",
            ("sgd_step", "momentum"): "0.9", ("sgd_step", "weight_decay"): "0.01"},
    "hw5": {("conv2d_output_size", "stride"): "2", ("conv2d_output_size", "padding"): "1",
            ("conv2d", "bias"): REQUIRED, ("conv2d", "stride"): "2",
            ("conv2d", "padding"): "1", ("max_pool2d", "stride"): "1",
            ("avg_pool2d", "stride"): "1", ("batch_norm", "momentum"): "0.9",
            ("batch_norm", "eps"): "1e-3", ("BatchNorm2d", "eps"): "1e-3",
            ("BatchNorm2d", "momentum"): "0.9", ("ResBlock", "stride"): "2"},
    "hw6": {("LeNet5", "in_channels"): "1", ("LeNet5", "num_classes"): "100",
            ("early_stop", "min_delta"): "0.5"},
}


def _signatures(tree: ast.Module) -> dict[str, ast.arguments]:
    """The arguments of each top-level function and each class's ``__init__``."""
    out = {}
    for node in tree.body:
        if isinstance(node, ast.FunctionDef):
            out[node.name] = node.args
        elif isinstance(node, ast.ClassDef):
            for item in node.body:
                if isinstance(item, ast.FunctionDef) and item.name == "__init__":
                    out[node.name] = item.args
    return out


def _defaults(args: ast.arguments) -> dict[str, tuple[ast.arg, ast.expr]]:
    positional = [*args.posonlyargs, *args.args]
    pairs = list(zip(positional[len(positional) - len(args.defaults):], args.defaults))
    pairs += [(a, d) for a, d in zip(args.kwonlyargs, args.kw_defaults) if d is not None]
    return {a.arg: (a, d) for a, d in pairs}


def defaults_of(path: Path) -> dict[tuple[str, str], str]:
    """``{(name, parameter): default source}`` of a module's signatures."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return {(name, param): ast.unparse(default)
            for name, args in _signatures(tree).items()
            for param, (_, default) in _defaults(args).items()}


def _offset(lines: list[str], lineno: int, col: int) -> int:
    return sum(len(line) for line in lines[:lineno - 1]) + col


def with_default(source: str, name: str, param: str, wrong: str | None) -> str:
    """``source`` with the default of ``name``'s ``param`` replaced by ``wrong`` (or removed,
    making the parameter required), the rest of the text untouched."""
    args = _signatures(ast.parse(source))[name]
    arg, default = _defaults(args)[param]
    lines = source.splitlines(keepends=True)
    end = _offset(lines, default.end_lineno or default.lineno, default.end_col_offset or 0)
    if wrong is not None:
        start = _offset(lines, default.lineno, default.col_offset)
        return source[:start] + wrong + source[end:]
    assert args.defaults and args.defaults[0] is default, "only the first default can go"
    start = _offset(lines, arg.end_lineno or arg.lineno, arg.end_col_offset or 0)
    return source[:start] + source[end:]


def test_every_default_of_every_stub_has_a_wrong_value():
    course = load_course(ROOT)
    for hw_id, homework in sorted(course.homeworks.items()):
        have = set(defaults_of(homework.stub_path))
        listed = set(WRONG.get(hw_id, {}))
        assert have == listed, (
            f"{hw_id}: defaults of {homework.stub_path.name} without a wrong value in WRONG: "
            f"{sorted(have - listed)}; listed but not in the stub: {sorted(listed - have)}")


def test_the_solutions_have_the_stubs_defaults():
    course = load_course(ROOT)
    for homework in course.homeworks.values():
        stub = defaults_of(homework.stub_path)
        solution = defaults_of(homework.solution_path)
        assert {k: solution.get(k) for k in stub} == stub, homework.id


def test_with_default_changes_only_that_default():
    source = "def f(x, bias=None, stride: int = 1):\n    return x  # keep\n"
    assert with_default(source, "f", "stride", "2") == source.replace("= 1", "= 2")
    assert with_default(source, "f", "bias", REQUIRED) == source.replace("bias=None", "bias")
    assert defaults_of_text(with_default(source, "f", "bias", "0")) == {
        ("f", "bias"): "0", ("f", "stride"): "1"}


def defaults_of_text(source: str) -> dict[tuple[str, str], str]:
    return {(n, p): ast.unparse(d) for n, args in _signatures(ast.parse(source)).items()
            for p, (_, d) in _defaults(args).items()}


@pytest.mark.slow
@pytest.mark.parametrize("hw_id", sorted(hw for hw, wrong in WRONG.items() if wrong))
def test_a_wrong_default_fails_exactly_its_part(hw_id, tmp_path):
    from grader.api import grade_prepared, homework_settings, open_template
    from grader.course.submission import prepare_submission

    course = load_course(ROOT)
    homework = course.homework(hw_id)
    source = homework.solution_path.read_text(encoding="utf-8")
    mutants = {}
    for (name, param), wrong in WRONG[hw_id].items():
        label = f"{name}.{param}={'required' if wrong is REQUIRED else wrong}"
        path = tmp_path / f"m{len(mutants)}" / homework.file
        path.parent.mkdir()
        path.write_text(with_default(source, name, param, wrong), encoding="utf-8")
        mutants[label] = (name, path)
    settings = homework_settings(course, homework, {})
    with open_template(homework, settings) as template:
        prepared = [prepare_submission(path, homework, student_id=label)
                    for label, (_, path) in mutants.items()]
        graded = grade_prepared(homework, settings, template, prepared, course_root=course.root)
    for (label, (part, _)), (result, _) in zip(mutants.items(), graded, strict=True):
        parts = {p.name: p for p in result.parts()}
        assert parts[part].points < parts[part].max_points, f"{label} survives"
        others = [p.name for p in parts.values() if p.name != part and p.points < p.max_points]
        assert not others, f"{label} also loses points on {others}"
