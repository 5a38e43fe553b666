"""The `grade check` command through click's CliRunner: exit codes, formats, --output."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow


def test_solution_exits_0(cli):
    result = cli("check", "hw2", "solutions/hw2")
    assert result.exit_code == 0, result.output
    assert "score 15/15" in result.output


def test_stub_exits_1_and_says_not_implemented(check_json):
    code, data = check_json("hw2")
    assert code == 1
    assert data["score"] == 0 and data["max_score"] == pytest.approx(15)
    assert {p["status"] for p in data["parts"]} == {"not_implemented"}
    assert all("not implemented" in p["message"] for p in data["parts"])


def test_json_schema(check_json, hw2_submissions):
    code, data = check_json("hw2", str(hw2_submissions / "wrong_tanh_grad_not_squared.py"))
    assert code == 1
    assert data["schema"] == "grader.result/1" and data["assignment"] == "hw2"
    assert len(data["submission"]["sha256"]) == 64
    assert {"grader", "torch", "python"} <= set(data["versions"])
    assert data["device"] == "cpu" and data["isolation"]
    for test in data["tests"]:
        assert {"id", "part", "visibility", "points", "max_points", "status", "message",
                "duration_s"} <= set(test)
    tanh = [t for t in data["tests"] if t["part"] == "tanh_grad"]
    assert tanh and all(t["status"] == "failed" and t["stage"] == "values" for t in tanh)
    assert data["score"] == pytest.approx(data["max_score"] - 1)


@pytest.mark.parametrize("fmt, marker", [("html", "<html"), ("md", "| part |"),
                                         ("text", "score")])
def test_formats_and_output_file(cli, tmp_path: Path, fmt, marker):
    out = tmp_path / f"report.{fmt}"
    result = cli("check", "hw2", "solutions/hw2", "--format", fmt, "--output", str(out))
    assert result.exit_code == 0
    assert f"wrote {out}" in result.output and "score 15/15" in result.output
    text = out.read_text(encoding="utf-8")
    assert marker in text and "softmax_backward" in text


def test_hostile_submission_still_writes_its_result(cli, tmp_path: Path, hw2_submissions):
    out = tmp_path / "result.json"
    result = cli("check", "hw2", str(hw2_submissions / "hostile_os_exit.py"), "--format",
                 "json", "--output", str(out))
    assert result.exit_code == 1
    data = json.loads(out.read_text())
    softmax = [t for t in data["tests"] if t["part"] == "softmax"]
    assert softmax and all(t["status"] == "crashed" for t in softmax)
    assert data["score"] == pytest.approx(13)


def test_unknown_homework_exits_2(cli):
    result = cli("check", "hw99")
    assert result.exit_code == 2
    assert "unknown homework 'hw99'" in result.stderr and len(result.stderr.splitlines()) == 1


def test_missing_path_exits_2(cli):
    result = cli("check", "hw2", "no/such/file.py")
    assert result.exit_code == 2
    assert "no such file or folder" in result.stderr


def test_course_option(cli, course_root: Path, tmp_path: Path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # no course.toml here or above
    from click.testing import CliRunner

    from grader.cli import main

    lost = CliRunner().invoke(main, ["check", "hw2"])
    assert lost.exit_code == 2 and "course.toml" in lost.stderr
    found = CliRunner().invoke(main, ["check", "hw2", str(course_root / "solutions/hw2"),
                                      "--course", str(course_root)])
    assert found.exit_code == 0, found.output


def test_bad_format_is_a_usage_error(cli):
    result = cli("check", "hw2", "--format", "xml")
    assert result.exit_code == 2
