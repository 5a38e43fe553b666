# Case: frame_steal (security notes 5.3, attack A9).
# Walks sys._getframe() and inspect.stack() for locals named expected/reference/ref/want and
# returns the first tensor of the right shape it finds; otherwise zeros.
# Must hold, at both levels: every test fails (score 0): no expected value exists in the
# executor's frames.
import inspect
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


_NAMES = ("expected", "reference", "ref", "want", "target_value", "golden")


def _steal(like):
    frame = sys._getframe(1)
    while frame is not None:
        for key, value in frame.f_locals.items():
            if any(n in key.lower() for n in _NAMES) and isinstance(value, torch.Tensor) \
                    and value.shape == like.shape:
                return value.detach().clone()
        frame = frame.f_back
    for info in inspect.stack():
        for key, value in info.frame.f_locals.items():
            if key in _NAMES and isinstance(value, torch.Tensor) and value.shape == like.shape:
                return value.detach().clone()
    return torch.zeros_like(like)


def sigmoid_grad(x):  # noqa: F811
    return _steal(x)


def tanh_grad(x):  # noqa: F811
    return _steal(x)


def relu_grad(x):  # noqa: F811
    return _steal(x)


def softmax(a, dim=-1):  # noqa: F811
    return _steal(a)


def cross_entropy_grad(logits, target):  # noqa: F811
    return _steal(logits)
