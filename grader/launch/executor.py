"""The judge's side of the executor: start a launcher, spawn executors, send requests.

Two launchers give executors: the ``Template`` (a fresh interpreter that imports torch once
and forks each executor; Linux, the ``namespace`` and ``process`` levels) and the portable
launcher (``grader.launch.spawn``: a freshly spawned interpreter per executor, talking over
its pipes; every platform). An ``Executor`` talks to either through a ``Channel``.

Every request has a deadline. A timeout or a crash kills the executor, turns into a
StudentFailure for that request, and the next request gets a fresh executor. A function that
timed out once fails at once afterwards ("timed out earlier"), so a hanging function costs one
timeout, not one per test.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import sys
import tempfile
import time
from collections.abc import Collection
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, NoReturn, Protocol

from grader.errors import (
    ExecutorCrash,
    ExecutorError,
    MalformedReply,
    RequestTimeout,
)
from grader.wire.messages import JUDGE_RECEIVES
from grader.wire.reader import FrameTooLarge, read_frame

if TYPE_CHECKING:
    import torch

__all__ = ["Channel", "Executor", "ExecutorSpec", "Launcher", "LauncherLost",
           "SocketChannel", "describe_exit", "describe_status", "template_env"]

MAX_CONTROL_MESSAGE = 1 << 16


# What the template (and so every executor, through /proc/self/environ) may see of the judge's
# environment: no secrets, tokens or course paths, only what Python, torch, OpenMP and CUDA read.
# On Windows an interpreter also needs SYSTEMROOT (the DLL loader, random numbers) and TEMP/TMP.
_ENV_KEEP = ("PATH", "LANG", "LC_ALL", "LC_CTYPE", "LD_LIBRARY_PATH", "PYTHONPATH", "PYTHONHOME",
             "CUDA_VISIBLE_DEVICES", "CUDA_HOME", "CUDA_PATH", "NVIDIA_VISIBLE_DEVICES",
             "NVIDIA_DRIVER_CAPABILITIES", "OMP_NUM_THREADS", "MKL_NUM_THREADS",
             "OPENBLAS_NUM_THREADS", "TZ", "PYTORCH_ENABLE_MPS_FALLBACK",
             "SYSTEMROOT", "SYSTEMDRIVE", "WINDIR", "TEMP", "TMP", "PATHEXT", "COMSPEC",
             "NUMBER_OF_PROCESSORS", "PROCESSOR_ARCHITECTURE")


def template_env(environ: dict[str, str] | None = None) -> dict[str, str]:
    """The environment of an executor's interpreter: only what Python, torch, OpenMP, CUDA
    and Windows read; HOME is the temporary folder."""
    source = os.environ if environ is None else environ
    env = {k: v for k, v in source.items() if k.upper() in _ENV_KEEP}
    env.setdefault("PATH", os.defpath)
    env["HOME"] = env.get("TEMP") or env.get("TMP") or tempfile.gettempdir()
    return env


class Channel(Protocol):
    """How the judge talks to one executor: frames out, frames back within a deadline."""

    def send(self, header: dict[str, Any], tensors: dict[str, torch.Tensor]) -> None: ...

    def receive(self, deadline: float, max_bytes: int, accept: Collection[str] = ...,
                ) -> tuple[dict[str, Any], dict[str, torch.Tensor]]:
        """The next frame, a message of a kind in ``accept`` (``grader.wire.messages``). Raises
        RequestTimeout at the deadline, EOFError when the executor is gone, FrameTooLarge
        before reading a body over ``max_bytes``, FrameError for anything malformed."""
        ...

    def close(self) -> None: ...


class Launcher(Protocol):
    """What gives executors: the fork-server template or the portable spawner."""

    def ready(self, timeout: float = 120.0) -> dict[str, Any]: ...

    def spawn(self, config: dict[str, Any]) -> tuple[int, Channel]: ...

    def kill(self, pid: int) -> None: ...

    def ending(self, pid: int, timeout: float) -> str: ...

    def close(self) -> None: ...


class LauncherLost(ExecutorError):
    """The template died or stopped answering after it was ready (killed by a submission
    that could signal it, or by the machine): its executors are gone with it."""


class SocketChannel:
    """Frames on a connected stream socket, read with the socket's own timeouts."""

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock

    def send(self, header: dict[str, Any], tensors: dict[str, torch.Tensor]) -> None:
        from grader.wire import frames

        frames.send_frame(self.sock, header, tensors)

    def receive(self, deadline: float, max_bytes: int,
                accept: Collection[str] = JUDGE_RECEIVES,
                ) -> tuple[dict[str, Any], dict[str, torch.Tensor]]:
        from grader.wire import frames

        body = read_frame(lambda n: self._recv_exact(n, deadline), max_bytes)
        return frames.unpack_frame(body, accept=accept)

    def _recv_exact(self, n: int, deadline: float) -> bytes:
        chunks = []
        while n > 0:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise RequestTimeout("deadline")
            self.sock.settimeout(remaining)
            try:
                chunk = self.sock.recv(min(n, 1 << 20))
            except TimeoutError:
                raise RequestTimeout("deadline") from None
            except OSError:
                raise EOFError from None
            if not chunk:
                raise EOFError
            chunks.append(chunk)
            n -= len(chunk)
        return b"".join(chunks)

    def close(self) -> None:
        self.sock.close()


@dataclass(frozen=True)
class ExecutorSpec:
    """Everything needed to (re)start one submission's executor."""

    submission: dict[str, Any]
    harness: dict[str, Any] | None
    sandbox: dict[str, Any]
    import_timeout_s: float
    max_reply_bytes: int


def describe_status(status: int | None) -> str:
    """Say how a forked executor ended (a raw wait status), in words a student understands."""
    if status is None:
        return "the executor stopped answering"
    code = os.waitstatus_to_exitcode(status)
    if 128 < code < 128 + 65:  # mirrored from a namespace's init
        return _signal_text(code - 128)
    return describe_exit(code)


def describe_exit(code: int | None) -> str:
    """Say how a process ended from its exit code (negative: killed by that signal)."""
    if code is None:
        return "the executor stopped answering"
    if code < 0:
        return _signal_text(-code)
    if sys.platform == "win32":
        from grader.launch.winjob import describe_windows_exit

        text = describe_windows_exit(code)
        if text:
            return text
    return f"the process exited with code {code} (did the code call os._exit or sys.exit?)"


def _signal_text(sig: int) -> str:
    name = signal.Signals(sig).name if sig in signal.Signals._value2member_map_ else f"signal {sig}"
    if sig == getattr(signal, "SIGXCPU", None):
        return "the process was killed: CPU time limit reached"
    if sig == getattr(signal, "SIGKILL", None):
        return "the process was killed (SIGKILL: out of memory or a limit)"
    if sig == signal.SIGSEGV:
        return "the process crashed with a segmentation fault (SIGSEGV)"
    return f"the process was killed by {name}"


class Executor:
    """One submission's executor: started lazily, restarted after a timeout or crash."""

    def __init__(self, template: Launcher, spec: ExecutorSpec) -> None:
        self.template = template
        self.spec = spec
        self.pid: int | None = None
        self.channel: Channel | None = None
        self.load_report: dict[str, Any] | None = None
        self.fatal: Exception | None = None  # a crash or hang at import: every request fails
        self.timed_out: dict[str, float] = {}
        self.log_dir = tempfile.mkdtemp(prefix="grader-exec-")
        os.chmod(self.log_dir, 0o711)
        self.log_path = os.path.join(self.log_dir, "student.log")
        self.restarts = 0
        self.launcher_lost = False  # the template died: this executor's launcher is unusable

    def _config(self) -> dict[str, Any]:
        config = {**self.spec.sandbox, "log_path": self.log_path}
        if config.get("isolation") == "namespace":
            config["workdir"] = "/tmp/work"
            return config
        workdir = os.path.join(self.log_dir, f"work{self.restarts}")
        os.makedirs(workdir, mode=0o700)
        if config.get("uid") is not None and getattr(os, "geteuid", lambda: -1)() == 0:
            os.chown(workdir, int(config["uid"]), int(config["uid"]))
        config["workdir"] = workdir
        return config

    def start(self) -> dict[str, Any]:
        """Start the executor if needed and return the submission's load report."""
        if self.fatal is not None:  # a fresh traceback each time, or it grows with every test
            raise self.fatal.with_traceback(None)
        if self.channel is not None and self.load_report is not None:
            return self.load_report
        try:
            self.pid, self.channel = self.template.spawn(self._config())
        except LauncherLost:
            self._lost()
        try:
            self.channel.send({"submission": self.spec.submission,
                               "harness": self.spec.harness}, {})
            header, _ = self._receive(time.monotonic() + self.spec.import_timeout_s,
                                      ("greeting",))
        except RequestTimeout:
            self.fatal = RequestTimeout(
                f"importing the submission took longer than {self.spec.import_timeout_s:g} s "
                "(is there a long computation at the top level?)")
            self._kill()
            raise self.fatal from None
        except OSError:
            self._crashed_at_import()
        except ExecutorCrash as crash:
            self.fatal = ExecutorCrash(f"the submission could not be imported: {crash.message}")
            raise self.fatal from None
        if not header.get("hello"):
            self._kill()
            self.fatal = MalformedReply("the executor's greeting was not valid")
            raise self.fatal
        self.load_report = header.get("load", {})
        return self.load_report

    def _crashed_at_import(self) -> None:
        try:
            self._crashed()
        except ExecutorCrash as crash:
            self.fatal = ExecutorCrash(f"the submission could not be imported: {crash.message}")
            raise self.fatal from None

    def request(self, header: dict[str, Any], tensors: dict[str, torch.Tensor], *,
                timeout_s: float, label: str) -> tuple[dict[str, Any], dict[str, torch.Tensor]]:
        """Send one request and wait for its reply, at most ``timeout_s`` seconds."""
        self.refuse_timed_out(label)
        self.start()
        assert self.channel is not None
        deadline = time.monotonic() + timeout_s
        try:
            self.channel.send(header, tensors)
        except OSError:
            self._crashed()
        try:
            return self._receive(deadline, ("reply",))
        except RequestTimeout:
            self.timed_out[label] = timeout_s
            self._kill()
            raise RequestTimeout(f"timed out after {timeout_s:g} s in `{label}`") from None

    def refuse_timed_out(self, label: str) -> None:
        """Fail at once for a function that already ran past its deadline (before any
        executor is started for it)."""
        if label in self.timed_out:
            raise RequestTimeout(
                f"`{label}` timed out earlier (after {self.timed_out[label]:g} s); not run again")

    def _receive(self, deadline: float, accept: Collection[str],
                 ) -> tuple[dict[str, Any], dict[str, torch.Tensor]]:
        """The executor's next message, of a kind in ``accept``: a forged greeting where a
        reply belongs is malformed, and the executor is restarted so no test reads the real
        reply that still waits behind it."""
        from grader.wire import values

        assert self.channel is not None
        try:
            return self.channel.receive(deadline, self.spec.max_reply_bytes, accept)
        except FrameTooLarge as big:
            self._kill()
            raise MalformedReply(
                f"the reply is {big.total / 2**20:.1f} MiB, over the cap of "
                f"{self.spec.max_reply_bytes / 2**20:.0f} MiB (an enormous return value?)"
            ) from None
        except EOFError:
            self._crashed()
        except values.FrameError as err:
            self._kill()
            raise MalformedReply(f"the executor's reply was malformed: {err}") from None
        raise AssertionError("unreachable")

    def _crashed(self) -> None:
        pid = self.pid
        try:
            how = self.template.ending(pid, timeout=2.0) if pid is not None else \
                "the executor stopped answering"
        except LauncherLost:
            self._lost()
        self._kill()
        raise ExecutorCrash(how)

    def _lost(self) -> NoReturn:
        """The template died under this submission: every later request of it fails as
        crashed, and the judge starts a fresh template for the next submission."""
        self.launcher_lost = True
        self.pid = None
        if self.channel is not None:
            self.channel.close()
            self.channel = None
        self.fatal = ExecutorCrash("the sandbox's template process died while this submission "
                                   "was being graded (did the code signal another process?)")
        raise self.fatal

    def _kill(self) -> None:
        if self.channel is not None:
            self.channel.close()
            self.channel = None
        if self.pid is not None:
            pid, self.pid = self.pid, None
            try:
                self.template.kill(pid)
            except LauncherLost:
                self._lost()
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
        if self.channel is not None or self.pid is not None:
            try:
                self._kill()
            except ExecutorCrash:  # the template is gone, and its executors with it
                pass
        shutil.rmtree(self.log_dir, ignore_errors=True)
