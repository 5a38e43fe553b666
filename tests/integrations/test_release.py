"""``grade release``: the student bundle holds no secret, installs, and checks."""

from __future__ import annotations

import ast
import os
import re
import shutil
import subprocess
import sys
import sysconfig
import tomllib
from pathlib import Path

import pytest

from grader.course.manifest import load_course
from grader.course.mutants import overlay, read_mutant
from grader.errors import ConfigError
from grader.integrations.release import find_leaks, release, toml_dumps

ROOT = Path(__file__).resolve().parents[2]
HW = "hw2"
ALL = tuple(load_course(ROOT).homeworks)


@pytest.fixture(scope="module")
def bundle(tmp_path_factory):
    out = tmp_path_factory.mktemp("release") / "student-hw2"
    report = release([HW], out, course=ROOT)
    assert report.homeworks == (HW,)
    return out


@pytest.fixture(scope="module")
def course_bundle(tmp_path_factory):
    """Every homework of the course in one bundle."""
    out = tmp_path_factory.mktemp("release") / "student-all"
    report = release(list(ALL), out, course=ROOT)
    assert report.homeworks == ALL
    return out


def _hidden_names(course_root: Path, hw: str) -> set[str]:
    names = set()
    for path in (course_root / "reference_tests" / hw / "hidden").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.FunctionDef) and node.name.startswith("test"):
                names.add(node.name)
    return names


def _norm(line: str) -> str:
    """The code of a line, blanks squeezed (a comment dropped where no string could hold the
    ``#``: ``import torch.nn.functional as F  # noqa`` in a stub is the solution's import)."""
    if "#" in line and not {"'", '"'} & set(line):
        line = line.split("#", 1)[0]
    return re.sub(r"\s+", " ", line).strip()


def _text_files(folder: Path) -> dict[Path, str]:
    out = {}
    for path in folder.rglob("*"):
        if path.is_file() and "__pycache__" not in path.parts:
            try:
                out[path] = path.read_text(encoding="utf-8")
            except UnicodeDecodeError:
                pass
    return out


def test_bundle_layout(bundle):
    files = {p.relative_to(bundle).as_posix() for p in bundle.rglob("*") if p.is_file()}
    hw = load_course(ROOT).homework(HW)
    assert f"assignments/{HW}/{hw.file}" in files
    assert {"README.md", "requirements.txt", "pyproject.toml", "course.toml",
            "grader/cli.py", f"reference_tests/{HW}/conftest.py"} <= files
    assert any(f.startswith(f"reference_tests/{HW}/public/test_") for f in files)
    for secret in ("solutions/", "/hidden/", "/mutants/"):
        assert not any(secret in "/" + f for f in files), secret
    # The stub is the stub.
    assert (bundle / "assignments" / HW / hw.file).read_bytes() == hw.stub_path.read_bytes()
    manifest = tomllib.loads((bundle / "course.toml").read_text(encoding="utf-8"))
    assert list(manifest["hw"]) == [HW]
    bundled = load_course(bundle).homework(HW)
    assert bundled.parts == hw.parts
    hidden_files = list((hw.tests_dir / "hidden").glob("test_*.py"))
    assert (bundled.hidden_pending > 0) == bool(hidden_files)
    requirements = (bundle / "requirements.txt").read_text(encoding="utf-8")
    import torch

    assert f"torch=={torch.__version__.split('+')[0]}" in requirements.splitlines()


def _secret_lines(hw) -> set[str]:
    """The solution's lines that neither the stub nor the public tests hold (12 characters
    or more), found here independently of grader.integrations.release."""
    public_lines = set()
    for path in [hw.stub_path, *(hw.tests_dir / "public").rglob("*.py")]:
        public_lines.update(_norm(ln) for ln in path.read_text(encoding="utf-8").splitlines())
    solution_lines = {_norm(ln) for ln in hw.solution_path.read_text(encoding="utf-8").splitlines()}
    return {ln for ln in solution_lines - public_lines if len(ln) >= 12}


def _assert_no_secret(bundle: Path, homeworks: list[str]) -> None:
    course = load_course(ROOT)
    names: set[str] = set()
    secret: set[str] = set()
    for hw_id in homeworks:
        names |= _hidden_names(ROOT, hw_id)
        own = _secret_lines(course.homework(hw_id))
        assert own, f"the {hw_id} solution should have lines of its own"
        secret |= own
    assert names, "the homeworks should have hidden tests"
    name_re = re.compile(r"\b(" + "|".join(map(re.escape, sorted(names))) + r")\b")
    for path, text in _text_files(bundle).items():
        assert not name_re.search(text), (path, name_re.search(text))
        lines = {_norm(ln) for ln in text.splitlines()}
        assert not lines & secret, (path, lines & secret)
    assert find_leaks(bundle, course, homeworks) == []


def test_bundle_reveals_no_hidden_test_and_no_solution_line(bundle):
    _assert_no_secret(bundle, [HW])


def test_leaks_are_found(bundle, tmp_path):
    course = load_course(ROOT)
    copy = tmp_path / "b"
    shutil.copytree(bundle, copy)
    hw = course.homework(HW)
    line = next(ln for ln in hw.solution_path.read_text(encoding="utf-8").splitlines()
                if len(ln.strip()) >= 20 and ln.strip().startswith("return"))
    (copy / "reference_tests" / HW / "leaky.py").write_text(f"def f():\n{line}\n",
                                                            encoding="utf-8")
    leaks = find_leaks(copy, course, [HW])
    assert any("solution" in leak.what and leak.path.endswith("leaky.py") for leak in leaks)
    names = sorted(_hidden_names(ROOT, HW))
    if names:
        (copy / "README.md").write_text(f"see {names[0]}\n", encoding="utf-8")
        assert any("hidden test" in leak.what for leak in find_leaks(copy, course, [HW]))


def test_release_refuses_a_leaking_helper(tmp_path):
    course = tmp_path / "course"
    course.mkdir()
    for part in ("course.toml", f"assignments/{HW}", f"solutions/{HW}", f"reference_tests/{HW}"):
        src = ROOT / part
        (shutil.copytree if src.is_dir() else shutil.copy2)(src, course / part)
    hw = load_course(course).homework(HW)
    line = next(ln for ln in hw.solution_path.read_text(encoding="utf-8").splitlines()
                if len(ln.strip()) >= 20 and ln.strip().startswith("return"))
    refs = next(p for p in hw.tests_dir.glob("*.py") if p.name != "conftest.py")
    refs.write_text(refs.read_text(encoding="utf-8") + f"\n\ndef leak(x):\n{line}\n",
                    encoding="utf-8")
    out = tmp_path / "out"
    with pytest.raises(ConfigError, match="would reveal"):
        release([HW], out, course=course)
    assert not out.exists()


def test_release_refuses_a_non_empty_folder(tmp_path):
    (tmp_path / "x").write_text("keep me", encoding="utf-8")
    from grader.errors import UsageError

    with pytest.raises(UsageError, match="not empty"):
        release([HW], tmp_path, course=ROOT)
    assert (tmp_path / "x").read_text(encoding="utf-8") == "keep me"


def test_toml_writer_round_trips():
    data = tomllib.loads((ROOT / "course.toml").read_text(encoding="utf-8"))
    assert tomllib.loads(toml_dumps(data)) == data


def _site_packages_of(module) -> str:
    path = Path(module.__file__).resolve()
    while path.name not in ("site-packages", "dist-packages"):
        path = path.parent
    return str(path)


def _install(bundle: Path, tmp_path: Path) -> Path:
    """A fresh venv with ``pip install -e bundle``; returns its ``grade`` command."""
    import torch

    venv = tmp_path / "venv"
    # --without-pip: pip, setuptools and torch come from this environment through a .pth
    # (no download); the bundle's grader is the only grader installed there.
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", "--system-site-packages",
                    str(venv)], check=True, timeout=120)
    py = venv / ("Scripts/python.exe" if os.name == "nt" else "bin/python")
    purelib = subprocess.run([str(py), "-c", "import sysconfig; print(sysconfig.get_path("
                              "'purelib'))"], capture_output=True, text=True, check=True,
                             timeout=60).stdout.strip()
    Path(purelib, "zz_parent_env.pth").write_text(
        "\n".join(dict.fromkeys([_site_packages_of(torch), sysconfig.get_path("purelib")]))
        + "\n", encoding="utf-8")
    proc = subprocess.run([str(py), "-m", "pip", "install", "-q", "--no-deps",
                           "--no-build-isolation", "-e", str(bundle)],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    where = subprocess.run([str(py), "-c", "import grader; print(grader.__file__)"],
                           cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert Path(where.stdout.strip()).resolve().is_relative_to(bundle.resolve()), where
    return venv / ("Scripts/grade.exe" if os.name == "nt" else "bin/grade")


def _check(grade: Path, bundle: Path, hw: str, *submission: Path) -> tuple[int, str]:
    proc = subprocess.run([str(grade), "check", hw, *map(str, submission)], cwd=bundle,
                          capture_output=True, text=True, timeout=300)
    return proc.returncode, proc.stdout + proc.stderr


def _assert_stub_checks(grade: Path, bundle: Path, hw: str) -> None:
    code, out = _check(grade, bundle, hw)
    assert code == 1, out  # the stub: runs, does not pass
    assert "not implemented" in out
    pending = load_course(bundle).homework(hw).hidden_pending
    if pending:
        assert f"{pending} hidden test" in out and "at grading time" in out
    for name in _hidden_names(ROOT, hw):
        assert name not in out


@pytest.mark.slow
def test_bundle_installs_and_checks_in_a_fresh_venv(bundle, tmp_path):
    _assert_stub_checks(_install(bundle, tmp_path), bundle, HW)


@pytest.mark.slow  # releases the whole course
def test_hw6_bundle_ships_the_training_split_and_not_the_test_split(course_bundle):
    files = {p.relative_to(course_bundle).as_posix() for p in course_bundle.rglob("*")
             if p.is_file()}
    assert "assignments/hw6/data/digits_train.safetensors" in files
    assert "reference_tests/hw6/harness.py" in files
    assert not any("digits_test" in f or "make_digits" in f or "/hidden/" in f for f in files)


def test_the_digits_splits_are_disjoint_and_cover_the_data_set():
    import json

    from safetensors import safe_open

    rows = {}
    for split, path in (("train", ROOT / "assignments/hw6/data/digits_train.safetensors"),
                        ("test", ROOT / "reference_tests/hw6/hidden/data/digits_test.safetensors")):
        with safe_open(str(path), framework="pt") as f:
            meta = f.metadata()
            images, labels = f.get_tensor("images"), f.get_tensor("labels")
        assert meta["split"] == split and meta["license"] == "CC BY 4.0"
        rows[split] = json.loads(meta["indices"])
        assert images.shape == (len(rows[split]), 1, 8, 8) and labels.shape == (len(rows[split]),)
        assert int(images.max()) == 16 and set(labels.tolist()) == set(range(10))
    assert len(rows["test"]) == 360 and not set(rows["train"]) & set(rows["test"])
    assert sorted(rows["train"] + rows["test"]) == list(range(1797))


@pytest.mark.slow  # releases the whole course
def test_every_homework_releases_into_one_bundle_without_a_secret(course_bundle):
    # hw4 and hw5 keep their part-solving references (a torch MLP, a torch ResBlock) in
    # hidden-only helpers: the bundle ships the public tests and their helpers, no more.
    course = load_course(ROOT)
    bundled = load_course(course_bundle)
    files = {p.relative_to(course_bundle).as_posix() for p in course_bundle.rglob("*")
             if p.is_file()}
    for hw_id in ALL:
        hw = course.homework(hw_id)
        assert bundled.homework(hw_id).parts == hw.parts
        assert bundled.homework(hw_id).hidden_pending > 0
        assert f"assignments/{hw_id}/{hw.file}" in files
        for path in (hw.tests_dir / "public").glob("test_*.py"):
            assert f"reference_tests/{hw_id}/public/{path.name}" in files
    for secret in ("solutions/", "/hidden/", "/mutants/", "hidden_refs"):
        assert not any(secret in "/" + f for f in files), secret
    _assert_no_secret(course_bundle, list(ALL))


@pytest.mark.slow
def test_the_public_suites_of_hw4_and_hw5_run_inside_the_installed_bundle(course_bundle,
                                                                          tmp_path):
    # Their public tests check the MLP and the ResBlock by tables and properties: they must
    # run without the hidden helpers, pass the solution and catch a mutant on its part.
    grade = _install(course_bundle, tmp_path)
    _assert_stub_checks(grade, course_bundle, "hw5")
    for hw_id, mutant, part in (("hw4", "mlp_relu_in_forward", "MLP"),
                                ("hw5", "resblock_no_relu_after_bn1", "ResBlock")):
        hw = load_course(ROOT).homework(hw_id)
        code, out = _check(grade, course_bundle, hw_id, hw.solution_path)
        assert code == 0, out
        solution = hw.solution_path.read_text(encoding="utf-8")
        overlaid = tmp_path / mutant / hw.file  # a mutant is an overlay of the solution
        overlaid.parent.mkdir()
        overlaid.write_text(overlay(solution, read_mutant(hw.mutants_dir / f"{mutant}.py",
                                                          solution)), encoding="utf-8")
        code, out = _check(grade, course_bundle, hw_id, overlaid)
        failing = [line.split()[1] for line in out.splitlines() if line.startswith("FAIL")]
        assert code == 1 and failing == [part], out
