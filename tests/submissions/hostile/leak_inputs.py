# Case: leak_inputs (security notes 5.16, attack A14).
# Prints its inputs to stdout and stderr and raises an exception that carries them.
# Must hold, at both levels: every test fails; what it printed goes to the instructor log only
# (the log holds the marker, the result does not); the messages show frames from the
# student's file only, never the judge's (no reference_tests/, grader/ or hw2_refs paths).
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


def _leak(*args):
    text = "LEAKED-INPUTS " + repr([a.tolist() if hasattr(a, "tolist") else a for a in args])
    print(text)
    print(text, file=sys.stderr)
    raise ValueError(text[:300])


def sigmoid_grad(x):  # noqa: F811
    _leak(x)


def softmax(a, dim=-1):  # noqa: F811
    _leak(a, dim)


def cross_entropy(logits, target):  # noqa: F811
    _leak(logits, target)
