"""The judge's side of the executor: start the template, spawn executors, send requests.

Every request has a deadline. A timeout or a crash kills the executor, turns into a
StudentFailure for that request, and the next request gets a fresh executor. A function that
timed out once fails at once afterwards ("timed out earlier"), so a hanging function costs one
timeout, not one per test.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from grader.errors import (
    ExecutorCrash,
    ExecutorError,
    MalformedReply,
    RequestTimeout,
)

if TYPE_CHECKING:
    import torch

__all__ = ["Executor", "ExecutorSpec", "Template"]

MAX_CONTROL_MESSAGE = 1 << 16


# What the template (and so every executor, through /proc/self/environ) may see of the judge's
# environment: no secrets, tokens or course paths, only what Python, torch, OpenMP and CUDA read.
_ENV_KEEP = ("PATH", "LANG", "LC_ALL", "LC_CTYPE", "LD_LIBRARY_PATH", "PYTHONPATH", "PYTHONHOME",
             "CUDA_VISIBLE_DEVICES", "CUDA_HOME", "CUDA_PATH", "NVIDIA_VISIBLE_DEVICES",
             "NVIDIA_DRIVER_CAPABILITIES", "OMP_NUM_THREADS", "MKL_NUM_THREADS",
             "OPENBLAS_NUM_THREADS", "TZ")


def _template_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k in _ENV_KEEP}
    env.setdefault("PATH", "/usr/bin:/bin")
    env["HOME"] = "/tmp"
    return env


class Template:
    """A running template process (torch imported) that forks executors on request."""

    def __init__(self, *, env: dict[str, str] | None = None,
                 preload: tuple[str, ...] = (), process_level: bool = False) -> None:
        """Launch the template at once; torch imports there while the judge gets ready.

        ``preload`` names extra modules a homework's code needs (``torch._dynamo``, which the
        first optimizer imports and which costs a second and a half), imported before any fork.
        ``process_level`` says the run asked for process isolation, so the template also
        imports what the sandbox uid could not import later from an unreadable Python.
        """
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        self.ctrl = ours
        self.proc = subprocess.Popen(
            [sys.executable, "-P", "-m", "grader.executor.template", str(theirs.fileno()),
             *preload, *(["--process-level"] if process_level else [])],
            pass_fds=[theirs.fileno()], env=_template_env() if env is None else env,
            stdin=subprocess.DEVNULL, cwd="/",
            start_new_session=True,
        )
        theirs.close()
        self.info: dict[str, Any] | None = None

    def ready(self, timeout: float = 120.0) -> dict[str, Any]:
        """Wait for the template's greeting (torch imported): versions and isolation level."""
        if self.info is None:
            self.ctrl.settimeout(timeout)
            try:
                data = self.ctrl.recv(MAX_CONTROL_MESSAGE)
            except (TimeoutError, OSError) as err:
                raise ExecutorError(f"the executor template did not start: {err}") from None
            if not data:
                raise ExecutorError(f"the executor template exited (code {self.proc.poll()}) "
                                    "before it was ready; run `python -m grader.executor.template` "
                                    "to see why")
            self.info = json.loads(data)
        return self.info

    def _command(self, cmd: dict[str, Any], *, fds: int = 0, timeout: float = 30.0) -> tuple[dict[str, Any], list[int]]:
        self.ready()
        self.ctrl.settimeout(timeout)
        try:
            self.ctrl.send(json.dumps(cmd).encode())
            if fds:
                data, got, _, _ = socket.recv_fds(self.ctrl, MAX_CONTROL_MESSAGE, fds)
            else:
                data, got = self.ctrl.recv(MAX_CONTROL_MESSAGE), []
        except (TimeoutError, OSError) as err:
            raise ExecutorError(f"the executor template stopped answering: {err}") from None
        if not data:
            raise ExecutorError("the executor template exited")
        return json.loads(data), list(got)

    def spawn(self, config: dict[str, Any]) -> tuple[int, socket.socket]:
        """Fork an executor with this sandbox config; returns its pid and our socket to it."""
        reply, fds = self._command({"cmd": "spawn", "config": config}, fds=1)
        if not reply.get("ok") or not fds:
            raise ExecutorError(f"the template could not fork an executor: {reply}")
        return int(reply["pid"]), socket.socket(fileno=fds[0])

    def kill(self, pid: int) -> None:
        """Kill an executor and everything it started."""
        self._command({"cmd": "kill", "pid": pid})

    def status(self, pid: int, timeout: float = 1.0) -> int | None:
        """The raw wait status of an executor that ended, or None if it did not end in time."""
        reply, _ = self._command({"cmd": "status", "pid": pid, "timeout": timeout},
                                 timeout=timeout + 30)
        status = reply.get("status")
        return int(status) if status is not None else None

    def close(self) -> None:
        """Stop the template and every executor it forked."""
        try:
            if self.info is not None and self.proc.poll() is None:
                self._command({"cmd": "exit"}, timeout=10)
        except ExecutorError:
            pass
        self.ctrl.close()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


@dataclass(frozen=True)
class ExecutorSpec:
    """Everything needed to (re)start one submission's executor."""

    submission: dict[str, Any]
    harness: dict[str, Any] | None
    sandbox: dict[str, Any]
    import_timeout_s: float
    max_reply_bytes: int


def describe_status(status: int | None) -> str:
    """Say how a process ended, in words a student understands."""
    if status is None:
        return "the executor stopped answering"
    if os.WIFSIGNALED(status):
        sig = os.WTERMSIG(status)
        return _signal_text(sig)
    code = os.WEXITSTATUS(status) if os.WIFEXITED(status) else -1
    if code > 128 and code - 128 < 65:  # mirrored from a namespace's init
        return _signal_text(code - 128)
    return f"the process exited with code {code} (did the code call os._exit or sys.exit?)"


def _signal_text(sig: int) -> str:
    name = signal.Signals(sig).name if sig in signal.Signals._value2member_map_ else f"signal {sig}"
    if sig == signal.SIGXCPU:
        return "the process was killed: CPU time limit reached"
    if sig == signal.SIGKILL:
        return "the process was killed (SIGKILL: out of memory or a limit)"
    if sig == signal.SIGSEGV:
        return "the process crashed with a segmentation fault (SIGSEGV)"
    return f"the process was killed by {name}"


class Executor:
    """One submission's executor: started lazily, restarted after a timeout or crash."""

    def __init__(self, template: Template, spec: ExecutorSpec) -> None:
        self.template = template
        self.spec = spec
        self.pid: int | None = None
        self.sock: socket.socket | None = None
        self.load_report: dict[str, Any] | None = None
        self.fatal: Exception | None = None  # a crash or hang at import: every request fails
        self.timed_out: dict[str, float] = {}
        self.log_dir = tempfile.mkdtemp(prefix="grader-exec-")
        os.chmod(self.log_dir, 0o711)
        self.log_path = os.path.join(self.log_dir, "student.log")
        self.restarts = 0

    def start(self) -> dict[str, Any]:
        """Start the executor if needed and return the submission's load report."""
        if self.fatal is not None:  # a fresh traceback each time, or it grows with every test
            raise self.fatal.with_traceback(None)
        if self.sock is not None and self.load_report is not None:
            return self.load_report
        config = {**self.spec.sandbox, "log_path": self.log_path}
        if config.get("isolation") != "namespace":
            workdir = os.path.join(self.log_dir, f"work{self.restarts}")
            os.makedirs(workdir, mode=0o700)
            if config.get("uid") is not None and os.geteuid() == 0:
                os.chown(workdir, int(config["uid"]), int(config["uid"]))
            config["workdir"] = workdir
        else:
            config["workdir"] = "/tmp/work"
        from grader import protocol

        self.pid, self.sock = self.template.spawn(config)
        try:
            protocol.send_frame(self.sock, {"submission": self.spec.submission,
                                            "harness": self.spec.harness})
            header, _ = self._receive(time.monotonic() + self.spec.import_timeout_s)
        except RequestTimeout:
            self.fatal = RequestTimeout(
                f"importing the submission took longer than {self.spec.import_timeout_s:g} s "
                "(is there a long computation at the top level?)")
            self._kill()
            raise self.fatal from None
        except ExecutorCrash as crash:
            self.fatal = ExecutorCrash(f"the submission could not be imported: {crash.message}")
            raise self.fatal from None
        if not header.get("hello"):
            self._kill()
            self.fatal = MalformedReply("the executor's greeting was not valid")
            raise self.fatal
        self.load_report = header.get("load", {})
        return self.load_report

    def request(self, header: dict[str, Any], tensors: dict[str, torch.Tensor], *,
                timeout_s: float, label: str) -> tuple[dict[str, Any], dict[str, torch.Tensor]]:
        """Send one request and wait for its reply, at most ``timeout_s`` seconds."""
        if label in self.timed_out:
            raise RequestTimeout(
                f"`{label}` timed out earlier (after {self.timed_out[label]:g} s); not run again")
        from grader import protocol

        self.start()
        assert self.sock is not None
        deadline = time.monotonic() + timeout_s
        try:
            protocol.send_frame(self.sock, header, tensors)
        except OSError:
            self._crashed()
        try:
            return self._receive(deadline)
        except RequestTimeout:
            self.timed_out[label] = timeout_s
            self._kill()
            raise RequestTimeout(f"timed out after {timeout_s:g} s in `{label}`") from None

    def _receive(self, deadline: float) -> tuple[dict[str, Any], dict[str, torch.Tensor]]:
        from grader import protocol

        assert self.sock is not None
        sock = self.sock
        try:
            head = self._recv_exact(sock, 12, deadline)
            total = int.from_bytes(head[:8], "big")
            if total > self.spec.max_reply_bytes:
                self._kill()
                raise MalformedReply(
                    f"the reply is {total / 2**20:.1f} MiB, over the cap of "
                    f"{self.spec.max_reply_bytes / 2**20:.0f} MiB (an enormous return value?)")
            body = head[8:] + self._recv_exact(sock, total - 4, deadline)
            return protocol.unpack_frame(body)
        except EOFError:
            self._crashed()
        except protocol.FrameError as err:
            self._kill()
            raise MalformedReply(f"the executor's reply was malformed: {err}") from None
        raise AssertionError("unreachable")

    def _recv_exact(self, sock: socket.socket, n: int, deadline: float) -> bytes:
        chunks = []
        while n > 0:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise RequestTimeout("deadline")
            sock.settimeout(remaining)
            try:
                chunk = sock.recv(min(n, 1 << 20))
            except TimeoutError:
                raise RequestTimeout("deadline") from None
            except OSError:
                raise EOFError from None
            if not chunk:
                raise EOFError
            chunks.append(chunk)
            n -= len(chunk)
        return b"".join(chunks)

    def _crashed(self) -> None:
        pid = self.pid
        status = self.template.status(pid, timeout=2.0) if pid is not None else None
        self._kill()
        raise ExecutorCrash(describe_status(status))

    def _kill(self) -> None:
        if self.sock is not None:
            self.sock.close()
            self.sock = None
        if self.pid is not None:
            self.template.kill(self.pid)
            self.pid = None
        self.load_report = None if self.fatal is None else self.load_report
        self.restarts += 1

    def log_tail(self, limit: int = 64 * 1024) -> str:
        """The last ``limit`` bytes the student's code printed (instructors only)."""
        try:
            with open(self.log_path, "rb") as f:
                f.seek(0, os.SEEK_END)
                size = f.tell()
                f.seek(max(0, size - limit))
                return f.read().decode("utf-8", "replace")
        except OSError:
            return ""

    def close(self) -> None:
        """End the executor and remove its scratch files."""
        if self.sock is not None or self.pid is not None:
            self._kill()
        shutil.rmtree(self.log_dir, ignore_errors=True)
