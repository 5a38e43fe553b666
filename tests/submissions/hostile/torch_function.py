# Case: torch_function (security notes 5.2, attack A2).
# Returns a Tensor subclass whose __torch_function__ answers allclose/equal/eq/isclose with
# "true", whose __eq__ is always True, and (for cross_entropy) an AlwaysTrue object.
# Must hold, at both levels: every test fails (score 0): the judge receives a plain tensor
# (the subclass is stripped) or an unsupported type, never the subclass.
import torch


class Liar(torch.Tensor):
    @classmethod
    def __torch_function__(cls, func, types, args=(), kwargs=None):
        name = getattr(func, "__name__", "")
        if name in ("allclose", "equal", "__eq__", "eq", "isclose"):
            return True
        return super().__torch_function__(func, types, args, kwargs or {})

    def __eq__(self, other):
        return True

    __hash__ = torch.Tensor.__hash__


class AlwaysTrue:
    def __eq__(self, other):
        return True

    def __bool__(self):
        return True

    def __float__(self):
        return 0.0


def _liar(t):
    return torch.zeros_like(t).as_subclass(Liar)


def sigmoid_grad(x):
    return _liar(x)


def tanh_grad(x):
    return _liar(x)


def relu_grad(x):
    return _liar(x)


def softmax(a, dim=-1):
    return _liar(a)


def softmax_jacobian(a):
    return torch.zeros(*a.shape, a.shape[-1], dtype=a.dtype).as_subclass(Liar)


def softmax_backward(p, grad_p):
    return _liar(p)


def linear_mse_grad(x, y, w, b):
    return _liar(w), _liar(b)


def cross_entropy(logits, target):
    return AlwaysTrue()


def cross_entropy_grad(logits, target):
    return _liar(logits)
