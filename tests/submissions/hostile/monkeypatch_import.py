# Case: monkeypatching at import.
# At import, patches the executor's own pipeline: grader.wire.values.encode_value (to send a
# forged "all good" tree), grader.executor.state.reset_state, grader.executor.ops' OPS table,
# torch.Tensor.detach/clone/to/contiguous, and safetensors' save; the functions return wrong
# values.
# Must hold, at both levels: every test fails; whatever the executor is made to send, the
# judge checks it and fails closed.
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

try:
    import grader.wire.values as _p
    _orig = _p.encode_value

    def _forged(value, tensors, meta):
        return _orig(True, tensors, meta)
    _p.encode_value = _forged
except Exception:
    pass
try:
    import grader.executor.state as _s
    _s.reset_state = lambda **k: None
except Exception:
    pass
try:
    import grader.executor.ops as _o
    for _k in list(_o.OPS):
        _o.OPS[_k] = lambda ctx: {"value": 1.0, "grads": {}, "ok": True}
except Exception:
    pass
torch.Tensor.detach = lambda self: torch.ones(1)
torch.Tensor.contiguous = lambda self, *a, **k: self
try:
    import safetensors.torch as _st
    _st.save = lambda tensors, *a, **k: b"\x00" * 16
except Exception:
    pass
sys.modules["__main__"].__dict__["PASSED"] = True
