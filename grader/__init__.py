"""An autograder for a PyTorch course: a trusted judge and a sandboxed executor.

The public API is loaded lazily, so that the executor (which imports ``grader.protocol``)
does not import the judge's modules.
"""

from __future__ import annotations

from typing import Any

__version__ = "0.1.0"

__all__ = ["__version__", "check", "check_submission", "verify"]


def __getattr__(name: str) -> Any:
    if name in ("check_submission", "verify"):
        from grader import api

        return getattr(api, name)
    if name == "check":
        from grader.notebook import check

        return check
    raise AttributeError(f"module 'grader' has no attribute {name!r}")
