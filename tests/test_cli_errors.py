"""Bad paths at the CLI: each is one line naming the path, exit code 2, never a traceback (and
no temporary file left behind)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from click.testing import CliRunner

from grader.cli import main
from grader.integrations.release import MARKER
from grader.judge import results as gr

ROOT = Path(__file__).resolve().parents[1]


def grade(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)
    return result.exit_code, result.output


def assert_one_line(code: int, output: str, *words: str) -> None:
    assert code == 2, output
    lines = [ln for ln in output.splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith("grade: error: "), output
    for word in words:
        assert word in lines[0], output


@pytest.fixture
def batch_dir(tmp_path: Path) -> Path:
    """A batch folder with one result, as grade batch writes it."""
    result = gr.SubmissionResult(
        assignment="hw2", submission={"id": "ana", "path": "ana.py", "sha256": "ab"}, score=1.0,
        max_score=1.0, status="graded", device="cpu", isolation="process",
        versions={"suite": "hw2@1"}, duration_s=0.1, parts_order=("softmax",),
        tests=(gr.TestResult("t.py::t", "softmax", "public", 1.0, 1.0, "passed"),))
    (tmp_path / "results").mkdir()
    (tmp_path / "results" / "ana.json").write_text(json.dumps(result.to_dict()))
    return tmp_path


def test_check_output_in_a_missing_folder_fails_before_grading(tmp_path):
    target = tmp_path / "missing" / "report.html"
    code, output = grade("check", "hw2", ROOT / "solutions/hw2", "--course", ROOT,
                         "--format", "html", "--output", target)
    assert_one_line(code, output, str(target), "does not exist")


@pytest.mark.slow
def test_check_output_that_cannot_be_written(tmp_path):
    if os.geteuid() == 0:  # root writes anywhere a file allows it: /proc/version does not
        target = Path("/proc/version")
    else:
        folder = tmp_path / "ro"
        folder.mkdir()
        folder.chmod(0o500)
        target = folder / "report.txt"
    code, output = grade("check", "hw2", ROOT / "solutions/hw2", "--course", ROOT,
                         "--output", target)
    assert_one_line(code, output, str(target), "cannot be written")


def test_export_to_a_missing_folder(batch_dir, tmp_path):
    code, output = grade("export", batch_dir, "-o", tmp_path / "missing" / "x.csv")
    assert_one_line(code, output, str(tmp_path / "missing" / "x.csv"), "does not exist")


def test_report_where_gradebook_is_a_folder_leaves_no_temp_file(batch_dir):
    (batch_dir / "gradebook.csv").mkdir()
    code, output = grade("report", batch_dir)
    assert_one_line(code, output, str(batch_dir / "gradebook.csv"), "it is a folder")
    assert not [p for p in batch_dir.iterdir() if ".tmp-" in p.name]


@pytest.mark.parametrize("command", ["report", "export"])
def test_a_folder_named_like_a_result(batch_dir, command):
    (batch_dir / "results" / "bob.json").mkdir()
    code, output = grade(command, batch_dir)
    assert_one_line(code, output, str(batch_dir / "results" / "bob.json"), "not a")


def test_batch_out_inside_a_file(tmp_path):
    (tmp_path / "notes").write_text("not a folder")
    out = tmp_path / "notes" / "graded"
    subs = tmp_path / "subs"
    subs.mkdir()
    (subs / "ana.py").write_text("x = 1\n")
    code, output = grade("batch", "hw2", subs, "--out", out, "--course", ROOT)
    assert_one_line(code, output, str(out))


def test_release_force_refuses_a_folder_it_did_not_write(tmp_path):
    mine = tmp_path / "thesis"
    mine.mkdir()
    (mine / "chapter1.tex").write_text("years of work")
    code, output = grade("release", "hw2", "--out", mine, "--force", "--course", ROOT)
    assert_one_line(code, output, str(mine), MARKER)
    assert (mine / "chapter1.tex").read_text() == "years of work"


@pytest.mark.slow
def test_release_force_replaces_its_own_bundle(tmp_path):
    out = tmp_path / "bundle"
    code, output = grade("release", "hw2", "--out", out, "--course", ROOT)
    assert code == 0, output
    assert (out / MARKER).is_file()
    (out / "stale.txt").write_text("from an older release")
    code, output = grade("release", "hw2", "--out", out, "--force", "--course", ROOT)
    assert code == 0, output
    assert (out / MARKER).is_file() and not (out / "stale.txt").exists()
