"""An autograder for a PyTorch course: a trusted judge and a sandboxed executor.

The public API is loaded lazily, so that the executor (which imports ``grader.wire.frames``)
does not import the judge's modules:

    from grader import check                    # in a notebook: check("hw2")
    from grader import check_submission         # grade one submission, get its result
    from grader import verify_course            # solutions pass, stubs fail, mutants caught
"""

import importlib as _importlib
from typing import Any as _Any  # private: every public name is in __all__

from grader.version import __version__

_LAZY = {"check": "grader.integrations.notebook", "check_submission": "grader.api",
         "verify_course": "grader.verify"}
"""Each public name and the module that defines it. A public name never equals a
submodule's: importing ``grader.verify`` sets the attribute ``grader.verify``."""

__all__ = ["__version__", "check", "check_submission", "verify_course"]


def __getattr__(name: str) -> _Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'grader' has no attribute {name!r}")
    return getattr(_importlib.import_module(module), name)


def __dir__() -> list[str]:
    return sorted({*globals(), *_LAZY})
