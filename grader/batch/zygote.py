"""The zygote of a local pool: one torch import for every judge and every template of a batch.

Started by the driver as ``python -P -m grader.batch.zygote FD [MODULE...] [--process-level]``,
exactly like a template (a fresh interpreter, the executor's environment, cwd ``/``), it
imports torch and the executor once (``grader.executor.template.prepare``) and then only forks.
Per judge it forks two children:

* a **template**, which serves that judge's executors; forked before anything of the judge
  exists, it is as clean as a template started afresh;
* the **judge**, which only after the fork takes the driver's environment and working folder
  and imports pytest, the course, its tests and references: they live in the judge's memory,
  never in the zygote's, so no later template can inherit them.

This module imports nothing of the judge at its top: the zygote must stay a process that holds
nothing secret. Commands on the control socket (SOCK_SEQPACKET, JSON; file descriptors as
SCM_RIGHTS), on top of the template's ``kill``, ``status`` and ``exit``:

* ``judge`` with three descriptors (the job pipe's read end, the result pipe's write end, the
  judge's log) and the judge's arguments: fork a template and a judge; reply with the judge's
  pid. ``kill`` of a judge kills its template too.
"""

from __future__ import annotations

import os
import signal
import socket
import sys
from typing import Any

from grader.executor.template import MAX_CONTROL_MESSAGE, PROCESS_LEVEL, TemplateServer, prepare

__all__ = ["ZygoteServer", "main"]


class ZygoteServer(TemplateServer):
    """The template's command loop, forking judges (each with its own template) instead of
    executors."""

    def __init__(self, ctrl: socket.socket, isolation: str) -> None:
        super().__init__(ctrl, isolation, executors=False)
        self.templates: dict[int, int] = {}  # judge pid -> its template's pid

    def recv(self) -> tuple[bytes, list[int]]:
        try:
            data, fds, _, _ = socket.recv_fds(self.ctrl, MAX_CONTROL_MESSAGE, 3)
        except OSError:
            return b"", []
        return data, list(fds)

    def cmd_judge(self, cmd: dict[str, Any]) -> None:
        fds = cmd.pop("_fds", [])
        if len(fds) != 3:
            for fd in fds:
                os.close(fd)
            self.send({"ok": False, "error": f"judge needs 3 descriptors, got {len(fds)}"})
            return
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        template = os.fork()
        if template == 0:
            for fd in (self.ctrl.fileno(), ours.fileno(), *fds):
                os.close(fd)
            _template_main(theirs, self.isolation)
        theirs.close()
        judge = os.fork()
        if judge == 0:
            self.ctrl.close()
            _judge_main(cmd, fds, ours, template)
        ours.close()
        for fd in fds:
            os.close(fd)
        self.children[template] = {}
        self.children[judge] = {}
        self.templates[judge] = template
        self.send({"ok": True, "pid": judge, "template": template})

    def _kill(self, pid: int) -> None:
        template = self.templates.pop(pid, None)
        super()._kill(pid)
        if template is not None:
            super()._kill(template)


def _template_main(ctrl: socket.socket, isolation: str) -> None:
    """In the forked template: the same command loop as ``python -m grader.executor.template``."""
    from grader.executor.sandbox import become_subreaper, prctl_pdeathsig

    code = 0
    try:
        os.setsid()
        prctl_pdeathsig()
        become_subreaper()
        TemplateServer(ctrl, isolation).run()
    except BaseException:  # noqa: B036 - nothing may unwind into the zygote's loop
        code = 70
    os._exit(code)


def _judge_main(cmd: dict[str, Any], fds: list[int], ctrl: socket.socket, template: int) -> None:
    """In the forked judge: become the driver's judge (its environment, folder and import
    path), then serve jobs with the template forked beside it."""
    from grader.executor.sandbox import prctl_pdeathsig

    jobs, results, log = fds
    code = 70
    try:
        prctl_pdeathsig()
        signal.signal(signal.SIGINT, signal.default_int_handler)
        null = os.open(os.devnull, os.O_RDONLY)
        os.dup2(null, 0)
        os.dup2(log, 1)
        os.dup2(log, 2)
        for fd in (null, log):
            os.close(fd)
        os.environ.clear()
        os.environ.update(cmd["env"])
        os.chdir(cmd["cwd"])
        sys.path[:0] = [p for p in cmd["path"] if p not in sys.path]
        from grader.batch.pool import judge_process
        from grader.launch.template import Template

        inp = os.fdopen(jobs, "r", encoding="utf-8")
        out = os.fdopen(results, "w", encoding="utf-8", buffering=1)
        code = judge_process(cmd["args"], inp, out, Template.adopt(ctrl, template))
    except BaseException:  # noqa: B036 - the judge's log says why; the driver sees the exit
        import traceback

        traceback.print_exc()
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)


def main() -> None:
    """Entry point: ``python -m grader.batch.zygote FD [MODULE...] [--process-level]``."""
    ctrl = socket.socket(fileno=int(sys.argv[1]))
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    from grader.executor.sandbox import prctl_pdeathsig

    prctl_pdeathsig()
    isolation = prepare(tuple(a for a in sys.argv[2:] if a != PROCESS_LEVEL),
                        PROCESS_LEVEL in sys.argv[2:])
    ZygoteServer(ctrl, isolation).run()


if __name__ == "__main__":
    main()
