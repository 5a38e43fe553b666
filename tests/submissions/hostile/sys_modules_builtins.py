# Case: sys.modules and builtins tampering.
# At import, replaces sys.modules entries the executor uses (json, grader.wire.frames,
# safetensors.torch) with fakes, and rebinds builtins (isinstance, len, print, __import__,
# open) to liars; the functions return wrong values.
# Must hold, at both levels: every test fails (the executor may break, but it fails closed:
# error, crashed or malformed, never passed); the next submission, forked fresh from the
# template, is graded normally.
import builtins
import sys
import types

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

_fake = types.ModuleType("fake")
_fake.dumps = lambda *a, **k: '{"ok": true}'
_fake.loads = lambda *a, **k: {"ok": True}
_fake.save = lambda *a, **k: b""
_fake.load = lambda *a, **k: {}
for _name in ("json", "grader.wire.frames", "safetensors.torch", "torch.testing"):
    sys.modules[_name] = _fake
builtins.isinstance = lambda obj, cls: True
builtins.len = lambda obj: 0
builtins.print = lambda *a, **k: None
builtins.open = lambda *a, **k: (_ for _ in ()).throw(OSError("no"))
