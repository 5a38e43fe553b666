"""The pool of judge processes behind ``grade batch``.

Each judge collects the homework's pytest suite once and keeps one template process (torch
imported), from which a sandboxed executor is forked per submission. Judges and templates are
forked by the pool's zygote, which imports torch once for all of them (``grader.batch.zygote``;
``grader.batch.judges``), or, at the portable level, spawned as ``python -m grader.batch.pool
--worker``. The driver hands each judge one job at a time over a pipe of JSON lines. A judge
that dies is replaced and its submission retried; a submission that kills its judge
``MAX_ATTEMPTS`` times is recorded with status ``crashed``.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import selectors
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import closing
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from grader.batch.judges import ForkedJudge, Judge, SpawnedJudge, Zygote
from grader.errors import ConfigError, ExecutorError, GraderError
from grader.status import SubmissionStatus

if TYPE_CHECKING:
    from grader.launch.executor import Launcher

__all__ = ["MAX_ATTEMPTS", "Job", "error_result", "judge_process", "prepared_from_dict",
           "prepared_to_dict", "run_local", "serve", "worker_main"]

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
    """A spawned judge: reads jobs (JSON lines) on stdin, writes results (JSON lines) on the
    original stdout. Everything else that prints goes to stderr."""

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
    return judge_process({"course": args.course, "homework": args.homework,
                          "overrides": json.loads(args.overrides), "slot": args.slot}, inp, out)


def judge_process(args: dict[str, Any], inp: TextIO, out: TextIO,
                  template: Launcher | None = None) -> int:
    """A judge's whole life, spawned or forked: serve the jobs on ``inp``; the exit code (2
    for a GraderError, the course or its settings, whose message ends the judge's log)."""
    try:
        serve(Path(args["course"]), args["homework"], args["overrides"], inp, out,
              slot=int(args.get("slot", 0)), template=template)
    except GraderError as err:
        print(f"grade batch worker: {err}", file=sys.stderr, flush=True)
        try:  # the driver stops the batch with this message
            out.write(json.dumps({"fatal": str(err)}) + "\n")
            out.flush()
        except OSError:
            pass
        return 2
    except KeyboardInterrupt:
        return 130
    return 0


def serve(course_root: Path, hw_id: str, overrides: dict[str, Any], inp: TextIO, out: TextIO,
          *, slot: int = 0, template: Launcher | None = None) -> None:
    """Grade the jobs read from ``inp`` with one suite collection; one result line each.
    ``template``: the launcher to use (and close), else one is started here."""
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

    launcher = closing(template) if template is not None else open_template(homework, settings)
    with launcher as template:
        out.write(json.dumps({"ready": True}) + "\n")
        out.flush()
        run_suite(homework, settings, template, feed(), on_result, course_root=course.root,
                  slot=slot)


def run_local(jobs: list[Job], *, course_root: Path, hw_id: str, overrides: dict[str, Any],
              workers: int, on_result: Callable[[Job, dict[str, Any] | None, str, str], None],
              submission_timeout_s: float, log_dir: Path, zygote: Zygote | None = None) -> None:
    """Grade ``jobs`` with a pool of ``workers`` judge processes, forked by ``zygote`` (or
    spawned without one, or once it has died).

    ``on_result(job, result_dict, log, error)``: result_dict is None (and error says why)
    when the job failed ``MAX_ATTEMPTS`` times.
    """
    pool = _Pool(jobs, {"course": str(course_root), "homework": hw_id, "overrides": overrides},
                 on_result, log_dir, zygote)
    try:
        for slot in range(max(1, min(workers, len(jobs)))):
            pool.start(slot)
        pool.run(submission_timeout_s)
    finally:
        pool.close()


class _Pool:
    """The judges of one local run: each is fed a job, read for its result, replaced when it
    dies or runs past the submission timeout."""

    def __init__(self, jobs: list[Job], args: dict[str, Any],
                 on_result: Callable[[Job, dict[str, Any] | None, str, str], None],
                 log_dir: Path, zygote: Zygote | None) -> None:
        self.pending = list(reversed(jobs))  # pop() from the end: keeps the given order
        self.args, self.on_result, self.log_dir = args, on_result, log_dir
        self.zygote = zygote  # None: spawn (no fork server, or it has died)
        self.sel = selectors.DefaultSelector()
        self.judges: list[Judge] = []

    def start(self, slot: int) -> None:
        judge: Judge | None = None
        if self.zygote is not None:
            try:
                judge = ForkedJudge(slot, self.log_dir, self.args, self.zygote)
            except ExecutorError:
                self.zygote = None  # spawn from now on
        if judge is None:
            judge = SpawnedJudge(slot, self.log_dir, self.args)
        os.set_blocking(judge.out.fileno(), False)
        self.sel.register(judge.out, selectors.EVENT_READ, judge)
        self.judges.append(judge)
        self.feed(judge)

    def feed(self, judge: Judge) -> None:
        if self.pending:
            try:
                judge.send(self.pending.pop())
            except OSError:
                pass  # the process is gone; noticed as EOF
        else:
            judge.job = None
            judge.stop()

    def drop(self, judge: Judge) -> None:
        self.sel.unregister(judge.out)
        self.judges.remove(judge)
        judge.kill()

    def retire(self, judge: Judge, why: str) -> None:
        self.drop(judge)
        job = judge.job
        if job is not None:
            job.attempts += 1
            if job.attempts >= MAX_ATTEMPTS:
                self.on_result(job, None, "", f"the judge process {why} while grading this "
                               f"submission, {job.attempts} times; not graded")
            else:
                self.pending.append(job)
        if self.pending:
            self.start(judge.slot)

    def ended(self, judge: Judge) -> None:
        code = judge.exit_code()
        if code == 2:  # a GraderError in the judge that it could not tell over its pipe
            _fatal(judge, judge.last_line().removeprefix("grade batch worker: "))
        if judge.job is None and not self.pending:
            self.drop(judge)
        else:
            self.retire(judge, "died" + (f" (exit {code})" if code is not None else ""))

    def read(self, judge: Judge) -> None:
        chunk = judge.out.read()
        if chunk is None:
            return
        if not chunk:
            if judge in self.judges:
                self.ended(judge)
            return
        judge.buffer += chunk
        while "\n" in judge.buffer:
            line, judge.buffer = judge.buffer.split("\n", 1)
            try:
                msg = json.loads(line)
            except ValueError:
                continue
            if msg.get("ready"):
                judge.ready = True
            if "fatal" in msg:  # a GraderError in the judge: the suite or its settings
                _fatal(judge, str(msg["fatal"]))
            if "result" in msg and judge.job is not None:
                job = judge.job
                judge.job = None
                self.feed(judge)  # the next job first: the judge works while it is written
                self.on_result(job, msg["result"], msg.get("log", ""), "")

    def run(self, submission_timeout_s: float) -> None:
        while self.judges:
            for key, _ in self.sel.select(timeout=1.0):
                self.read(key.data)
            now = time.monotonic()
            for judge in list(self.judges):
                if judge.job is not None and now - judge.started > submission_timeout_s:
                    self.retire(judge, f"ran past {submission_timeout_s:g} s")

    def close(self) -> None:
        for judge in self.judges:
            judge.kill()
        self.sel.close()


def _fatal(judge: Judge, message: str) -> None:
    raise ConfigError(f"{message or 'a judge process exited with code 2'} (the judge's "
                      f"log: {judge.log_path})")


if __name__ == "__main__":
    if "--worker" in sys.argv[1:]:
        code = worker_main(sys.argv[1:])
        # The template and its executors are closed: skip the interpreter's teardown of
        # torch (half a second the driver would wait for at the end of every batch).
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)
    print("usage: python -m grader.batch.pool --worker --course DIR --homework HW", file=sys.stderr)
    sys.exit(2)
