"""The confinement of a run's executors, as the judge decides it: the sandbox config every
executor of the run receives (its level, slot uid, limits, device, and at the namespace level
what stays visible: the Python installation and the grader package, never the course)."""

from __future__ import annotations

import os
import site
import sys
from pathlib import Path
from typing import Any

from grader import version as _version_module
from grader.config import Settings

__all__ = ["sandbox_config"]

_SYSTEM_DIRS = {"usr", "lib", "lib32", "lib64", "libx32", "bin", "sbin", "etc", "dev", "proc",
                "sys", "tmp"}


def _keep_paths(course_root: Path) -> list[str]:
    """The Python installation and the grader package, visible read-only in the sandbox.

    Only the interpreter's prefixes, its site-packages and the grader package: never a folder
    that holds the course (solutions, tests), a scratch area itself (``/tmp``, which a script
    run from there puts on ``sys.path``) or ``/``.
    """
    from grader.executor.sandbox import SCRATCH  # the namespace level: Linux only

    prefixes = {os.path.realpath(p) for p in (sys.prefix, sys.base_prefix, sys.exec_prefix)}
    keep = set(prefixes) | {os.path.dirname(os.path.realpath(sys.executable)),
                            os.path.dirname(os.path.realpath(_version_module.__file__))}
    keep.update(os.path.realpath(p) for p in site.getsitepackages() if os.path.isdir(p))
    keep.update(os.path.realpath(p) for p in sys.path
                if p and os.path.isdir(p)
                and any((os.path.realpath(p) + os.sep).startswith(pre + os.sep) for pre in prefixes))
    root = str(course_root.resolve()) + os.sep

    def allowed(path: str) -> bool:
        inside = path + os.sep
        # A folder inside a scratch area is fine (a course cloned under /tmp keeps its .venv
        # there); a scratch area itself, or a folder holding one or the course, is not.
        return (path != "/" and not root.startswith(inside)
                and not any((s + os.sep).startswith(inside) for s in SCRATCH))

    return sorted(p for p in keep if allowed(p))


def sandbox_config(settings: Settings, course_root: Path, isolation: str, slot: int = 0,
                   ) -> dict[str, Any]:
    """The confinement of every executor of this run (see ``grader.executor.sandbox``)."""
    is_root = getattr(os, "geteuid", lambda: -1)() == 0 and sys.platform.startswith("linux")
    hide = sorted(f"/{d}" for d in os.listdir("/")
                  if d not in _SYSTEM_DIRS and os.path.isdir(f"/{d}")
                  and not os.path.islink(f"/{d}")) if isolation == "namespace" else []
    cuda = settings.device.startswith("cuda")
    uid = None
    if is_root and settings.sandbox_uid > 0:
        from grader.executor.sandbox import claim_uid

        uid = claim_uid(settings.sandbox_uid, slot)
    return {
        "isolation": isolation,
        "uid": uid,
        "device": settings.device,
        "threads": settings.threads,
        "gpu_memory_bytes": settings.gpu_memory_mb << 20,
        "limits": {"cpu_s": settings.cpu_s, "fsize_bytes": settings.fsize_mb << 20,
                   "memory_budget_bytes": settings.memory_bytes,
                   "memory_kind": "data" if cuda else "as",
                   "nproc": settings.nproc if is_root else None, "nofile": 256,
                   "tmp_bytes": settings.tmp_mb << 20},
        "hide": hide,
        "keep": _keep_paths(course_root) if isolation == "namespace" else [],
    }
