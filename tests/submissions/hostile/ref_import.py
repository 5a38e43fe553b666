# Case: ref_import (security notes 5.4, attack A8).
# Tries to import the instructor's code (reference, solutions, hw2_refs, gradients from the
# solutions folder, conftest), looks through sys.modules and gc.get_objects() for another
# function with the same name, and calls it; otherwise returns zeros.
# Must hold, at both levels: every test fails (score 0): no reference exists in the executor.
import gc
import importlib
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


_FOUND = {}
for _name in ("reference", "solutions", "solutions.hw2", "solutions.hw2.gradients", "hw2_refs",
              "conftest", "reference_tests", "grader.judge.plugin"):
    try:
        _FOUND[_name] = importlib.import_module(_name)
    except BaseException:
        pass


def _find(name, me):
    for modname, mod in list(sys.modules.items()):
        if modname.split(".")[0] in ("torch", "numpy", "functorch"):
            continue  # torch's own softmax is not the reference
        fn = getattr(mod, name, None)
        if callable(fn) and fn is not me and getattr(fn, "__module__", "") != __name__:
            return fn
    for obj in gc.get_objects():
        if callable(obj) and getattr(obj, "__name__", None) == name and obj is not me \
                and (getattr(obj, "__module__", None) or "torch").split(".")[0] not in (
                    __name__, "gradients", "torch", "numpy"):
            return obj
    return None


def _wrap(name, fallback):
    def fn(*args, **kwargs):
        other = _find(name, fn)
        if other is not None:
            try:
                return other(*args, **kwargs)
            except BaseException:
                pass
        return fallback(*args, **kwargs)
    fn.__name__ = name
    return fn


for _n in ("sigmoid_grad", "tanh_grad", "relu_grad", "softmax", "softmax_jacobian",
           "softmax_backward", "linear_mse_grad", "cross_entropy", "cross_entropy_grad"):
    globals()[_n] = _wrap(_n, globals()[_n])
