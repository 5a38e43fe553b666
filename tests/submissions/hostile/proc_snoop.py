# Case: proc_snoop (security notes 5.16).
# Reads /proc/1/environ, /proc/self/environ, os.environ, /proc/1/cmdline and the cmdline of
# every process it can see, and raises with all of it.
# Must hold, at both levels: no secret of the judge's environment (the test sets
# GRADER_TEST_SECRET in the judge) reaches the executor or the result; at the namespace level
# only the executor's own processes are visible (no pid of the judge or the template).
import os

import torch


def sigmoid_grad(x):
    return torch.zeros_like(x)


def tanh_grad(x):
    return torch.zeros_like(x)


def relu_grad(x):
    return torch.zeros_like(x)


def softmax(a, dim=-1):
    return torch.zeros_like(a)


def softmax_jacobian(a):
    return torch.zeros(*a.shape, a.shape[-1], dtype=a.dtype)


def softmax_backward(p, grad_p):
    return torch.zeros_like(p)


def linear_mse_grad(x, y, w, b):
    return torch.zeros_like(w), torch.zeros_like(b)


def cross_entropy(logits, target):
    return logits.sum() * 0


def cross_entropy_grad(logits, target):
    return torch.zeros_like(logits)


def _snoop():
    out = []
    for path in ("/proc/1/environ", "/proc/self/environ", "/proc/1/cmdline"):
        try:
            with open(path, "rb") as f:
                out.append(f"{path}={f.read(3000)!r}")
        except OSError as err:
            out.append(f"{path}: {type(err).__name__}")
    out.append(f"environ={dict(os.environ)!r}")
    pids = sorted(int(p) for p in os.listdir("/proc") if p.isdigit())
    out.append(f"PIDS={pids[:200]}")
    for pid in pids[:200]:
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                out.append(f"{pid}:{f.read(200)!r}")
        except OSError:
            pass
    return " ".join(out)


def sigmoid_grad(x):  # noqa: F811
    raise RuntimeError(_snoop()[-1900:])


def tanh_grad(x):  # noqa: F811
    raise RuntimeError(_snoop()[:1900])
