"""The judges of a local pool, as the driver sees them: jobs out, result lines in.

Two ways to start one, one interface:

* ``ForkedJudge``: forked by the pool's zygote (``grader.batch.zygote``), which imported torch
  once for the whole pool; a judge and its template cost a fork each, however many there are
  and however often one is replaced. Linux, at the namespace and process levels.
* ``SpawnedJudge``: a fresh ``python -m grader.batch.pool --worker`` with its own template;
  where the zygote cannot run (the portable level) or has died.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import IO, Any

from grader.errors import ExecutorError
from grader.launch.template import Template

__all__ = ["ForkedJudge", "Judge", "SpawnedJudge", "Zygote", "start_zygote"]


class Zygote(Template):
    """The pool's zygote: a template that forks judges (each with its own template)."""

    MODULE = "grader.batch.zygote"

    def judge(self, args: dict[str, Any], fds: list[int]) -> int:
        """Fork a judge serving jobs from ``fds`` (job pipe, result pipe, log); its pid."""
        import socket

        self.ready()
        message = json.dumps({"cmd": "judge", "args": args, "env": dict(os.environ),
                              "cwd": os.getcwd(), "path": sys.path}).encode()
        self.ctrl.settimeout(30.0)
        try:
            socket.send_fds(self.ctrl, [message], fds)
            data = self.ctrl.recv(1 << 16)
        except OSError as err:
            raise ExecutorError(f"the pool's zygote stopped answering: {err}") from None
        reply = json.loads(data) if data else {}
        if not reply.get("ok"):
            raise ExecutorError(f"the pool's zygote could not fork a judge: {reply or 'it exited'}")
        return int(reply["pid"])


def start_zygote(settings: Any, preload: tuple[str, ...]) -> Zygote | None:
    """The zygote for a pool graded with these settings, importing torch from now on; None
    where judges must be spawned (the portable level, or no fork server here)."""
    from grader.launch.isolation import fork_server_available

    if settings.isolation == "portable" or not fork_server_available():
        return None
    return Zygote(preload=preload, process_level=settings.isolation == "process")


class Judge:
    """One judge process: the job it holds, its pipes and its log."""

    out: IO[str]

    def __init__(self, slot: int, log_dir: Path) -> None:
        self.slot = slot
        log_dir.mkdir(parents=True, exist_ok=True)
        self.log_path = log_dir / f"judge-{slot}.log"
        self.ready = False
        self.job: Any = None
        self.started = 0.0
        self.buffer = ""
        self.inp: IO[str] | None = None

    def send(self, job: Any) -> None:
        self.job = job
        self.started = time.monotonic()
        assert self.inp is not None
        self.inp.write(json.dumps({"student": job.student, "prepared": job.prepared}) + "\n")
        self.inp.flush()

    def stop(self) -> None:
        """No more jobs: the judge ends once it has written its last result."""
        try:
            if self.inp is not None:
                self.inp.write(json.dumps({"stop": True}) + "\n")
                self.inp.close()
        except OSError:
            pass

    def kill(self) -> None:
        raise NotImplementedError

    def exit_code(self) -> int | None:
        """How the judge ended (once its result pipe closed): its exit code, negative for a
        signal, None if that cannot be known."""
        raise NotImplementedError

    def last_line(self) -> str:
        lines = self.log_path.read_text(errors="replace").splitlines()
        return lines[-1] if lines else ""


class SpawnedJudge(Judge):
    """A judge started as a fresh interpreter."""

    def __init__(self, slot: int, log_dir: Path, args: dict[str, Any]) -> None:
        super().__init__(slot, log_dir)
        cmd = [sys.executable, "-m", "grader.batch.pool", "--worker", "--course",
               args["course"], "--homework", args["homework"],
               "--overrides", json.dumps(args["overrides"]), "--slot", str(slot)]
        with open(self.log_path, "ab") as log:
            self.proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                         stderr=log, text=True, bufsize=1)
        assert self.proc.stdout is not None
        self.out, self.inp = self.proc.stdout, self.proc.stdin

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()

    def exit_code(self) -> int | None:
        return self.proc.wait()


class ForkedJudge(Judge):
    """A judge forked by the zygote, talking over two pipes made here."""

    def __init__(self, slot: int, log_dir: Path, args: dict[str, Any], zygote: Zygote) -> None:
        super().__init__(slot, log_dir)
        self.zygote = zygote
        jobs_r, jobs_w = os.pipe()
        results_r, results_w = os.pipe()
        log = os.open(self.log_path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
        try:
            self.pid = zygote.judge({**args, "slot": slot}, [jobs_r, results_w, log])
        except BaseException:
            for fd in (jobs_w, results_r):
                os.close(fd)
            raise
        finally:
            for fd in (jobs_r, results_w, log):
                os.close(fd)
        self.inp = os.fdopen(jobs_w, "w", encoding="utf-8", buffering=1)
        self.out = os.fdopen(results_r, "r", encoding="utf-8")
        self.ended: int | None = None

    def kill(self) -> None:
        try:
            self.zygote.kill(self.pid)
        except ExecutorError:
            pass  # the zygote is gone, and its judges with it
        self._close()

    def exit_code(self) -> int | None:
        if self.ended is None:
            try:
                status = self.zygote.status(self.pid, timeout=5.0)
            except ExecutorError:
                return None
            self.ended = None if status is None else os.waitstatus_to_exitcode(status)
        self._close()
        return self.ended

    def _close(self) -> None:
        for f in (self.inp, self.out):
            try:
                if f is not None:
                    f.close()
            except OSError:
                pass
