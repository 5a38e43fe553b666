"""The pool's zygote: one interpreter (one torch import) forks every judge and template of a
local batch; it never holds the course's tests; a judge that dies is forked again; a pool
whose zygote is gone spawns its judges instead. Linux only (the fork server)."""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from grader.batch.driver import grade_batch
from grader.batch.judges import ForkedJudge, SpawnedJudge, Zygote, start_zygote
from grader.batch.pool import Job, prepared_to_dict, run_local
from grader.config import Settings
from grader.course.manifest import load_course
from grader.course.submission import prepare_submission
from grader.errors import ConfigError
from grader.launch.isolation import fork_server_available

pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(not fork_server_available(),
                                 reason="the zygote forks: Linux with Unix sockets only")]

ROOT = Path(__file__).resolve().parents[2]
SOLUTION = ROOT / "solutions" / "hw2" / "gradients.py"
HANG = SOLUTION.read_text().replace(
    "def tanh_grad(x: torch.Tensor) -> torch.Tensor:\n",
    "def tanh_grad(x: torch.Tensor) -> torch.Tensor:\n    import time\n    time.sleep(1000)\n")


def _jobs(tmp_path: Path, sources: dict[str, str]) -> list[Job]:
    homework = load_course(ROOT).homework("hw2")
    folder = tmp_path / "subs"
    folder.mkdir(exist_ok=True)
    jobs = []
    for student, source in sources.items():
        path = folder / f"{student}.py"
        path.write_text(source)
        jobs.append(Job(student, prepared_to_dict(prepare_submission(path, homework,
                                                                     student_id=student))))
    return jobs


def _run(jobs: list[Job], tmp_path: Path, zygote: Zygote | None, *, workers: int = 2,
         overrides: dict[str, Any] | None = None,
         timeout_s: float = 900.0) -> dict[str, dict[str, Any] | str]:
    got: dict[str, dict[str, Any] | str] = {}

    def on_result(job: Job, data: dict[str, Any] | None, log: str, error: str) -> None:
        got[job.student] = data if data is not None else error

    run_local(jobs, course_root=ROOT, hw_id="hw2", overrides=overrides or {}, workers=workers,
              on_result=on_result, submission_timeout_s=timeout_s, log_dir=tmp_path / "logs",
              zygote=zygote)
    return got


def test_a_batch_starts_one_interpreter_however_many_judges(tmp_path: Path,
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    """Three judges and their templates, and the only process `grade batch` starts is the
    zygote: the judges and templates are its forks, not interpreters that import torch."""
    started: list[list[str]] = []
    real = subprocess.Popen

    def recording(args: Any, *a: Any, **k: Any) -> Any:
        started.append([str(x) for x in args])
        return real(args, *a, **k)

    monkeypatch.setattr(subprocess, "Popen", recording)
    subs = tmp_path / "subs"
    subs.mkdir()
    for i in range(6):
        shutil.copy(SOLUTION, subs / f"s{i}.py")
    summary = grade_batch("hw2", subs, tmp_path / "out", course=ROOT, jobs=3, fmt="json",
                          progress=False)
    assert summary.statuses == {"graded": 6} and summary.full_marks == 6
    modules = [cmd[cmd.index("-m") + 1] for cmd in started if "-m" in cmd]
    assert modules == ["grader.batch.zygote"], started


def test_the_zygote_never_holds_the_tests(tmp_path: Path) -> None:
    """The hidden tests' source is in every judge's memory and nowhere in the zygote's, from
    which each template is forked: a template cannot inherit what the zygote never had."""
    marker = b"test_softmax_backward_large_n"  # a name every judge's collection holds
    hidden = ROOT / "reference_tests" / "hw2" / "hidden"
    assert any(marker in p.read_bytes() for p in hidden.glob("*.py"))
    zygote = start_zygote(Settings(), ())
    assert zygote is not None
    seen: dict[str, bool] = {}
    real_init = ForkedJudge.__init__

    def init(self: ForkedJudge, *args: Any, **kwargs: Any) -> None:
        real_init(self, *args, **kwargs)
        seen.setdefault("judge_pid", self.pid)  # type: ignore[arg-type]

    ForkedJudge.__init__ = init  # type: ignore[method-assign]
    try:
        jobs = _jobs(tmp_path, {"a": SOLUTION.read_text(), "b": SOLUTION.read_text()})
        # the judge's memory is read while it grades: the pool runs on a thread of ours
        done = threading.Event()
        out: dict[str, Any] = {}

        def grade() -> None:
            out.update(_run(jobs + _jobs(tmp_path, {"hang": HANG}), tmp_path, zygote,
                            workers=1, overrides={"request_timeout_s": 8.0}))
            done.set()

        thread = threading.Thread(target=grade)
        thread.start()
        deadline = time.monotonic() + 120
        while "judge_pid" not in seen or not _holds(int(seen["judge_pid"]), marker):
            assert time.monotonic() < deadline, "the judge never loaded the hidden tests"
            time.sleep(0.2)
        assert not _holds(zygote.pid, marker), "the zygote's memory holds the hidden tests"
        thread.join(timeout=120)
        assert done.is_set()
        assert {s for s, r in out.items() if isinstance(r, dict)} == {"a", "b", "hang"}
    finally:
        ForkedJudge.__init__ = real_init  # type: ignore[method-assign]
        zygote.close()


def _holds(pid: int, needle: bytes) -> bool:
    """Whether ``needle`` is anywhere in the readable private memory of process ``pid``."""
    try:
        maps = Path(f"/proc/{pid}/maps").read_text().splitlines()
        mem = open(f"/proc/{pid}/mem", "rb", buffering=0)
    except OSError:
        return False
    with mem:
        for line in maps:
            m = re.match(r"([0-9a-f]+)-([0-9a-f]+) r... ", line)
            fields = line.split()
            if not m or (len(fields) > 5 and fields[5].startswith(("/", "[vvar", "[vsyscall"))):
                continue  # files mapped from disk are not what a fork could leak
            start, end = int(m.group(1), 16), int(m.group(2), 16)
            try:
                mem.seek(start)
                if needle in mem.read(end - start):
                    return True
            except (OSError, OverflowError, ValueError):
                continue
    return False


def test_a_killed_judge_is_forked_again_and_its_submission_regraded(tmp_path: Path) -> None:
    """SIGKILL to a judge in the middle of a submission: the zygote forks another, which
    grades that submission and the rest; nothing is lost or graded twice."""
    zygote = start_zygote(Settings(), ())
    assert zygote is not None
    kinds: list[type] = []
    real_init = ForkedJudge.__init__

    def init(self: ForkedJudge, *args: Any, **kwargs: Any) -> None:
        real_init(self, *args, **kwargs)
        kinds.append(type(self))
        if len(kinds) == 1:
            victim = self.pid

            def later() -> None:  # a moment after it starts grading its first submission
                time.sleep(4.0)
                os.kill(victim, signal.SIGKILL)

            threading.Thread(target=later, daemon=True).start()

    ForkedJudge.__init__ = init  # type: ignore[method-assign]
    try:
        sources = {"slow": HANG, **{f"ok{i}": SOLUTION.read_text() for i in range(3)}}
        got = _run(_jobs(tmp_path, sources), tmp_path, zygote, workers=1,
                   overrides={"request_timeout_s": 6.0})
    finally:
        ForkedJudge.__init__ = real_init  # type: ignore[method-assign]
        zygote.close()
    assert len(kinds) >= 2, "no judge was forked to replace the killed one"
    assert set(got) == set(sources)
    assert all(isinstance(r, dict) and r["status"] == "graded" for r in got.values()), got
    assert [r["score"] for s, r in got.items() if s != "slow"] == [15.0] * 3  # type: ignore[index]


def test_without_a_zygote_the_judges_are_spawned(tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    """A zygote that died before the pool started: every judge is spawned the old way, and
    the grades are the same."""
    zygote = start_zygote(Settings(), ())
    assert zygote is not None
    zygote.ready()
    os.kill(zygote.pid, signal.SIGKILL)
    zygote.proc.wait()  # type: ignore[union-attr]
    made: list[str] = []
    for cls in (ForkedJudge, SpawnedJudge):
        real = cls.__init__

        def init(self: Any, *a: Any, _real: Any = real, _name: str = cls.__name__,
                 **k: Any) -> None:
            _real(self, *a, **k)
            made.append(_name)

        monkeypatch.setattr(cls, "__init__", init)
    got = _run(_jobs(tmp_path, {"a": SOLUTION.read_text(), "b": SOLUTION.read_text()}),
               tmp_path, zygote)
    zygote.close()
    assert made == ["SpawnedJudge", "SpawnedJudge"]
    assert [r["score"] for r in got.values()] == [15.0, 15.0]  # type: ignore[index]


def test_a_course_error_in_a_forked_judge_stops_the_batch_with_its_message(tmp_path: Path,
                                                                          ) -> None:
    """A suite that cannot be collected: the judge's last words become the ConfigError."""
    course = tmp_path / "course"
    course.mkdir()
    for name in ("course.toml", "assignments", "reference_tests", "solutions"):
        copy = shutil.copytree if (ROOT / name).is_dir() else shutil.copy
        copy(ROOT / name, course / name)
    broken = course / "reference_tests" / "hw2" / "public" / "test_softmax.py"
    broken.write_text(broken.read_text() + "\ndef (:\n")
    jobs = _jobs(tmp_path, {"a": SOLUTION.read_text()})
    zygote = start_zygote(Settings(), ())
    got: dict[str, Any] = {}
    try:
        with pytest.raises(ConfigError, match=r"(?s)the test suite of hw2 does not load: "
                           r"public/test_softmax\.py.*SyntaxError.*judge-0\.log"):
            run_local(jobs, course_root=course, hw_id="hw2", overrides={}, workers=1,
                      on_result=lambda *a: got.update(a=a), submission_timeout_s=60,
                      log_dir=tmp_path / "logs", zygote=zygote)
    finally:
        assert zygote is not None
        zygote.close()
    assert got == {}
