"""grade batch, the gradebook, the class report and the Dask path."""

from __future__ import annotations

import csv
import importlib.util
import os
import signal
import socket
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import pytest
from click.testing import CliRunner

from grader.batch.driver import discover, safe_id
from grader.cli import main
from grader.judge import results as R
from grader.judge.results import SubmissionResult
from grader.reports.classreport import class_stats, render_class
from grader.reports.export import gradebook_rows
from grader.reports.files import load_results, write_atomic

ROOT = Path(__file__).resolve().parents[2]
VERSIONS = {"grader": "0", "suite": "s", "torch": "2", "python": "3"}
SOLUTION = ROOT / "solutions" / "hw2" / "gradients.py"


def _bench():
    spec = importlib.util.spec_from_file_location("bench_batch", ROOT / "bench" / "bench_batch.py")
    assert spec and spec.loader
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def make_class(folder: Path) -> dict[str, str]:
    """correct, wrong, raising, hanging (.py), a correct notebook, an unreadable file."""
    bench = _bench()
    folder.mkdir(parents=True)
    kinds = {}
    for name, kind, nb in [("ana", "correct", False), ("ben", "wrong", False),
                           ("cy", "raising", False), ("dee", "hanging", False),
                           ("eve", "correct", True)]:
        bench.write_submission(folder, name, kind, nb)
        kinds[name] = kind
    (folder / "fay.py").write_bytes(b"\x00\x01binary")
    kinds["fay"] = "unreadable"
    return kinds


def _result(student: str, statuses: dict[str, str], duration: float = 0.5,
            status: str = "graded") -> SubmissionResult:
    tests = tuple(R.TestResult(id=f"t::{p}", part=p, visibility="public",
                             points=1.0 if s == "passed" else 0.0, max_points=1.0, status=s,
                             message="" if s == "passed" else f"got {duration} expected 1.0")
                  for p, s in statuses.items())
    return SubmissionResult(assignment="hw2", submission={"id": student, "path": student,
                                                          "sha256": "x"},
                            score=sum(t.points for t in tests), max_score=float(len(tests)),
                            status=status, device="cpu", isolation="process",
                            versions=VERSIONS, duration_s=duration,
                            tests=tests, parts_order=tuple(statuses))


# ---------------------------------------------------------------- fast: discovery, outputs
def test_discover_folder(tmp_path: Path) -> None:
    subs = tmp_path / "subs"
    (subs / "carl").mkdir(parents=True)
    (subs / "carl" / "gradients.py").write_text("x = 1\n")
    (subs / "ann.py").write_text("x = 1\n")
    (subs / "bo b.ipynb").write_text("{}")
    (subs / ".DS_Store").write_text("")
    (subs / "notes.txt").write_text("")
    entries, layout = discover(subs, tmp_path / "out")
    assert layout == "folder"
    # Hidden files are skipped; any other entry is a student's (notes.txt is then recorded
    # as unreadable, never dropped in silence).
    assert [e.student for e in entries] == ["ann", "bo_b", "carl", "notes"]


def test_discover_duplicate_student(tmp_path: Path) -> None:
    subs = tmp_path / "subs"
    subs.mkdir()
    (subs / "ann.py").write_text("x = 1\n")
    (subs / "ann.ipynb").write_text("{}")
    from grader.errors import UsageError

    with pytest.raises(UsageError, match="two submissions"):
        discover(subs, tmp_path / "out")


def test_discover_canvas_zip(tmp_path: Path) -> None:
    z = tmp_path / "submissions.zip"
    with zipfile.ZipFile(z, "w") as zf:
        zf.writestr("smithjohn_12345_67890_gradients.py", "x = 1\n")
        zf.writestr("doejane_LATE_22222_33333_gradients-1.py", "x = 2\n")
        zf.writestr("../evil.py", "x = 3\n")
    entries, layout = discover(z, tmp_path / "out")
    assert layout == "canvas"
    assert [e.student for e in entries] == ["doejane", "smithjohn"]
    assert (entries[0].path / "gradients.py").read_text() == "x = 2\n"
    assert not (tmp_path / "evil.py").exists()


def test_discover_gradescope_zip(tmp_path: Path) -> None:
    z = tmp_path / "export.zip"
    meta = ("submission_111:\n  :submitters:\n  - :name: Ann Lee\n    :sid: '1001'\n"
            "    :email: ann@u.edu\n  :created_at: 2026-01-01\n"
            "submission_222:\n  :submitters:\n  - :name: Bo Chan\n    :email: bo@u.edu\n")
    with zipfile.ZipFile(z, "w") as zf:
        zf.writestr("assignment_9_export/submission_metadata.yml", meta)
        zf.writestr("assignment_9_export/submission_111/gradients.py", "x = 1\n")
        zf.writestr("assignment_9_export/submission_222/hw2.ipynb", "{}")
    entries, layout = discover(z, tmp_path / "out")
    assert layout == "gradescope"
    assert sorted(e.student for e in entries) == ["1001", "bo@u.edu"]


def test_safe_id_and_atomic_write(tmp_path: Path) -> None:
    assert safe_id("../../etc/passwd") == "etc_passwd"
    assert safe_id("Zoë Müller") == "Zo_M_ller"
    target = tmp_path / "a.json"
    write_atomic(target, "1")
    write_atomic(target, "2")
    assert target.read_text() == "2" and [p.name for p in tmp_path.iterdir()] == ["a.json"]


def test_gradebook_and_class_report() -> None:
    results = [_result("zed", {"softmax": "passed", "relu_grad": "passed"}, 0.2),
               _result("amy", {"softmax": "failed", "relu_grad": "passed"}, 0.3),
               _result("bob", {"softmax": "timeout", "relu_grad": "crashed"}, 2.5),
               _result("cat", {}, 0.0, status="unreadable")]
    rows = gradebook_rows(results)
    assert rows[0] == ["student", "softmax", "relu_grad", "total", "max", "status", "sha256"]
    assert [r[0] for r in rows[1:]] == ["amy", "bob", "cat", "zed"]
    assert rows[1][1:6] == ["0", "1", "1", "2", "graded"]
    assert rows[3][1:3] == ["", ""] and rows[3][5] == "unreadable"
    stats = class_stats(results)
    rate = {p["name"]: p["rate"] for p in stats["parts"]}
    assert rate == {"softmax": pytest.approx(1 / 3), "relu_grad": pytest.approx(2 / 3)}
    softmax = next(p for p in stats["parts"] if p["name"] == "softmax")
    assert {f["count"] for f in softmax["failures"]} == {1}
    assert stats["slowest"][0]["student"] == "bob"
    assert {t["student"] for t in stats["trouble"]} == {"bob", "cat"}
    html = render_class(results)
    assert html.count("<svg") == 3 and "bob" in html


def test_failure_messages_are_grouped() -> None:
    results = [_result(f"s{i}", {"softmax": "failed"}, 0.1 * (i + 1)) for i in range(4)]
    part = class_stats(results)["parts"][0]
    assert part["failures"][0]["count"] == 4  # "got 0.1 …" and "got 0.2 …" are one message


def test_cli_errors(tmp_path: Path) -> None:
    runner = CliRunner()
    res = runner.invoke(main, ["batch", "hw2", str(tmp_path / "nope"), "--out",
                               str(tmp_path / "out")])
    assert res.exit_code == 2 and "no such file or folder" in res.output
    res = runner.invoke(main, ["report", str(tmp_path)])
    assert res.exit_code == 2 and "results/" in res.output


# ---------------------------------------------------------------- slow: real end to end
def _env() -> dict[str, str]:
    return {**os.environ, "GRADE_REQUEST_TIMEOUT_S": "2", "GRADE_IMPORT_TIMEOUT_S": "10"}


def _check_scores(out: Path, kinds: dict[str, str]) -> None:
    results = load_results(out)
    assert sorted(results) == sorted(kinds)
    full = results["ana"].max_score
    assert results["ana"].score == full and results["ana"].full_marks
    assert results["eve"].score == full  # the notebook
    assert results["ben"].score == full - 1  # sigmoid_grad wrong
    assert {p.name: p.status for p in results["ben"].parts()}["sigmoid_grad"] == "failed"
    assert {p.name: p.status for p in results["cy"].parts()}["softmax"] == "error"
    dee = {p.name: p.status for p in results["dee"].parts()}
    assert dee["tanh_grad"] == "timeout" and dee["softmax"] == "passed"
    # one request timeout for the hanging function, not one per test
    waits = [t for t in results["dee"].tests if t.status == "timeout"]
    assert len(waits) >= 2 and sum("timed out after" in t.message for t in waits) == 1
    assert sum(t.duration_s for t in waits) < 2 * 2
    assert results["fay"].status == "unreadable"
    rows = list(csv.reader((out / "gradebook.csv").open(encoding="utf-8")))
    assert len(rows) == 1 + len(kinds)
    by = {r[0]: r for r in rows[1:]}
    assert by["ana"][-2] == "graded" and by["fay"][-2] == "unreadable"
    html = (out / "class.html").read_text()
    assert "dee" in html and "fay" in html


@pytest.mark.slow
def test_batch_kill9_resume_and_report(tmp_path: Path) -> None:
    subs, out = tmp_path / "subs", tmp_path / "out"
    kinds = make_class(subs)
    cmd = [sys.executable, "-m", "grader", "batch", "hw2", str(subs), "--out", str(out),
           "--jobs", "1", "--format", "html"]
    proc = subprocess.Popen(cmd, cwd=ROOT, env=_env(), start_new_session=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 150
    results = out / "results"
    while time.monotonic() < deadline:
        done = list(results.glob("*.json")) if results.is_dir() else []
        if len(done) >= 3:  # fay (unreadable) plus two graded ones
            break
        assert proc.poll() is None, proc.communicate()
        time.sleep(0.2)
    os.killpg(proc.pid, signal.SIGKILL)  # the driver and its judges, mid-run
    proc.wait()
    before = {p.name: p.stat().st_mtime_ns for p in results.glob("*.json")}
    assert 3 <= len(before) < len(kinds)

    runner = CliRunner()
    res = runner.invoke(main, ["batch", "hw2", str(subs), "--out", str(out), "--jobs", "2",
                               "--course", str(ROOT)], env=_env())
    assert res.exit_code == 1, res.output  # fay is unreadable
    assert f"{len(before)} up to date" in res.output
    after = {p.name: p.stat().st_mtime_ns for p in results.glob("*.json")}
    assert sorted(after) == sorted(f"{k}.json" for k in kinds)
    assert all(after[name] == mtime for name, mtime in before.items())  # none regraded
    assert not [p for p in results.iterdir() if ".tmp-" in p.name]
    assert all((results / f"{k}.html").is_file() for k in kinds)
    _check_scores(out, kinds)

    # nothing to do the second time; --rerun failed regrades only the imperfect ones
    res = runner.invoke(main, ["batch", "hw2", str(subs), "--out", str(out), "-q"], env=_env())
    assert f"0 graded now, {len(kinds)} up to date" in res.output
    (out / "class.html").unlink()
    res = runner.invoke(main, ["report", str(out)])
    assert res.exit_code == 0 and (out / "class.html").is_file()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.mark.slow
def test_dask_cluster_survives_a_killed_worker(tmp_path: Path) -> None:
    pytest.importorskip("distributed")
    dask_bin = Path(sys.executable).with_name("dask")
    if not dask_bin.exists():
        pytest.skip("the dask command is not installed")
    subs, out = tmp_path / "subs", tmp_path / "out"
    kinds = make_class(subs)
    sched_file = tmp_path / "scheduler.json"
    env = _env()
    procs = [subprocess.Popen([str(dask_bin), "scheduler", "--host", "127.0.0.1", "--port",
                               str(_free_port()), "--no-dashboard", "--scheduler-file",
                               str(sched_file)], env=env, start_new_session=True,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)]
    try:
        while not sched_file.exists():
            time.sleep(0.1)
        workers = [subprocess.Popen([str(dask_bin), "worker", "--scheduler-file",
                                     str(sched_file), "--nthreads", "1", "--no-nanny",
                                     "--host", "127.0.0.1", "--no-dashboard"], env=env,
                                    start_new_session=True, stdout=subprocess.DEVNULL,
                                    stderr=subprocess.DEVNULL) for _ in range(2)]
        procs += workers
        driver = subprocess.Popen(
            [sys.executable, "-m", "grader", "batch", "hw2", str(subs), "--out", str(out),
             "--executor", "dask", "--scheduler", str(sched_file), "-q"], cwd=ROOT, env=env,
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        procs.append(driver)
        results = out / "results"
        deadline = time.monotonic() + 150
        while time.monotonic() < deadline:  # fay is written at once; wait for one graded
            if results.is_dir() and len(list(results.glob("*.json"))) >= 2:
                break
            time.sleep(0.2)
        os.killpg(workers[0].pid, signal.SIGKILL)  # a worker (and its judge) dies mid-run
        stdout, stderr = driver.communicate(timeout=240)
        assert driver.returncode == 1, stdout + stderr
        _check_scores(out, kinds)
    finally:
        for p in reversed(procs):
            if p.poll() is None:
                if p.args[0] == str(dask_bin):
                    os.killpg(p.pid, signal.SIGKILL)  # its own session: the judges too
                else:
                    p.kill()
                p.wait()


def test_the_driver_never_imports_torch(tmp_path: Path) -> None:
    """The judges and templates import torch; the `grade batch` process must not (two
    seconds of CPU at the moment they need it), unreadable submissions included."""
    subs = tmp_path / "subs"
    subs.mkdir()
    (subs / "ana.py").write_text(SOLUTION.read_text())
    (subs / "fay.ipynb").write_text("{ not a notebook")
    script = f"""
import sys
import grader.batch.pool
seen = {{}}
def fake_run_local(jobs, **kwargs):
    seen["jobs"] = [j.student for j in jobs]
grader.batch.pool.run_local = fake_run_local
import grader.batch.driver
grader.batch.driver.run_local = fake_run_local
summary = grader.batch.driver.grade_batch("hw2", {str(subs)!r}, {str(tmp_path / 'out')!r},
                                   course={str(ROOT)!r}, progress=False, fmt="json")
print(seen["jobs"], summary.statuses, "torch" in sys.modules)
"""
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          timeout=120, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "['ana'] {'unreadable': 1} False"


@pytest.mark.slow
def test_resume_regrades_when_anything_that_changes_a_grade_changed(tmp_path: Path,
                                                                    monkeypatch) -> None:
    """A fixed solution, a changed seed_salt (in course.toml or the environment): a resumed
    batch regrades everything; with nothing changed it regrades nothing."""
    import shutil

    from grader.batch.driver import grade_batch

    course = tmp_path / "course"
    for part in ("assignments", "solutions", "reference_tests"):
        shutil.copytree(ROOT / part / "hw2", course / part / "hw2",
                        ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "course.toml", course / "course.toml")
    subs = tmp_path / "subs"
    subs.mkdir()
    (subs / "ana.py").write_text(SOLUTION.read_text())
    (subs / "ben.py").write_text(SOLUTION.read_text().replace("return s * (1 - s)", "return s"))
    monkeypatch.delenv("GRADE_SEED_SALT", raising=False)

    def run() -> int:
        summary = grade_batch("hw2", subs, tmp_path / "out", course=course, jobs=1,
                              progress=False, fmt="json")
        return summary.graded

    assert run() == 2 and run() == 0
    with open(course / "solutions/hw2/gradients.py", "a") as f:
        f.write("\n# the instructor fixed something\n")
    assert run() == 2 and run() == 0
    manifest = course / "course.toml"
    manifest.write_text(manifest.read_text().replace("[settings]\n", '[settings]\nseed_salt = '
                                                                     '"spring"\n'))
    assert run() == 2 and run() == 0
    monkeypatch.setenv("GRADE_SEED_SALT", "autumn")
    assert run() == 2 and run() == 0
