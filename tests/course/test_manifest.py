"""grader.course.manifest: the manifest is validated key by key (one line naming the file and the key,
exit 2 at the CLI), and the suite version hashes everything that can change a grade."""

from __future__ import annotations

import os
import shutil
import textwrap
from pathlib import Path

import pytest
from click.testing import CliRunner

from grader.cli import main
from grader.config import resolve_settings
from grader.course import manifest as course_module
from grader.course.manifest import Part, find_course, load_course
from grader.errors import ConfigError, UsageError

ROOT = Path(__file__).resolve().parents[2]

GOOD = """
[course]
name = "tiny"

[settings]
seed_salt = "2026"

[hw.hwx]
title = "tiny"
file = "mod.py"
forbidden = ["torch.autograd.*"]

[hw.hwx.parts]
double = 2
triple = { points = 1, kind = "function", forbidden = ["torch.mul"] }
"""

# (what to replace in GOOD, with what) -> words of the one-line message (the key, the problem)
BAD = {
    ('triple = { points = 1, kind = "function", forbidden = ["torch.mul"] }',
     'triple = { points = 1, forbidden = "torch.mul" }'):
        ("hw.hwx.parts.triple.forbidden must be a list of strings", "'torch.mul'"),
    ('forbidden = ["torch.autograd.*"]', 'forbidden = "torch.autograd.*"'):
        ("hw.hwx.forbidden must be a list of strings",),
    ("[hw.hwx.parts]\ndouble = 2\n" + 'triple = { points = 1, kind = "function", forbidden = '
     '["torch.mul"] }', "parts = 3"): ("hw.hwx.parts must be a table", "got 3"),
    ("double = 2", "double = { points = 2, point = 3 }"):
        ("hw.hwx.parts.double.point is not a known key", "misspelt"),
    ('title = "tiny"\nfile', 'title = "tiny"\nforbiden = ["x"]\nfile'):
        ("hw.hwx.forbiden is not a known key",),
    ("[course]", "[courses]\n[course]"): ("courses is not a known key",),
    ("double = 2", "double = true"): ("hw.hwx.parts.double", "a table"),
    ("double = 2", "double = { points = -1 }"):
        ("hw.hwx.parts.double.points must be a number >= 0",),
    ("double = 2", "double = { points = true }"):
        ("hw.hwx.parts.double.points must be a number >= 0", "True"),
    ("double = 2", 'double = { points = 2, kind = "klass" }'):
        ("hw.hwx.parts.double.kind must be", '"class"'),
    ("double = 2", "double = { kind = 'class' }"): ("hw.hwx.parts.double has no `points`",),
    ('file = "mod.py"', 'file = "mod.py"\npreload = "torch._dynamo"'):
        ("hw.hwx.preload must be a list of strings",),
    ('file = "mod.py"', 'file = "mod.py"\nhidden_tests = "many"'):
        ("hw.hwx.hidden_tests must be an integer >= 0",),
    ('file = "mod.py"', 'file = "mod.py"\nsettings = 3'): ("hw.hwx.settings must be a table",),
    ('file = "mod.py"', "file = 3"): ("hw.hwx.file must be a file name",),
    ('file = "mod.py"', ""): ("[hw.hwx] has no `file`",),
    ('title = "tiny"', "title = 1"): ("hw.hwx.title must be a string",),
    ('name = "tiny"', "name = 1"): ("course.name must be a string",),
    ("double = 2\n" + 'triple = { points = 1, kind = "function", forbidden = ["torch.mul"] }',
     ""): ("hw.hwx.parts must be a table of at least one part",),
    ('[course]\nname = "tiny"\n\n[settings]\nseed_salt = "2026"',
     'settings = 4\n[course]\nname = "tiny"'): ("settings must be a table",),
    ('name = "tiny"', 'name = "tiny"\nterm = "fall"'): ("course.term is not a known key",),
    ("[hw.hwx.parts]\ndouble = 2\n" + 'triple = { points = 1, kind = "function", forbidden = '
     '["torch.mul"] }', ""): ("[hw.hwx] has no `parts`", "[hw.hwx.parts] table"),
    ('file = "mod.py"', 'file = "sub/mod.py"'): ("hw.hwx.file must be a file name", "'sub/mod.py'"),
    ('file = "mod.py"', 'file = "sub\\\\mod.py"'): ("hw.hwx.file must be a file name",),
    ('file = "mod.py"', 'file = "mod.txt"'): ("hw.hwx.file must be a file name like",),
    ('file = "mod.py"', 'file = "mod.py"\npreload = ["torch._dynamo", 1]'):
        ("hw.hwx.preload must be a list of strings", "1]"),
    ('file = "mod.py"', 'file = "mod.py"\nhidden_tests = -1'):
        ("hw.hwx.hidden_tests must be an integer >= 0", "-1"),
    ('file = "mod.py"', 'file = "mod.py"\nhidden_tests = 1.5'):
        ("hw.hwx.hidden_tests must be an integer >= 0",),
    ("double = 2", "double = { points = 2, request_timeout_s = 0 }"):
        ("hw.hwx.parts.double.request_timeout_s must be a number of seconds > 0",),
}

# whole manifests that are no manifest at all -> words of the message
WHOLE = {
    b"hw = 3\n": ("hw must be a table (got 3)",),
    b'[hw]\nhwx = "gradients.py"\n': ("hw.hwx must be a table", "a string 'gradients.py'"),
    b'[course]\nname = "tiny\n': ("is not valid TOML",),
    b'[course]\nname = "caf\xe9"\n': ("is not valid TOML",),  # Latin-1, not UTF-8
    b"[courses]\n": ("courses is not a known key (known: course, settings, hw)",),
}


def _course(tmp_path: Path, text: str) -> Path:
    (tmp_path / "course.toml").write_text(textwrap.dedent(text).lstrip(), encoding="utf-8")
    return tmp_path


def test_the_good_manifest_loads(tmp_path):
    loaded = load_course(_course(tmp_path, GOOD))
    hw = loaded.homework("hwx")
    assert [(p.name, p.points, p.kind, p.forbidden) for p in hw.parts] == [
        ("double", 2.0, "function", ("torch.autograd.*",)),
        ("triple", 1.0, "function", ("torch.mul", "torch.autograd.*"))]
    assert hw.course_settings == {"seed_salt": "2026"}


@pytest.mark.parametrize("change", sorted(BAD), ids=lambda c: c[1][:40])
def test_a_bad_manifest_is_one_line_naming_the_file_and_the_key(tmp_path, change):
    old, new = change
    assert old in GOOD
    root = _course(tmp_path, GOOD.replace(old, new))
    with pytest.raises(ConfigError) as info:
        load_course(root)
    message = str(info.value)
    assert "\n" not in message and message.startswith(str(root / "course.toml")), message
    for words in BAD[change]:
        assert words in message, message
    result = CliRunner().invoke(main, ["check", "hwx", "--course", str(root)])
    assert result.exit_code == 2 and "Traceback" not in result.output
    assert [ln for ln in result.output.splitlines() if ln] == [f"grade: error: {message}"]


@pytest.mark.parametrize("text", sorted(WHOLE))
def test_a_manifest_that_is_no_table_of_homeworks_is_one_line(tmp_path, text):
    (tmp_path / "course.toml").write_bytes(text)
    with pytest.raises(ConfigError) as info:
        load_course(tmp_path)
    message = str(info.value)
    assert "\n" not in message and message.startswith(str(tmp_path / "course.toml")), message
    for words in WHOLE[text]:
        assert words in message, message


def test_what_the_manifest_may_leave_out(tmp_path):
    """The course's name is its folder's, a homework's title its id; a part given as a number
    is its points, a function, with no limit of its own; no preload, no pending hidden tests."""
    root = tmp_path / "spring"
    root.mkdir()
    (root / "course.toml").write_text('[hw.hwx]\nfile = "mod.py"\nparts = { double = 2 }\n')
    loaded = load_course(root)
    hw = loaded.homework("hwx")
    assert (loaded.name, loaded.settings, hw.title, hw.forbidden, hw.preload, hw.settings,
            hw.hidden_pending) == ("spring", {}, "hwx", (), (), {}, 0)
    assert hw.parts == (Part("double", 2.0, "function", (), None),)
    assert type(hw.parts[0].points) is float and hw.max_score == 2.0
    assert (hw.stub_path, hw.solution_path, hw.harness_path) == (
        root.resolve() / "assignments/hwx/mod.py", root.resolve() / "solutions/hwx/mod.py",
        root.resolve() / "reference_tests/hwx/harness.py")


def test_an_unknown_homework_or_part_lists_the_known_ones(tmp_path):
    loaded = load_course(_course(tmp_path, GOOD))
    with pytest.raises(UsageError) as info:
        loaded.homework("hw9")
    assert str(info.value) == f"unknown homework 'hw9': {tmp_path / 'course.toml'} lists hwx"
    with pytest.raises(ConfigError, match="hwx has no part 'quadruple' in course.toml; its parts "
                                          "are double, triple"):
        loaded.homework("hwx").part("quadruple")


def test_the_course_is_found_by_walking_up(tmp_path, monkeypatch):
    root = _course(tmp_path, GOOD)
    deep = root / "assignments" / "hwx"
    deep.mkdir(parents=True)
    assert find_course(deep) == root.resolve()
    monkeypatch.chdir(deep)
    assert load_course().root == root.resolve()


def test_no_course_anywhere_up_or_at_the_given_folder_is_a_usage_error(tmp_path):
    lonely = tmp_path / "lonely"
    lonely.mkdir()
    if any((folder / "course.toml").is_file() for folder in lonely.resolve().parents):
        pytest.skip("a course.toml above the temporary folder")
    with pytest.raises(UsageError, match="no course.toml found in .*lonely or any folder above "
                                         "it; run grade inside a course folder or pass --course"):
        find_course(lonely)
    with pytest.raises(UsageError, match=r"lonely.course.toml does not exist; pass --course"):
        load_course(lonely)


def test_an_unreadable_manifest_is_one_line(tmp_path):
    root = _course(tmp_path, GOOD)
    manifest = root / "course.toml"
    if os.geteuid() == 0:  # root reads any file: make it one whose read fails
        if not Path("/proc/self/mem").exists():
            pytest.skip("needs /proc/self/mem to make a file that root cannot read")
        manifest.unlink()
        manifest.symlink_to("/proc/self/mem")
    else:
        manifest.chmod(0)
    result = CliRunner().invoke(main, ["check", "hwx", "--course", str(root)])
    assert result.exit_code == 2, result.output
    lines = [ln for ln in result.output.splitlines() if ln]
    assert len(lines) == 1 and "course.toml: cannot be read" in lines[0], result.output


# -- the suite version ------------------------------------------------------------------------

@pytest.fixture
def hw2_copy(tmp_path: Path) -> Path:
    """A course folder holding only the repository's hw2."""
    for part in ("assignments", "solutions", "reference_tests"):
        shutil.copytree(ROOT / part / "hw2", tmp_path / part / "hw2",
                        ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "course.toml", tmp_path / "course.toml")
    return tmp_path


def _version(root: Path, **settings: object) -> str:
    loaded = load_course(root)
    hw = loaded.homework("hw2")
    resolved = resolve_settings(("course", loaded.settings), overrides=dict(settings),
                                environ={}) if settings else None
    return hw.suite_version(resolved)


@pytest.mark.parametrize("edit", ["solution", "helper", "data", "seed_salt", "test", "manifest"])
def test_the_suite_version_changes_with_what_changes_a_grade(hw2_copy, edit):
    before = _version(hw2_copy)
    if edit == "solution":
        with open(hw2_copy / "solutions/hw2/gradients.py", "a") as f:
            f.write("\n# fixed\n")
    elif edit == "helper":
        with open(hw2_copy / "reference_tests/hw2/hw2_refs.py", "a") as f:
            f.write("\n# a helper changed\n")
    elif edit == "data":
        (hw2_copy / "reference_tests/hw2/data").mkdir()
        (hw2_copy / "reference_tests/hw2/data/inputs.json").write_text("[1, 2]")
    elif edit == "test":
        with open(hw2_copy / "reference_tests/hw2/public/test_softmax.py", "a") as f:
            f.write("\n# a test changed\n")
    else:
        text = (hw2_copy / "course.toml").read_text()
        change = ("memory_mb = 2048", 'memory_mb = 2048\nseed_salt = "spring"') \
            if edit == "seed_salt" else ("sigmoid_grad = { points = 1,", "sigmoid_grad = { "
                                                                          "points = 2,")
        (hw2_copy / "course.toml").write_text(text.replace(*change))
    assert _version(hw2_copy) != before


def test_the_suite_version_ignores_mutants_and_presentation(hw2_copy, monkeypatch, tmp_path):
    before = _version(hw2_copy)
    (hw2_copy / "reference_tests/hw2/mutants/new_mutant.py").write_text("# part: softmax\n")
    grader_copy = tmp_path / "grader_copy"
    shutil.copytree(course_module._GRADER, grader_copy,
                    ignore=shutil.ignore_patterns("__pycache__"))
    monkeypatch.setattr(course_module, "_GRADER", grader_copy)
    assert _version(hw2_copy) == before
    with open(grader_copy / "cli.py", "a") as f:
        f.write("\n# presentation only\n")
    assert _version(hw2_copy) == before
    with open(grader_copy / "compare.py", "a") as f:
        f.write("\n# the comparison changed\n")
    assert _version(hw2_copy) != before


def test_the_suite_version_covers_the_run_settings(hw2_copy):
    base = _version(hw2_copy, request_timeout_s=10)
    assert _version(hw2_copy, request_timeout_s=10) == base
    assert _version(hw2_copy, request_timeout_s=10, seed_salt="x") != base
    assert _version(hw2_copy, request_timeout_s=5) != base
    assert _version(hw2_copy, request_timeout_s=10, sandbox_uid=31000) == base
