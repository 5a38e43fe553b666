"""``grade release``: the student bundle of one or more homeworks.

The bundle holds the stubs, the public tests with their helper modules (``conftest.py``,
``hwN_refs.py``, ``harness.py``), a ``course.toml`` listing only the released homeworks (with
the number of hidden tests each will also run at grading time), a README for students, a
pinned ``requirements.txt`` and a copy of the grader with a minimal ``pyproject.toml``, so
that ``pip install .`` in the bundle installs the ``grade`` command.

Nothing from ``solutions/``, ``reference_tests/*/hidden/`` or ``mutants/`` is copied, and the
finished bundle is scanned for every hidden test's name and every solution line that is not
also in the stub or the public tests (``find_leaks``); a leak stops the release.
"""

from __future__ import annotations

import ast
import os
import re
import shutil
import subprocess
import sys
import tomllib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from grader import version as _version_module
from grader.course.manifest import MANIFEST, Course, Homework, load_course
from grader.errors import ConfigError, UsageError
from grader.version import __version__

__all__ = ["MARKER", "Leak", "ReleaseReport", "count_tests", "find_leaks", "hidden_test_names",
           "release", "secret_lines", "toml_dumps"]

_SKIP_DIRS = {"__pycache__", ".pytest_cache", ".ipynb_checkpoints", ".mypy_cache"}
_SKIP_SUFFIXES = {".pyc", ".pyo"}
MARKER = ".grade-bundle"
"""The file that marks a folder as a bundle ``grade release`` wrote: only such a folder is
replaced by ``--force``."""
MIN_SECRET_CHARS = 12
"""Solution lines shorter than this (``return x``, ``n = x.shape[0]``) are too common to
count as a leak."""


@dataclass(frozen=True)
class Leak:
    """Something secret found in a file of the bundle."""

    path: str
    line: int
    what: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.what}"


@dataclass(frozen=True)
class ReleaseReport:
    """What ``release`` wrote."""

    out: Path
    homeworks: tuple[str, ...]
    files: tuple[str, ...]
    hidden_counts: dict[str, int]


# -- what is secret -----------------------------------------------------------------------------

def _py_files(folder: Path) -> list[Path]:
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.rglob("*.py") if not _SKIP_DIRS & set(p.parts))


def hidden_test_names(homework: Homework) -> set[str]:
    """The names of the hidden tests (functions and classes) of a homework."""
    names: set[str] = set()
    for path in _py_files(homework.tests_dir / "hidden"):
        try:
            tree = ast.parse(path.read_text(encoding="utf-8"))
        except (SyntaxError, UnicodeDecodeError) as err:
            raise ConfigError(f"{path}: does not parse ({err})") from None
        for node in ast.walk(tree):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and \
                    node.name.startswith("test"):
                names.add(node.name)
            elif isinstance(node, ast.ClassDef) and node.name.startswith("Test"):
                names.add(node.name)
    return names


def _norm(line: str) -> str:
    """A line without its comment and surrounding blanks, inner blanks squeezed."""
    code = line.split("#", 1)[0] if "#" in line and "'" not in line and '"' not in line else line
    return re.sub(r"\s+", " ", code).strip()


def _lines(paths: Iterable[Path]) -> set[str]:
    out: set[str] = set()
    for path in paths:
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            continue
        out.update(_norm(line) for line in text.splitlines())
    return out


def _public_files(homework: Homework) -> list[Path]:
    stub_dir = homework.stub_path.parent
    stubs = sorted(p for p in stub_dir.rglob("*") if p.is_file()) if stub_dir.is_dir() else []
    return stubs + _py_files(homework.tests_dir / "public")


def secret_lines(homework: Homework) -> set[str]:
    """Lines of the solution (and of the hidden tests) that neither the stub nor the public
    tests contain, and long enough to be telling."""
    solution_dir = homework.solution_path.parent
    secret_files = sorted(p for p in solution_dir.rglob("*") if p.is_file()
                          and p.suffix in (".py", ".ipynb")) if solution_dir.is_dir() else []
    own = _lines(secret_files)
    public = _lines(_public_files(homework))
    return {line for line in own - public
            if len(line) >= MIN_SECRET_CHARS and not line.startswith(("#", '"""', "'''"))}


def find_leaks(bundle: Path, course: Course, homework_ids: Sequence[str]) -> list[Leak]:
    """Every hidden test name and secret solution line found in any text file of ``bundle``."""
    names: dict[str, str] = {}
    lines: dict[str, str] = {}
    for hw_id in homework_ids:
        hw = course.homework(hw_id)
        names.update({n: hw_id for n in hidden_test_names(hw)})
        lines.update({ln: hw_id for ln in secret_lines(hw)})
    name_re = re.compile(r"\b(" + "|".join(map(re.escape, sorted(names))) + r")\b") \
        if names else None
    leaks: list[Leak] = []
    for path in sorted(bundle.rglob("*")):
        if not path.is_file() or _SKIP_DIRS & set(path.parts):
            continue
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            continue
        rel = str(path.relative_to(bundle))
        for number, line in enumerate(text.splitlines(), start=1):
            if name_re and (m := name_re.search(line)):
                leaks.append(Leak(rel, number, f"the name of a hidden test of "
                                  f"{names[m.group(1)]}: {m.group(1)}"))
            norm = _norm(line)
            if norm in lines:
                leaks.append(Leak(rel, number, f"a line of the {lines[norm]} solution: {norm}"))
    return leaks


def count_tests(folder: Path, rootdir: Path) -> int:
    """How many tests pytest collects in ``folder`` (parametrised cases counted), without
    running them; 0 when the folder holds no test."""
    if not _py_files(folder):
        return 0
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "--collect-only", "-q", str(folder),
         "-p", "no:cacheprovider", "-p", "no:randomly", "-c", os.devnull,
         "--rootdir", str(rootdir), "--import-mode=importlib"],
        capture_output=True, text=True, timeout=300, cwd=rootdir)
    ids = [ln for ln in proc.stdout.splitlines() if "::" in ln and not ln.startswith(" ")]
    if proc.returncode not in (0, 5) or (proc.returncode == 0 and not ids):
        tail = (proc.stdout + proc.stderr).strip().splitlines()[-5:]
        raise ConfigError(f"cannot count the tests in {folder}: pytest exit "
                          f"{proc.returncode}: " + " | ".join(tail))
    return len(ids)


# -- writing -------------------------------------------------------------------------------------

def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, str):
        escaped = value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
        return f'"{escaped}"'
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{_toml_key(k)} = {_toml_value(v)}"
                                for k, v in value.items()) + " }"
    raise ConfigError(f"cannot write {value!r} ({type(value).__name__}) to TOML")


def _toml_key(key: str) -> str:
    return key if re.fullmatch(r"[A-Za-z0-9_-]+", key) else _toml_value(key)


def toml_dumps(data: dict[str, Any], prefix: str = "") -> str:
    """A small TOML writer: scalars and lists inline, nested dicts as tables (tables whose
    values are all dicts of scalars, such as ``parts``, become a table of inline tables)."""
    scalars = {k: v for k, v in data.items() if not isinstance(v, dict)}
    tables = {k: v for k, v in data.items() if isinstance(v, dict)}
    out = []
    if prefix and (scalars or not tables):
        out.append(f"[{prefix}]")
    out += [f"{_toml_key(k)} = {_toml_value(v)}" for k, v in scalars.items()]
    if out:
        out.append("")
    for key, table in tables.items():
        name = f"{prefix}.{_toml_key(key)}" if prefix else _toml_key(key)
        if table and all(isinstance(v, dict) and not any(isinstance(x, dict) for x in v.values())
                         for v in table.values()) and key == "parts":
            out.append(f"[{name}]")
            out += [f"{_toml_key(k)} = {_toml_value(v)}" for k, v in table.items()]
            out.append("")
        else:
            out.append(toml_dumps(table, name))
    return "\n".join(out)


def _copy(src: Path, dst: Path, written: list[Path]) -> None:
    dst.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy2(src, dst)
    written.append(dst)


def _copy_tree(src: Path, dst: Path, written: list[Path]) -> None:
    for path in sorted(src.rglob("*")):
        if path.is_file() and not _SKIP_DIRS & set(path.relative_to(src).parts) \
                and path.suffix not in _SKIP_SUFFIXES:
            _copy(path, dst / path.relative_to(src), written)


def _torch_pin() -> str:
    try:
        import torch
    except ImportError:  # pragma: no cover - the grader needs torch
        return "torch"
    return f"torch=={torch.__version__.split('+')[0]}"


def _requirements() -> str:
    from importlib import metadata

    lines = ["# Install with:  pip install -r requirements.txt && pip install .",
             "# (or simply: pip install .  which installs these too)",
             "# CPU-only torch, smaller download: add --index-url https://download.pytorch.org/whl/cpu",
             _torch_pin()]
    for name in ("numpy", "pytest", "nbformat", "jinja2", "click",
                 "safetensors"):
        try:
            lines.append(f"{name}=={metadata.version(name)}")
        except metadata.PackageNotFoundError:
            lines.append(name)
    return "\n".join(lines) + "\n"


_PYPROJECT = """\
[build-system]
requires = ["setuptools>=68"]
build-backend = "setuptools.build_meta"

[project]
name = "torch-grader"
version = "{version}"
description = "The grader of {course}: run `grade check hwN` on your work."
requires-python = ">=3.11"
dependencies = [{deps}]

[project.scripts]
grade = "grader.cli:main"

[tool.setuptools.packages.find]
include = ["grader*"]

[tool.setuptools.package-data]
grader = ["templates/*.j2", "py.typed"]
"""


def _readme(course: Course, homeworks: Sequence[Homework], hidden: dict[str, int]) -> str:
    from grader.compat import MIN_TORCH
    from grader.reports.render import render_template

    return render_template("bundle_README.md.j2", course=course.name, homeworks=homeworks,
                           first=homeworks[0], hidden=hidden, torch_pin=_torch_pin(),
                           min_torch=".".join(map(str, MIN_TORCH)))


def _write_student_files(out: Path, homeworks: Sequence[Homework]) -> None:
    """Each homework's notebook, and a CI workflow running the student's journey on Windows,
    macOS and Linux."""
    import nbformat

    from grader.integrations.release_notebook import homework_notebook
    from grader.reports.render import render_template

    for hw in homeworks:
        nbformat.write(homework_notebook(hw), str(out / f"{hw.id}.ipynb"))
    workflow = out / ".github" / "workflows" / "grade-check.yml"
    workflow.parent.mkdir(parents=True, exist_ok=True)
    workflow.write_text(render_template("bundle_workflow.yml.j2", homeworks=homeworks,
                                        torch_pin=_torch_pin()), encoding="utf-8")


def release(homework_ids: Sequence[str], out: Path, *, course: Course | Path | None = None,
            force: bool = False) -> ReleaseReport:
    """Write the student bundle of ``homework_ids`` to ``out`` (which must be new or empty,
    unless ``force``); raise ConfigError and remove nothing else if a secret would leak."""
    loaded = course if isinstance(course, Course) else load_course(course)
    if not homework_ids:
        raise UsageError("name at least one homework to release, e.g. grade release hw2 --out "
                         "student-hw2/")
    homeworks = [loaded.homework(h) for h in dict.fromkeys(homework_ids)]
    out = Path(out)
    if out.resolve() == loaded.root.resolve() or out.resolve() in loaded.root.resolve().parents:
        raise UsageError(f"--out {out}: the course folder itself or a folder above it; "
                         "write the bundle to a new folder")
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        if not force:
            raise UsageError(f"--out {out}: the folder exists and is not empty; remove it or "
                             "pass --force")
        if not (out / MARKER).is_file():
            raise UsageError(f"--out {out}: --force replaces only a bundle grade release "
                             f"wrote, and this folder has no {MARKER}; remove it yourself or "
                             "choose another --out")
        shutil.rmtree(out)
    out.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    hidden: dict[str, int] = {}
    try:
        for hw in homeworks:
            stub_dir = hw.stub_path.parent
            if not hw.stub_path.is_file():
                raise ConfigError(f"{hw.stub_path}: the stub of {hw.id} does not exist")
            _copy_tree(stub_dir, out / "assignments" / hw.id, written)
            tests = hw.tests_dir
            dst = out / "reference_tests" / hw.id
            for path in sorted(tests.glob("*")):
                if path.is_file() and path.suffix in (".py", ".json", ".txt", ".toml"):
                    _copy(path, dst / path.name, written)
            public = tests / "public"
            if public.is_dir():
                _copy_tree(public, dst / "public", written)
            for extra in ("data", "fixtures"):
                if (tests / extra).is_dir():
                    _copy_tree(tests / extra, dst / extra, written)
        _refuse_leaks(find_leaks(out, loaded, [hw.id for hw in homeworks]))  # before slow work
        for hw in homeworks:
            hidden[hw.id] = count_tests(hw.tests_dir / "hidden", hw.tests_dir)
        _write_manifest(loaded, homeworks, hidden, out / MANIFEST)
        _write_grader(loaded, out)
        (out / "requirements.txt").write_text(_requirements(), encoding="utf-8")
        (out / "README.md").write_text(_readme(loaded, homeworks, hidden), encoding="utf-8")
        _write_student_files(out, homeworks)
        (out / ".gitignore").write_text(".venv/\n__pycache__/\n*.egg-info/\nbuild/\n"
                                        "report.html\n", encoding="utf-8")
        _refuse_leaks(find_leaks(out, loaded, [hw.id for hw in homeworks]))
        (out / MARKER).write_text(f"written by grade release {__version__}: "
                                  f"{', '.join(hw.id for hw in homeworks)}\n", encoding="utf-8")
    except BaseException:
        shutil.rmtree(out, ignore_errors=True)
        raise
    files = tuple(sorted(str(p.relative_to(out)) for p in out.rglob("*") if p.is_file()))
    return ReleaseReport(out=out, homeworks=tuple(hw.id for hw in homeworks), files=files,
                         hidden_counts=hidden)


def _refuse_leaks(leaks: list[Leak]) -> None:
    if leaks:
        shown = "\n".join(f"  {leak}" for leak in leaks[:20])
        raise ConfigError(f"the bundle would reveal {len(leaks)} secret(s); fix these files "
                          f"of the course (public helpers must not name hidden tests or "
                          f"copy solution lines):\n{shown}")


def _write_manifest(course: Course, homeworks: Sequence[Homework], hidden: dict[str, int],
                    path: Path) -> None:
    data = tomllib.loads((course.root / MANIFEST).read_text(encoding="utf-8"))
    raw_hw = data.pop("hw", {})
    data["hw"] = {}
    for hw in homeworks:
        entry = dict(raw_hw[hw.id])
        entry["hidden_tests"] = hidden[hw.id]
        data["hw"][hw.id] = entry
    header = (f"# The manifest of the student bundle ({', '.join(h.id for h in homeworks)}),\n"
              "# written by `grade release`. hidden_tests: tests that also run at grading "
              "time.\n\n")
    path.write_text(header + toml_dumps(data), encoding="utf-8")
    load_course(path.parent)  # it must load


def _write_grader(course: Course, out: Path) -> None:
    src = Path(_version_module.__file__).resolve().parent
    shutil.copytree(src, out / "grader", ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    deps = ['"torch>=2.4"', '"numpy"', '"pytest>=8"',
            '"nbformat>=5.9"', '"jinja2>=3.1"', '"click>=8.1"', '"safetensors>=0.4"']
    text = _PYPROJECT.format(version=__version__, course=course.name.replace('"', "'"),
                             deps=", ".join(deps))
    (out / "pyproject.toml").write_text(text, encoding="utf-8")
