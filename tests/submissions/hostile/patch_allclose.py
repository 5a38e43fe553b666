# Case: patch_allclose (security notes 5.1, attack A1).
# At import, replaces torch.allclose, torch.equal, torch.isclose, torch.testing.assert_close,
# numpy.testing.assert_allclose and grader.judge.compare's comparators (where importable) with
# functions that always pass, then returns wrong values (zeros).
# Must hold, at both levels: every test fails (score 0); the patches live only in the executor,
# the judge's comparisons are untouched; the next submission is graded normally.
import numpy
import numpy.testing
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


def _always(*args, **kwargs):
    return True


def _quiet(*args, **kwargs):
    return None


torch.allclose = _always
torch.equal = _always
torch.isclose = lambda a, b, *r, **k: torch.ones_like(a, dtype=torch.bool)
torch.testing.assert_close = _quiet
numpy.testing.assert_allclose = _quiet
numpy.allclose = _always
torch.Tensor.__eq__ = lambda self, other: True
torch.Tensor.allclose = _always
try:
    import grader.judge.compare as _c
    _c.assert_close = _quiet
    _c.assert_same = _quiet
except Exception:
    pass
