"""The fork-server template, as the judge sees it: a fresh interpreter that imports torch once
(``python -m grader.executor.template``) and forks an executor per request, over a SEQPACKET
control socket. Linux only: the ``namespace`` and ``process`` levels.
"""

from __future__ import annotations

import json
import socket
import subprocess
import sys
from typing import Any

from grader.errors import ExecutorError
from grader.launch.executor import LauncherLost, SocketChannel, describe_status, template_env

__all__ = ["MAX_CONTROL_MESSAGE", "Template"]

MAX_CONTROL_MESSAGE = 1 << 16


class Template:
    """A running template process (torch imported) that forks executors on request."""

    MODULE = "grader.executor.template"

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
        self.proc: subprocess.Popen[bytes] | None = subprocess.Popen(
            [sys.executable, "-P", "-m", self.MODULE, str(theirs.fileno()),
             *preload, *(["--process-level"] if process_level else [])],
            pass_fds=[theirs.fileno()], env=template_env() if env is None else env,
            stdin=subprocess.DEVNULL, cwd="/",
            start_new_session=True,
        )
        theirs.close()
        self.pid = self.proc.pid
        self.info: dict[str, Any] | None = None

    @classmethod
    def adopt(cls, ctrl: socket.socket, pid: int) -> Template:
        """A template that another process started and this one only talks to: the batch's
        zygote forks one beside each judge (``grader.batch.zygote``) and reaps it."""
        template = cls.__new__(cls)
        template.ctrl, template.proc, template.pid, template.info = ctrl, None, pid, None
        return template

    def _running(self) -> bool:
        return self.proc is None or self.proc.poll() is None

    def ready(self, timeout: float = 120.0) -> dict[str, Any]:
        """Wait for the template's greeting (torch imported): versions and isolation level."""
        if self.info is None:
            self.ctrl.settimeout(timeout)
            try:
                data = self.ctrl.recv(MAX_CONTROL_MESSAGE)
            except (TimeoutError, OSError) as err:
                raise ExecutorError(f"the executor template did not start: {err}") from None
            if not data:
                code = self.proc.poll() if self.proc is not None else "unknown"
                raise ExecutorError(f"the executor template exited (code {code}) before it "
                                    f"was ready; run `python -m {self.MODULE}` to see why")
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
            raise LauncherLost(f"the executor template stopped answering: {err}") from None
        if not data:
            raise LauncherLost("the executor template exited")
        return json.loads(data), list(got)

    def spawn(self, config: dict[str, Any]) -> tuple[int, SocketChannel]:
        """Fork an executor with this sandbox config; returns its pid and our channel to it."""
        reply, fds = self._command({"cmd": "spawn", "config": config}, fds=1)
        if not reply.get("ok") or not fds:
            raise ExecutorError(f"the template could not fork an executor: {reply}")
        return int(reply["pid"]), SocketChannel(socket.socket(fileno=fds[0]))

    def kill(self, pid: int) -> None:
        """Kill an executor and everything it started."""
        self._command({"cmd": "kill", "pid": pid})

    def status(self, pid: int, timeout: float = 1.0) -> int | None:
        """The raw wait status of an executor that ended, or None if it did not end in time."""
        reply, _ = self._command({"cmd": "status", "pid": pid, "timeout": timeout},
                                 timeout=timeout + 30)
        status = reply.get("status")
        return int(status) if status is not None else None

    def ending(self, pid: int, timeout: float) -> str:
        """How an executor that stopped answering ended, in words."""
        return describe_status(self.status(pid, timeout=timeout))

    def close(self) -> None:
        """Stop the template and every executor it forked."""
        try:
            if self.info is not None and self._running():
                self._command({"cmd": "exit"}, timeout=10)
        except ExecutorError:
            pass
        self.ctrl.close()
        if self.proc is None:
            return  # its parent reaps it
        if self.info is None:
            self.proc.kill()  # never used: no need to wait for torch to finish importing
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
