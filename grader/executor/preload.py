"""What an executor imports before it sees a submission, shared by the template (which forks
executors) and the portable executor (a freshly spawned interpreter).

Executor side: standard library and torch only.
"""

from __future__ import annotations

import importlib
import os
import platform
import sys

from grader.wire.rules import split_warm

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
    """Import torch and what submissions use, pin the state, warm the first-call paths.
    ``extra``: the homework's modules, and its forbidden lists (``grader.wire.rules.
    warm_argument``) for the recorder's warm-up."""
    modules, lists = split_warm(extra)
    for name in (*PRELOAD, *modules):
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
    from grader.executor.recorder import warm_up

    warm_up(common_operators, lists)
    from grader.executor.escapes import guard_mode_switches

    guard_mode_switches()


def common_operators() -> None:
    """The operators most homework runs, once each, forward only: the recorder's warm-up
    (an operator's first visit under its modes costs 0.1 to 1 ms, a tenth of that in an
    executor forked after it)."""
    import torch

    m = torch.arange(12, dtype=torch.float64).reshape(3, 4) / 7 - 0.5
    v, b, f = m[0], m.reshape(3, 2, 2), m.float()
    index, mask = torch.tensor([[0], [2], [1]]), m > 0
    for fn in (torch.sigmoid, torch.tanh, torch.exp, torch.log, torch.abs, torch.sqrt,
               torch.relu, torch.sign, torch.clone, torch.neg, torch.rsqrt, torch.square,
               torch.zeros_like, torch.ones_like, torch.diag_embed, torch.t, torch.detach,
               lambda t: 1 - t, lambda t: t ** 2, lambda t: (t - 1) * 2 / 3, lambda t: t + t,
               lambda t: t - t, lambda t: t * t, lambda t: t / t, lambda t: t ** t,
               lambda t: t.T, lambda t: t.transpose(0, 1), lambda t: t @ t.T, lambda t: t @ v,
               lambda t: v @ v, lambda t: b @ b, lambda t: torch.outer(v, v),
               lambda t: torch.addmm(v, t.T, t), lambda t: t.reshape(12),
               lambda t: t.view(4, 3), lambda t: t.unsqueeze(0).expand(2, 3, 4),
               lambda t: t[None].squeeze(0), lambda t: t[:, 1:3], lambda t: t[0],
               lambda t: t[mask], lambda t: t.gather(1, index), lambda t: t.masked_fill(mask, 0),
               lambda t: torch.stack([t, t]), lambda t: torch.cat([t, t]),
               lambda t: torch.where(mask, t, -t), lambda t: t.to(torch.float64),
               lambda t: t.float(), lambda t: t.long(), lambda t: t.clamp(0, 1),
               lambda t: torch.maximum(t, t), lambda t: t == t, lambda t: t < 0,
               lambda t: torch.einsum("ij,kj->ik", t, t),
               lambda t: torch.zeros_like(t).scatter_(1, index, 1.0),
               lambda t: t.clone().add_(1).mul_(2).zero_(),
               lambda t: torch.nn.functional.softmax(t, 0), lambda t: f.double(),
               lambda t: torch.zeros(3), lambda t: torch.ones(3, 4), lambda t: torch.arange(4),
               lambda t: torch.eye(3), lambda t: torch.full((2,), 1.0), lambda t: t[0, 0].item()):
        fn(m)
    for reduce in (torch.sum, torch.mean, torch.amax, torch.logsumexp, torch.var):
        reduce(m, 0, keepdim=True)
    for whole in (torch.sum, torch.mean, torch.max, torch.argmax):
        whole(m)
    m.max(0), m.argmax(1), m.cumsum(0), m.prod(1)


def versions() -> dict[str, str]:
    """The torch and Python versions this executor runs."""
    import torch

    return {"torch": torch.__version__, "python": platform.python_version()}
