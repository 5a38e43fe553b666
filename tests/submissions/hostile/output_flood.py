# Case: output_flood (security notes 5.14, attack A13).
# Each function writes 1 GiB to stdout and stderr (stopping at the first error), then returns
# wrong values.
# Must hold, at both levels: every test fails (not a crash of the judge); the instructor log is
# capped (the file at the file-size limit, the tail the judge reads at 64 KiB); the judge's
# memory stays bounded.
import os
import sys

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

_LINE = b"flood " * 10000 + b"\n"


def _flood():
    for fd in (1, 2):
        for _ in range((1 << 30) // len(_LINE)):
            try:
                os.write(fd, _LINE)
            except OSError:
                break
    print("x" * 100000, file=sys.stderr)


for _name in ("sigmoid_grad", "tanh_grad", "relu_grad", "softmax"):
    _real = globals()[_name]

    def _make(real):
        def fn(*args, **kwargs):
            _flood()
            return real(*args, **kwargs)
        return fn

    globals()[_name] = _make(_real)
