"""The portable executor: a freshly spawned interpreter that serves one submission over its
standard pipes, for machines without fork or Unix sockets (Windows, macOS) or when asked for.

Started by the judge as ``python -P -m grader.executor.portable [--drops-uid] [MODULE...]`` with stdin and
stdout as pipes (stderr to the null device). It imports torch and what submissions use, says
``ready`` and waits: the judge keeps it as a warm spare until it needs an executor. Then:

1. a frame ``{"sandbox": ...}``: the sandbox settings (working directory, log file, limits);
   the executor sends what it printed to the log file, applies the limits this platform has
   (on Linux the process level's whole confinement, without namespaces; elsewhere the
   ``resource`` limits that work there; on Windows the judge's Job Object holds the caps);
2. the submission frame and requests, exactly as for an executor forked from the template.

Executor side: standard library, torch, and the executor's own modules only. Nothing here is
POSIX-only unless it is there.
"""

from __future__ import annotations

import importlib.util
import os
import sys
import traceback
from typing import Any

from grader.executor.preload import LAZY_STATE_MODULES, preload, python_unreadable, versions
from grader.wire import frames

__all__ = ["apply_limits", "main"]

MAX_CONFIG_BYTES = 1 << 20
DROPS_UID = "--drops-uid"  # the executor will run as a slot uid (the grader runs as root)


def _binary(fd: int) -> None:
    if sys.platform == "win32":  # the C runtime's text mode would turn b"\n" into b"\r\n"
        import msvcrt

        msvcrt.setmode(fd, os.O_BINARY)


def _private_pipes() -> frames.PipeStream:
    """The judge's pipes on descriptors of their own; 0, 1 and 2 become the null device
    until the log file is known, so nothing the code prints can reach the frames."""
    read_fd, write_fd = os.dup(0), os.dup(1)
    for fd in (read_fd, write_fd):
        _binary(fd)
    null = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1, 2):
        os.dup2(null, fd)
    os.close(null)
    return frames.PipeStream(read_fd, write_fd)


def _redirect_output(log_path: str) -> None:
    log = os.open(log_path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    os.dup2(log, 1)
    os.dup2(log, 2)
    os.close(log)


def apply_limits(config: dict[str, Any]) -> list[str]:
    """The confinement this platform allows, in this process; returns what was applied."""
    linux = sys.platform.startswith("linux") and hasattr(os, "geteuid") and \
        importlib.util.find_spec("resource") is not None
    if linux:
        from grader.executor import sandbox

        sandbox.become_subreaper()  # daemons stay descendants, so the judge can kill them
        sandbox.confine({**config, "isolation": "process"}, new_session=False)
        return ["rlimits", "seccomp", "no_new_privs"] + (["uid"] if config.get("uid") else [])
    try:
        import resource
    except ImportError:  # Windows: the judge's Job Object caps memory and processes
        return []
    limits = config["limits"]
    applied = []
    wanted = {"RLIMIT_CPU": int(limits["cpu_s"]), "RLIMIT_FSIZE": int(limits["fsize_bytes"]),
              "RLIMIT_NOFILE": int(limits.get("nofile", 256)), "RLIMIT_CORE": 0}
    for name, value in wanted.items():
        kind = getattr(resource, name, None)
        if kind is None:
            continue
        try:
            _, hard = resource.getrlimit(kind)
            if hard != resource.RLIM_INFINITY:
                value = min(value, hard)
            resource.setrlimit(kind, (value, value))
            applied.append(name)
        except (ValueError, OSError):  # macOS refuses some of them; best effort
            pass
    return applied


def _serve(stream: frames.PipeStream) -> int:
    spec, _ = frames.recv_frame(stream, max_bytes=MAX_CONFIG_BYTES, accept=("sandbox",))
    config = dict(spec["sandbox"])
    _redirect_output(config["log_path"])
    apply_limits(config)
    from grader.executor import child

    child.accept(stream, config)
    return 0


def main(argv: list[str] | None = None) -> None:
    """Entry point: ``python -P -m grader.executor.portable [MODULE...]``."""
    stream = _private_pipes()
    code = 0
    try:
        args = list(argv if argv is not None else sys.argv[1:])
        extra = tuple(a for a in args if a != DROPS_UID)
        if DROPS_UID in args and python_unreadable():  # after the uid drop, lazy imports of
            extra += LAZY_STATE_MODULES  # torch's state setters fail: import them now
        preload(extra)
        frames.send_frame(stream, {"ready": True, "pid": os.getpid(), "versions": versions(),
                                     "isolation": "portable"})
        code = _serve(stream)
    except (EOFError, BrokenPipeError):  # the judge went away (a spare never used)
        code = 0
    except BaseException:  # noqa: B036 - anything here ends the executor with a log line
        traceback.print_exc()
        code = 70
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)


if __name__ == "__main__":
    main()
