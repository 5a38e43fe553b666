"""An exception of the student's code, described as data for the judge: its type, its
message and the frames inside the student's files only, with the executor's working
directory cut out of every path (a student reads ``gradients.py`` on every platform).

Executor side: standard library only.
"""

from __future__ import annotations

import os
import traceback
from typing import Any

__all__ = ["error_record", "set_workdir"]

_WORKDIR: list[str] = []  # this executor's working directory, cut from the paths in messages


def set_workdir(workdir: str) -> None:
    """Cut ``workdir`` (and its real path) from the paths of every record made from now on."""
    _WORKDIR[:] = sorted({workdir, os.path.realpath(workdir)}, key=len, reverse=True)


def _relative(text: str) -> str:
    """A message with this executor's working directory cut out of its paths, so a student
    reads ``gradients.py``, not ``C:\\...\\Temp\\grader-exec-.../work0/gradients.py``."""
    for workdir in _WORKDIR:
        text = text.replace(workdir + os.sep, "").replace(workdir + "/", "")
    return text


def error_record(exc: BaseException, filenames: set[str], *, kind: str = "exception") -> dict[str, Any]:
    """Describe an exception by type, message and the frames inside the student's files only."""
    frames = []
    for fr in traceback.extract_tb(exc.__traceback__):
        if fr.filename in filenames:
            frames.append({"file": _relative(fr.filename), "line": fr.lineno, "name": fr.name,
                           "code": (fr.line or "").strip()[:200]})
    if isinstance(exc, NotImplementedError) and not _device_gap(exc):
        kind = "not_implemented"
    elif isinstance(exc, SystemExit):
        kind = "exit"
    try:
        message = _relative(str(exc))[:2000]
    except BaseException:  # a hostile __str__
        message = "<unprintable message>"
    return {"kind": kind, "type": type(exc).__name__, "message": message, "frames": frames[-8:]}


def _device_gap(exc: BaseException) -> bool:
    """A NotImplementedError raised by torch for a device that lacks an operator (MPS), not
    by the student's untouched stub."""
    try:
        return "for the MPS device" in str(exc) or "MPS framework doesn't support" in str(exc)
    except BaseException:  # noqa: B036 - a hostile __str__
        return False
