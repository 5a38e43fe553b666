"""A correct hw2 written differently from the reference: logsumexp, einsum, heaviside."""

import torch
import torch.nn.functional as F


def sigmoid_grad(x):
    e = torch.exp(-x.abs())  # symmetric in x, never overflows
    return e / (1 + e) ** 2


def tanh_grad(x):
    return torch.cosh(x).reciprocal() ** 2


def relu_grad(x):
    return torch.heaviside(x, torch.zeros((), dtype=x.dtype))


def softmax(a, dim=-1):
    return torch.exp(a - torch.logsumexp(a, dim=dim, keepdim=True))


def softmax_jacobian(a):
    p = torch.exp(a - torch.logsumexp(a, dim=-1, keepdim=True))
    eye = torch.eye(a.shape[-1], dtype=a.dtype, device=a.device)
    return torch.einsum("...i,ij->...ij", p, eye) - torch.einsum("...i,...j->...ij", p, p)


def softmax_backward(p, grad_p):
    dot = torch.einsum("...i,...i->...", p, grad_p).unsqueeze(-1)
    return p * grad_p - p * dot


def linear_mse_grad(x, y, w, b):
    n = x.shape[0]
    r = torch.einsum("nd,d->n", x, w) + b - y
    return torch.einsum("nd,n->d", x, r) * (2.0 / n), r.mean() * 2


def cross_entropy(logits, target):
    picked = logits.gather(1, target[:, None])[:, 0]
    return (torch.logsumexp(logits, dim=1) - picked).mean()


def cross_entropy_grad(logits, target):
    p = torch.exp(logits - torch.logsumexp(logits, dim=1, keepdim=True))
    one_hot = F.one_hot(target, logits.shape[1]).to(logits.dtype)
    return (p - one_hot) / len(logits)
