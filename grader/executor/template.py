"""The template process: a fresh interpreter that imports torch once and forks executors.

Started by the judge as ``python -m grader.executor.template FD`` with one end of a
SOCK_SEQPACKET control socket. It never imports the judge's modules, tests or references, so a
forked executor inherits nothing secret. Commands (JSON, one per message):

* ``spawn``: fork an executor; the reply carries its pid and, as SCM_RIGHTS, the judge's end of
  a fresh socket pair on which the executor greets and answers requests;
* ``kill``: kill an executor's process group (and every process of its slot uid when root);
* ``status``: the exit status of an executor, waiting briefly for it;
* ``exit``: kill every executor and leave.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import sys
import time
import traceback
from typing import Any

from grader.executor.preload import LAZY_STATE_MODULES, preload, python_unreadable, versions
from grader.executor.processes import children_of

MAX_CONTROL_MESSAGE = 1 << 16
PROCESS_LEVEL = "--process-level"


class TemplateServer:
    """The template's command loop and the executors it has forked."""

    def __init__(self, ctrl: socket.socket, isolation: str, *, executors: bool = True) -> None:
        """``executors``: this server forks executors (the batch's zygote forks judges and
        templates instead, and needs no pid namespace of its own)."""
        from grader.executor.sandbox import PidNamespaces

        self.ctrl = ctrl
        self.isolation = isolation
        self.children: dict[int, dict[str, Any]] = {}
        self.statuses: dict[int, int] = {}
        self.pid_namespaces = PidNamespaces() if executors and isolation == "namespace" else None

    def run(self) -> None:
        self.send({"ready": True, "pid": os.getpid(), "versions": versions(),
                   "isolation": self.isolation})
        while True:
            data, fds = self.recv()
            if not data:
                self.kill_all()
                return
            cmd = json.loads(data)
            if fds:
                cmd["_fds"] = fds
            self.reap()
            handler = getattr(self, f"cmd_{cmd.get('cmd')}", None)
            if handler is None:
                self.send({"ok": False, "error": f"unknown command {cmd.get('cmd')!r}"})
                continue
            if handler(cmd) is False:
                os._exit(0)  # skip interpreter teardown: the executors are already gone

    def recv(self) -> tuple[bytes, list[int]]:
        """The next command and the descriptors it carries (none here); b"" at the end."""
        try:
            return self.ctrl.recv(MAX_CONTROL_MESSAGE), []
        except OSError:
            return b"", []

    def send(self, obj: dict[str, Any], fds: list[int] | None = None) -> None:
        data = json.dumps(obj).encode()
        if fds:
            socket.send_fds(self.ctrl, [data], fds)
        else:
            self.ctrl.send(data)

    def reap(self) -> None:
        while True:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                return
            if pid == 0:
                return
            self.statuses[pid] = status

    def cmd_spawn(self, cmd: dict[str, Any]) -> None:
        parent_end, child_end = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        config = dict(cmd["config"])
        ns = self.pid_namespaces if config.get("isolation") == "namespace" else None
        entered = config["pid_namespace_init"] = ns is not None and ns.enter()
        try:
            pid = os.fork()
        except OSError:
            if entered:
                ns.leave()  # type: ignore[union-attr]
            raise
        if pid == 0:
            self.ctrl.close()
            parent_end.close()
            if self.pid_namespaces is not None:
                self.pid_namespaces.close()
            _executor_main(child_end, config)
            os._exit(0)
        if entered:
            ns.leave()  # type: ignore[union-attr]  # the template's own later forks stay home
        child_end.close()
        self.children[pid] = cmd["config"]
        self.send({"ok": True, "pid": pid}, [parent_end.fileno()])
        parent_end.close()

    def cmd_kill(self, cmd: dict[str, Any]) -> None:
        """Answer first, then kill: the judge goes on with its next test or submission while
        the executor's memory is torn down; the next command waits for that here."""
        self.send({"ok": True})
        self._kill(int(cmd["pid"]))

    def _kill(self, pid: int) -> None:
        config = self.children.pop(pid, None)
        for target in (-pid, pid):
            try:
                os.kill(target, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
        try:
            _, status = os.waitpid(pid, 0)
            self.statuses[pid] = status
        except ChildProcessError:
            pass
        self._kill_orphans()
        uid = (config or {}).get("uid")
        if uid is not None and os.geteuid() == 0:
            from grader.executor.sandbox import reap_uid

            reap_uid(int(uid))
        self.reap()

    def _kill_orphans(self) -> None:
        """Kill adopted descendants (double-forked daemons) that are not live executors."""
        me = os.getpid()
        for _ in range(20):
            orphans = [pid for pid in children_of(me) if pid not in self.children]
            if not orphans:
                return
            for pid in orphans:
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
            time.sleep(0.005)
            self.reap()

    def cmd_status(self, cmd: dict[str, Any]) -> None:
        pid = int(cmd["pid"])
        deadline = time.monotonic() + float(cmd.get("timeout", 1.0))
        while pid not in self.statuses and time.monotonic() < deadline:
            self.reap()
            time.sleep(0.005)
        status = self.statuses.pop(pid, None)
        if status is not None:
            self.children.pop(pid, None)
        self.send({"ok": True, "status": status})

    def cmd_exit(self, cmd: dict[str, Any]) -> bool:
        self.kill_all()
        try:
            self.send({"ok": True})
        except OSError:  # the judge did not wait for the answer (it was interrupted)
            pass
        return False

    def kill_all(self) -> None:
        for pid in list(self.children):
            self._kill(pid)


def _executor_main(sock: socket.socket, config: dict[str, Any]) -> None:
    """In the forked child: confine, receive the submission, serve requests, exit."""
    code = 0
    try:
        from grader.executor import child, sandbox

        log_fd = os.open(config["log_path"], os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        null_fd = os.open(os.devnull, os.O_RDONLY)
        os.dup2(null_fd, 0)
        os.dup2(log_fd, 1)
        os.dup2(log_fd, 2)
        uid = config.get("uid")
        if uid is not None and os.geteuid() == 0:
            os.fchown(log_fd, int(uid), int(uid))
        waiter = sandbox.confine(config)
        if waiter is not None:  # the namespace's outside half waits for its init and mirrors it
            sock.close()
            _, status = os.waitpid(waiter, 0)
            code = os.waitstatus_to_exitcode(status)
            os._exit(code if code >= 0 else 128 - code)
        child.accept(sock, config)
    except BaseException:  # noqa: B036 - anything here ends the executor with a log line
        traceback.print_exc()
        code = 70
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)


def prepare(extra: tuple[str, ...] = (), process_level: bool = False) -> str:
    """Import and warm what every executor needs, before any fork; the isolation level this
    machine gives. ``process_level``: the run asked for process isolation."""
    from grader.executor.sandbox import available_isolation

    isolation = available_isolation()
    if (isolation == "process" or process_level) and python_unreadable():
        # Without a namespace to re-attach it, the sandbox uid cannot import from this
        # Python later: import what torch's global-state setters load lazily, now.
        extra += LAZY_STATE_MODULES
    preload(extra)
    return isolation


def main() -> None:
    """Entry point: ``python -m grader.executor.template FD [MODULE...] [--process-level]``."""
    ctrl = socket.socket(fileno=int(sys.argv[1]))
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    from grader.executor.sandbox import become_subreaper, prctl_pdeathsig

    prctl_pdeathsig()
    become_subreaper()
    isolation = prepare(tuple(a for a in sys.argv[2:] if a != PROCESS_LEVEL),
                        PROCESS_LEVEL in sys.argv[2:])
    TemplateServer(ctrl, isolation).run()


if __name__ == "__main__":
    main()
