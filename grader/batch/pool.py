"""The pool of judge processes behind ``grade batch``.

Each judge is a fresh ``python -m grader.batch.pool --worker`` process: it collects the homework's
pytest suite once and keeps one template process (torch imported), from which a sandboxed
executor is forked per submission. The driver hands each judge one job at a time over a pipe
of JSON lines. A judge that dies is replaced and its submission retried; a submission that
kills its judge ``MAX_ATTEMPTS`` times is recorded with status ``error``.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import selectors
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, TextIO

from grader.errors import ConfigError, GraderError
from grader.status import SubmissionStatus

__all__ = ["MAX_ATTEMPTS", "Job", "error_result", "prepared_from_dict", "prepared_to_dict",
           "run_local", "worker_main"]

MAX_ATTEMPTS = 2


# --------------------------------------------------------------------------------------------
# jobs
# --------------------------------------------------------------------------------------------
@dataclass
class Job:
    """One submission to grade: the prepared submission as plain data."""

    student: str
    prepared: dict[str, Any]
    attempts: int = 0

    @property
    def sha256(self) -> str:
        return str(self.prepared["sha256"])


def prepared_to_dict(prepared: Any) -> dict[str, Any]:
    return dataclasses.asdict(prepared)


def prepared_from_dict(data: dict[str, Any]) -> Any:
    from grader.course.submission import Prepared

    return Prepared(**{**data, "chunks": tuple(data["chunks"]),
                       "syntax_errors": tuple(data["syntax_errors"]),
                       "left_out": tuple(data["left_out"])})


def error_result(homework: Any, settings: Any, job: Job, message: str) -> Any:
    """The result of a submission the judges could not finish: its judge (or Dask task) died
    or ran out of time while grading it, every time it was tried (status ``crashed``, 0
    points); the batch goes on with the others."""
    from grader.judge.results import unreadable_result

    p = job.prepared
    base = unreadable_result(homework, student=job.student, path=p.get("path", ""),
                             message=message, settings=settings, sha256=job.sha256)
    return replace(base, status=SubmissionStatus.CRASHED)


# --------------------------------------------------------------------------------------------
# the judge worker process: python -m grader.batch.pool --worker
# --------------------------------------------------------------------------------------------
def worker_main(argv: list[str]) -> int:
    """A judge: reads jobs (JSON lines) on stdin, writes results (JSON lines) on the original
    stdout. Everything else that prints goes to stderr."""

    parser = argparse.ArgumentParser(prog="python -m grader.batch.pool --worker")
    parser.add_argument("--worker", action="store_true")
    parser.add_argument("--course", required=True)
    parser.add_argument("--homework", required=True)
    parser.add_argument("--overrides", default="{}")
    parser.add_argument("--slot", type=int, default=0)
    args = parser.parse_args(argv)
    # Private copies of the job and result pipes: pytest's capture and the student's
    # output must never touch them.
    out = os.fdopen(os.dup(1), "w", encoding="utf-8", buffering=1)
    inp = os.fdopen(os.dup(0), "r", encoding="utf-8")
    os.dup2(2, 1)
    null = os.open(os.devnull, os.O_RDONLY)
    os.dup2(null, 0)
    os.close(null)
    sys.stdout = sys.stderr
    serve(Path(args.course), args.homework, json.loads(args.overrides), inp, out,
          slot=args.slot)
    return 0


def serve(course_root: Path, hw_id: str, overrides: dict[str, Any], inp: TextIO, out: TextIO,
          *, slot: int = 0) -> None:
    """Grade the jobs read from ``inp`` with one suite collection; one result line each."""
    from grader.api import homework_settings, open_template
    from grader.course.manifest import load_course
    from grader.judge.runner import run_suite

    course = load_course(course_root)
    homework = course.homework(hw_id)
    settings = homework_settings(course, homework, overrides)
    if settings.device == "cuda":
        import torch

        if torch.cuda.is_available() and torch.cuda.device_count() > 1:
            settings = replace(settings, device=f"cuda:{slot % torch.cuda.device_count()}")
    current: dict[str, str] = {}

    def feed() -> Iterator[Any]:
        for line in inp:
            if not line.strip():
                continue
            job = json.loads(line)
            if job.get("stop"):
                return
            current["student"] = job["student"]
            yield prepared_from_dict(job["prepared"])

    def on_result(result: Any, log: str) -> None:
        out.write(json.dumps({"student": current.get("student", result.student),
                              "result": result.to_dict(), "log": log[-64 * 1024:]},
                             allow_nan=False) + "\n")
        out.flush()

    with open_template(homework, settings) as template:
        out.write(json.dumps({"ready": True}) + "\n")
        out.flush()
        run_suite(homework, settings, template, feed(), on_result, course_root=course.root,
                  slot=slot)


class Judge:
    """One judge worker process, as seen by the driver."""

    def __init__(self, course_root: Path, hw_id: str, overrides: dict[str, Any], slot: int,
                 log_dir: Path) -> None:
        self.slot = slot
        cmd = [sys.executable, "-m", "grader.batch.pool", "--worker", "--course", str(course_root),
               "--homework", hw_id, "--overrides", json.dumps(overrides), "--slot", str(slot)]
        log_dir.mkdir(parents=True, exist_ok=True)
        self.log_path = log_dir / f"judge-{slot}.log"
        with open(self.log_path, "ab") as log:
            self.proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                         stderr=log, text=True, bufsize=1)
        self.ready = False
        self.job: Job | None = None
        self.started = 0.0
        self.buffer = ""

    def send(self, job: Job) -> None:
        self.job = job
        self.started = time.monotonic()
        assert self.proc.stdin is not None
        self.proc.stdin.write(json.dumps({"student": job.student, "prepared": job.prepared})
                              + "\n")
        self.proc.stdin.flush()

    def stop(self) -> None:
        try:
            if self.proc.stdin:
                self.proc.stdin.write(json.dumps({"stop": True}) + "\n")
                self.proc.stdin.close()
        except OSError:
            pass

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()


def run_local(jobs: list[Job], *, course_root: Path, hw_id: str, overrides: dict[str, Any],
              workers: int, on_result: Callable[[Job, dict[str, Any] | None, str, str], None],
              submission_timeout_s: float, log_dir: Path) -> None:
    """Grade ``jobs`` with a pool of ``workers`` judge processes.

    ``on_result(job, result_dict, log, error)``: result_dict is None (and error says why)
    when the job failed ``MAX_ATTEMPTS`` times.
    """
    pending = list(reversed(jobs))  # pop() from the end: keeps the given order
    workers = max(1, min(workers, len(jobs)))
    sel = selectors.DefaultSelector()
    judges: list[Judge] = []

    def start(slot: int) -> Judge:
        judge = Judge(course_root, hw_id, overrides, slot, log_dir)
        assert judge.proc.stdout is not None
        os.set_blocking(judge.proc.stdout.fileno(), False)
        sel.register(judge.proc.stdout, selectors.EVENT_READ, judge)
        judges.append(judge)
        feed(judge)
        return judge

    def feed(judge: Judge) -> None:
        if pending:
            try:
                judge.send(pending.pop())
            except OSError:
                pass  # the process is gone; noticed as EOF
        else:
            judge.job = None
            judge.stop()

    def retire(judge: Judge, why: str) -> None:
        assert judge.proc.stdout is not None
        sel.unregister(judge.proc.stdout)
        judges.remove(judge)
        judge.kill()
        job = judge.job
        if job is not None:
            job.attempts += 1
            if job.attempts >= MAX_ATTEMPTS:
                on_result(job, None, "", f"the judge process {why} while grading this "
                          f"submission, {job.attempts} times; not graded")
            else:
                pending.append(job)
        if pending:
            start(judge.slot)

    for slot in range(workers):
        start(slot)
    try:
        while judges:
            events = sel.select(timeout=1.0)
            for key, _ in events:
                judge = key.data
                chunk = judge.proc.stdout.read()
                if not chunk:
                    if judge in judges:
                        code = judge.proc.wait()
                        if code == 2:  # a GraderError in the judge: the suite or settings
                            lines = judge.log_path.read_text(errors="replace").splitlines()
                            raise ConfigError(lines[-1] if lines else
                                              f"the judge process exited with code {code}")
                        if judge.job is None and not pending:
                            sel.unregister(judge.proc.stdout)
                            judges.remove(judge)
                            judge.kill()
                        else:
                            retire(judge, f"died (exit {code})")
                    continue
                judge.buffer += chunk
                while "\n" in judge.buffer:
                    line, judge.buffer = judge.buffer.split("\n", 1)
                    try:
                        msg = json.loads(line)
                    except ValueError:
                        continue
                    if msg.get("ready"):
                        judge.ready = True
                    if "result" in msg and judge.job is not None:
                        job = judge.job
                        judge.job = None
                        on_result(job, msg["result"], msg.get("log", ""), "")
                        feed(judge)
            now = time.monotonic()
            for judge in list(judges):
                if judge.job is not None and now - judge.started > submission_timeout_s:
                    retire(judge, f"ran past {submission_timeout_s:g} s")
    finally:
        for judge in judges:
            judge.kill()
        sel.close()



if __name__ == "__main__":
    if "--worker" in sys.argv[1:]:
        try:
            code = worker_main(sys.argv[1:])
            # The template and its executors are closed: skip the interpreter's teardown of
            # torch (half a second the driver would wait for at the end of every batch).
            sys.stdout.flush()
            sys.stderr.flush()
            os._exit(code)
        except GraderError as err:
            print(f"grade batch worker: {err}", file=sys.stderr)
            sys.exit(2)
        except KeyboardInterrupt:
            sys.exit(130)
    print("usage: python -m grader.batch.pool --worker --course DIR --homework HW", file=sys.stderr)
    sys.exit(2)
