"""``grade export``: a batch's results as CSV, a Gradescope scores CSV, or one JSON."""

from __future__ import annotations

import csv
import io
import json

import pytest
from click.testing import CliRunner

from grader.cli import main
from grader.errors import UsageError
from grader.judge import results as gr
from grader.reports.export import CSV_COLUMNS, CSV_TAIL, export
from grader.reports.files import load_results

PARTS = ("softmax", "cross_entropy")


def _result(student, tests, status="graded", message=""):
    return gr.SubmissionResult(
        assignment="hw2", submission={"id": student, "path": f"{student}.py", "sha256": "ab"},
        score=sum(t.points for t in tests), max_score=3.0, status=status, device="cpu",
        isolation="process", versions={"suite": "hw2@123"}, duration_s=1.25,
        tests=tuple(tests), message=message, parts_order=PARTS)


def _t(part, points, max_points, status, vis="public", message=""):
    return gr.TestResult(f"t.py::{part}_{status}", part, vis, points, max_points, status,
                         message=message)


@pytest.fixture
def batch(tmp_path):
    results = [
        _result("zoë", [_t("softmax", 1, 1, "passed"), _t("softmax", 0, 1, "failed", "hidden"),
                        _t("cross_entropy", 1, 1, "passed")]),
        _result("alice", [_t("softmax", 1, 1, "passed"), _t("softmax", 1, 1, "passed", "hidden"),
                          _t("cross_entropy", 0, 1, "failed",
                             message='got 0.4, "expected" 0.1,\nsee hint')]),
        _result("bob", [], status="unreadable", message="bob.py: not UTF-8, text"),
    ]
    (tmp_path / "results").mkdir()
    for r in results:
        (tmp_path / "results" / f"{r.student}.json").write_text(json.dumps(r.to_dict()),
                                                                encoding="utf-8")
    (tmp_path / "gradebook.csv").write_text("not read", encoding="utf-8")
    return tmp_path


def test_csv_columns_rows_and_encoding(batch):
    text, count = export(batch, "csv")
    assert count == 3
    rows = list(csv.reader(io.StringIO(text)))
    header = rows[0]
    assert header == [*CSV_COLUMNS, "part:softmax", "part:cross_entropy", *CSV_TAIL]
    assert [r[0] for r in rows[1:]] == ["alice", "bob", "zoë"]  # sorted, one header row
    assert all(len(r) == len(header) for r in rows)
    by = {r[0]: dict(zip(header, r, strict=True)) for r in rows[1:]}
    assert by["alice"]["score"] == "2" and by["alice"]["part:softmax"] == "2"
    assert by["alice"]["part:cross_entropy"] == "0"
    assert by["alice"]["message"] == ""
    assert by["zoë"]["hidden_tests"] == "1" and by["zoë"]["passed_tests"] == "2"
    assert by["bob"]["status"] == "unreadable" and by["bob"]["part:softmax"] == "0"
    assert by["bob"]["message"] == "bob.py: not UTF-8, text"
    assert text.endswith("\r\n") and "\n" not in text.replace("\r\n", "")
    text.encode("utf-8")  # a str that encodes; the file is written as UTF-8 by the CLI


def test_gradescope_csv(batch):
    text, _ = export(batch, "gradescope")
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0] == ["SID", "Total Score", "softmax", "cross_entropy"]
    assert rows[1] == ["alice", "2", "2", "0"]


def test_json_export_round_trips(batch):
    text, _ = export(batch, "json")
    data = json.loads(text)
    assert data["schema"] == "grader.export/1" and data["count"] == 3
    back = [gr.SubmissionResult.from_dict(d) for d in data["results"]]
    assert [r.student for r in back] == ["alice", "bob", "zoë"]
    assert back == list(load_results(batch).values())


def test_cli_writes_utf8_file(batch, tmp_path):
    out = tmp_path / "grades.csv"
    res = CliRunner().invoke(main, ["export", str(batch), "--format", "csv", "--out", str(out)])
    assert res.exit_code == 0, res.output
    assert "3 submissions" in res.output
    raw = out.read_bytes()
    assert "zoë".encode() in raw and raw.count(b"\r\n") == 4
    res = CliRunner().invoke(main, ["export", str(batch), "--format", "json"])
    assert res.exit_code == 0 and json.loads(res.output)["count"] == 3


def test_errors(tmp_path):
    with pytest.raises(UsageError, match="no results"):
        export(tmp_path, "csv")
    (tmp_path / "results").mkdir()
    (tmp_path / "results" / "x.json").write_text("{}", encoding="utf-8")
    with pytest.raises(UsageError, match="not a result file"):
        export(tmp_path, "csv")
    res = CliRunner().invoke(main, ["export", str(tmp_path)])
    assert res.exit_code == 2 and "grade: error:" in res.output
