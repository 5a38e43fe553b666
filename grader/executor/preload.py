"""What an executor imports before it sees a submission, shared by the template (which forks
executors) and the portable executor (a freshly spawned interpreter).

Executor side: standard library and torch only.
"""

from __future__ import annotations

import importlib
import os
import platform
import sys

__all__ = ["LAZY_STATE_MODULES", "PRELOAD", "preload", "python_unreadable", "versions"]

# What submissions may import, imported up front: once an executor drops to the sandbox uid
# it may be unable to read the Python installation (for example a pyenv under /root).
PRELOAD = (
    "torch", "torch.nn", "torch.nn.functional", "torch.nn.init", "torch.optim",
    "torch.optim.lr_scheduler", "torch.autograd", "torch.autograd.functional", "torch.func",
    "torch.linalg", "torch.utils.data", "torch.distributions", "torch.testing",
    "torch.nested._internal.nested_tensor",
    "numpy", "math", "cmath", "random", "itertools", "functools", "collections",
    "collections.abc", "typing", "dataclasses", "operator", "statistics", "copy", "time",
    "enum", "abc", "string", "re", "fractions", "decimal", "numbers", "warnings", "inspect",
    "contextlib", "heapq", "bisect", "json", "types", "pathlib", "io", "textwrap",
)
# torch.use_deterministic_algorithms and friends import inductor's config (1.7 s) on first use.
# An autograd.grad or backward with explicit grad_outputs imports sympy (half a second).
LAZY_STATE_MODULES = ("torch._inductor.config", "torch.fx.experimental.symbolic_shapes")


def python_unreadable() -> bool:
    """Whether other users cannot reach this Python (a pyenv under /root) while we are root."""
    geteuid = getattr(os, "geteuid", None)
    if geteuid is None or geteuid() != 0:
        return False
    import torch

    for prefix in {sys.prefix, sys.base_prefix, os.path.dirname(str(torch.__file__))}:
        path = os.path.realpath(prefix)
        while path != "/":
            if not os.stat(path).st_mode & 0o001:
                return True
            path = os.path.dirname(path)
    return False


def preload(extra: tuple[str, ...] = ()) -> None:
    """Import torch and what submissions use, pin the state, warm the first-call paths."""
    for name in (*PRELOAD, *extra):
        try:
            importlib.import_module(name)
        except ImportError:
            pass
    import torch

    torch.set_num_threads(1)  # no OpenMP pool before a fork
    from grader.executor import child  # noqa: F401 - the executor's own code, imported once
    from grader.executor.state import reset_state

    reset_state(seed=0, threads=1, device="cpu")
    # Warm the first-call paths so each executor does not pay for them. Nothing here may
    # touch CUDA, not even indirectly: a backward pass starts autograd's device threads (which
    # count the GPUs, initialising the driver), and a forked child then cannot use CUDA or
    # autograd. So the warm-up is forward only. Heavier modules a homework needs (the first
    # optimizer imports torch._dynamo) come from the homework's `preload` list.
    x = torch.randn(4, 3, 5, 5, dtype=torch.float64)
    w = torch.randn(2, 3, 3, 3, dtype=torch.float64)
    torch.nn.functional.conv2d(x, w, padding=1).relu().softmax(-1).sum()
    (x.float() @ torch.randn(5, 5)).sum()


def versions() -> dict[str, str]:
    """The torch and Python versions this executor runs."""
    import torch

    return {"torch": torch.__version__, "python": platform.python_version()}
