"""Bad input everywhere: malformed submissions (tests/submissions/malformed/) and bad options.

Each must end in ONE line naming the file (or option) and what was expected: a
SubmissionError/UsageError from the library, ``grade: error: ...`` and exit code 2 from the
CLI, never a traceback. None of these start the executor, so they run in milliseconds.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from click.testing import CliRunner

from grader.cli import main
from grader.course.manifest import load_course
from grader.course.submission import MAX_BYTES, prepare_submission
from grader.errors import SubmissionError, UsageError

ROOT = Path(__file__).resolve().parents[2]
MALFORMED = Path(__file__).resolve().parents[1] / "submissions" / "malformed"

# entry -> words the message must contain (besides the file's name)
EXPECTED = {
    "empty.py": "empty",
    "blank.py": "empty",
    "binary.py": "binary",
    "latin1.py": "UTF-8",
    "invalid.ipynb": "not a valid notebook",
    "truncated.ipynb": "not a valid notebook",
    "not_a_notebook.ipynb": "not a valid notebook",
    "nbformat2.ipynb": "too old",
    "no_suffix": "expected a .py file",
    "no_homework_file": "no gradients.py",
    "two_candidates": "two candidate files",
    "two_loose": "candidate files",
    "symlink_outside": "symbolic link pointing outside",
}


@pytest.fixture(scope="module")
def hw2():
    return load_course(ROOT).homework("hw2")


def _one_line(message: str) -> None:
    assert "\n" not in message and "Traceback" not in message, message


@pytest.mark.parametrize("entry", sorted(EXPECTED))
def test_malformed_submission_is_refused(hw2, entry: str) -> None:
    path = MALFORMED / entry
    with pytest.raises(SubmissionError) as info:
        prepare_submission(path, hw2)
    message = str(info.value)
    _one_line(message)
    assert entry in message, message
    assert EXPECTED[entry] in message, message


def test_oversized_file(hw2, tmp_path: Path) -> None:
    path = tmp_path / "gradients.py"
    path.write_text("x = 1\n" * (MAX_BYTES // 6 + 10))
    with pytest.raises(SubmissionError) as info:
        prepare_submission(path, hw2)
    _one_line(str(info.value))
    assert "over the limit" in str(info.value) and "gradients.py" in str(info.value)


def test_oversized_notebook(hw2, tmp_path: Path) -> None:
    path = tmp_path / "hw2.ipynb"
    cell = {"cell_type": "code", "metadata": {}, "outputs": [], "execution_count": None,
            "source": "x = 1\n" * 1000}
    path.write_text(json.dumps({"cells": [cell] * 400, "metadata": {}, "nbformat": 4,
                                "nbformat_minor": 5}))
    with pytest.raises(SubmissionError, match="over the limit"):
        prepare_submission(path, hw2)


def test_deeply_nested_notebook_json(hw2, tmp_path: Path) -> None:
    path = tmp_path / "hw2.ipynb"
    path.write_text("[" * 200_000 + "]" * 200_000)
    with pytest.raises(SubmissionError) as info:
        prepare_submission(path, hw2)
    _one_line(str(info.value))


def test_broken_symlink(hw2, tmp_path: Path) -> None:
    (tmp_path / "gradients.py").symlink_to(tmp_path / "nowhere.py")
    with pytest.raises(SubmissionError, match="symbolic link|no such"):
        prepare_submission(tmp_path, hw2)


def test_symlink_inside_the_submission_is_fine(hw2, tmp_path: Path) -> None:
    (tmp_path / "real.txt").write_text((ROOT / "solutions/hw2/gradients.py").read_text())
    (tmp_path / "gradients.py").symlink_to(tmp_path / "real.txt")
    assert prepare_submission(tmp_path, hw2).chunks


def test_unreadable_folder(hw2, tmp_path: Path) -> None:
    if os.geteuid() == 0:
        pytest.skip("root reads every folder")
    folder = tmp_path / "locked"
    folder.mkdir(mode=0)
    with pytest.raises(SubmissionError):
        prepare_submission(folder, hw2)


def test_missing_path(hw2, tmp_path: Path) -> None:
    with pytest.raises(SubmissionError, match="no such file"):
        prepare_submission(tmp_path / "absent.py", hw2)


def test_old_notebook_format_3_is_upgraded(hw2) -> None:
    """nbformat 3 converts losslessly to 4 (nbformat's own upgrade), so it is graded."""
    prepared = prepare_submission(MALFORMED / "nbformat3.ipynb", hw2)
    assert "import torch" in prepared.source


# --- the CLI -------------------------------------------------------------------------------


def _grade(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, list(args), catch_exceptions=False)
    return result.exit_code, result.output


def _assert_usage_error(code: int, output: str, *words: str) -> None:
    assert code == 2, output
    lines = [ln for ln in output.splitlines() if ln.strip()]
    assert len(lines) == 1, output
    assert "Traceback" not in output
    for word in words:
        assert word in lines[0], output


@pytest.mark.parametrize("entry", ["empty.py", "binary.py", "latin1.py", "truncated.ipynb",
                                   "nbformat2.ipynb", "two_candidates", "symlink_outside",
                                   "no_homework_file"])
def test_cli_check_malformed(entry: str) -> None:
    code, output = _grade("check", "hw2", str(MALFORMED / entry), "--course", str(ROOT))
    _assert_usage_error(code, output, "grade: error:", entry, EXPECTED[entry])


def test_cli_unknown_homework() -> None:
    code, output = _grade("check", "hw99", str(ROOT / "solutions/hw2"), "--course", str(ROOT))
    _assert_usage_error(code, output, "grade: error:", "hw99")


@pytest.mark.parametrize("device", ["tpu", "cuda:x", "cuda:-1", "CPU", ""])
def test_cli_bad_device(device: str) -> None:
    code, output = _grade("check", "hw2", str(ROOT / "solutions/hw2"), "--course", str(ROOT),
                          "--device", device)
    _assert_usage_error(code, output, "grade: error:", "--device")


def test_cli_cuda_without_gpu() -> None:
    import torch

    if torch.cuda.is_available():
        pytest.skip("this machine has a GPU")
    for device in ("cuda", "cuda:0", "cuda:3"):
        code, output = _grade("check", "hw2", str(ROOT / "solutions/hw2"), "--course",
                              str(ROOT), "--device", device)
        _assert_usage_error(code, output, "grade: error:", device, "GPU")


def test_cli_cuda_index_past_the_gpus() -> None:
    import torch

    if not torch.cuda.is_available():
        pytest.skip("no GPU")
    device = f"cuda:{torch.cuda.device_count()}"
    code, output = _grade("check", "hw2", str(ROOT / "solutions/hw2"), "--course", str(ROOT),
                          "--device", device)
    _assert_usage_error(code, output, "grade: error:", device)


def test_cli_bad_isolation() -> None:
    code, output = _grade("check", "hw2", str(ROOT / "solutions/hw2"), "--course", str(ROOT),
                          "--isolation", "chroot")
    assert code == 2 and "Traceback" not in output and "chroot" in output


def test_cli_missing_submission() -> None:
    code, output = _grade("check", "hw2", str(ROOT / "no/such/folder"), "--course", str(ROOT))
    _assert_usage_error(code, output, "grade: error:", "no such file")


def test_cli_missing_course(tmp_path: Path) -> None:
    code, output = _grade("check", "hw2", str(tmp_path), "--course", str(tmp_path / "absent"))
    assert code == 2 and "Traceback" not in output


def test_namespace_request_without_namespaces() -> None:
    from grader.launch.isolation import choose_isolation

    with pytest.raises(UsageError, match="--isolation namespace is not available"):
        choose_isolation("namespace", "process")
    assert choose_isolation("auto", "process") == "process"


@pytest.mark.slow
def test_batch_over_every_malformed_entry_gives_one_result_each(tmp_path: Path) -> None:
    """A batch over a folder mixing every malformed entry and one good submission finishes
    with one result per student: `unreadable` with the one-line message, or `graded`."""
    import shutil

    from grader.batch.driver import grade_batch

    subs = tmp_path / "subs"
    shutil.copytree(MALFORMED, subs, symlinks=True, ignore=shutil.ignore_patterns("README.md"))
    shutil.copy(ROOT / "solutions" / "hw2" / "gradients.py", subs / "good.py")
    out = tmp_path / "out"
    summary = grade_batch("hw2", subs, out, course=ROOT, jobs=1, progress=False)
    results = {p.stem: json.loads(p.read_text()) for p in (out / "results").glob("*.json")}
    students = {Path(e).stem for e in os.listdir(subs)}
    assert set(results) == students
    assert summary.total == len(students)
    assert results["good"]["status"] == "graded" and results["good"]["score"] == 15
    for entry, words in EXPECTED.items():
        result = results[Path(entry).stem]
        assert result["status"] == "unreadable", (entry, result["status"])
        _one_line(result["message"])
        assert words in result["message"], (entry, result["message"])
