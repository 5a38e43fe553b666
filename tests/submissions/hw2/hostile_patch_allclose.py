# hostile: patches torch's comparison functions at import, then returns wrong values
"""Every comparison in torch says "equal"; every function returns zeros."""

import torch
import torch.testing

torch.allclose = lambda *args, **kwargs: True
torch.equal = lambda *args, **kwargs: True
torch.testing.assert_close = lambda *args, **kwargs: None
torch.isclose = lambda a, b, *args, **kwargs: torch.ones_like(a, dtype=torch.bool)
torch.Tensor.__eq__ = lambda self, other: True
torch.Tensor.allclose = lambda self, *args, **kwargs: True


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
    return torch.zeros((), dtype=logits.dtype)


def cross_entropy_grad(logits, target):
    return torch.zeros_like(logits)
