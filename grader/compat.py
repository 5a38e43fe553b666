"""The oldest Python and torch the grader runs on, checked once at the start of a command.

Python 3.11 (``tomllib``, ``python -P``); torch 2.4 (the default-device, deterministic and
dispatch-mode APIs the executor pins and records). An older torch gets one line naming both
versions instead of an AttributeError deep inside a test.
"""

from __future__ import annotations

import re
from importlib import metadata

from grader.errors import UsageError

__all__ = ["MIN_PYTHON", "MIN_TORCH", "check_torch"]

MIN_PYTHON = (3, 11)
MIN_TORCH = (2, 4)


def _release(version: str) -> tuple[int, ...]:
    return tuple(int(x) for x in re.findall(r"\d+", version.split("+")[0])[:2])


def check_torch(installed: str | None = None) -> None:
    """Refuse a torch older than MIN_TORCH (or none at all) with a one-line UsageError."""
    want = ".".join(map(str, MIN_TORCH))
    if installed is None:
        try:
            installed = metadata.version("torch")
        except metadata.PackageNotFoundError:
            raise UsageError(f"torch is not installed; the grader needs torch >= {want}: "
                             f"pip install 'torch>={want}'") from None
    if _release(installed) < MIN_TORCH:
        raise UsageError(f"torch {installed} is installed; the grader needs torch >= {want}: "
                         f"pip install --upgrade 'torch>={want}'")
