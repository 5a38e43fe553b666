# hostile: returns a torch.Tensor subclass whose comparisons always pass
"""A subclass whose __eq__, __torch_function__ and friends make any comparison succeed."""

import torch


class AlwaysEqual(torch.Tensor):
    @classmethod
    def __torch_function__(cls, func, types, args=(), kwargs=None):
        name = getattr(func, "__name__", "")
        if name in ("allclose", "equal", "__eq__", "eq", "isclose", "all", "any"):
            return True
        if name in ("sub", "__sub__", "abs", "max", "amax"):
            return torch.zeros(())
        return super().__torch_function__(func, types, args, kwargs or {})

    def __eq__(self, other):
        return True

    def __ne__(self, other):
        return False

    __hash__ = torch.Tensor.__hash__


def _evil(like):
    return torch.zeros_like(like).as_subclass(AlwaysEqual)


def sigmoid_grad(x):
    return _evil(x)


def tanh_grad(x):
    return _evil(x)


def relu_grad(x):
    return _evil(x)


def softmax(a, dim=-1):
    return _evil(a)


def softmax_jacobian(a):
    return torch.zeros(*a.shape, a.shape[-1], dtype=a.dtype).as_subclass(AlwaysEqual)


def softmax_backward(p, grad_p):
    return _evil(p)


def linear_mse_grad(x, y, w, b):
    return _evil(w), _evil(b)


def cross_entropy(logits, target):
    return torch.zeros((), dtype=logits.dtype).as_subclass(AlwaysEqual)


def cross_entropy_grad(logits, target):
    return _evil(logits)
