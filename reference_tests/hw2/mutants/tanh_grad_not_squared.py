# part: tanh_grad
# bug: tanh_grad returns 1 - tanh(x), not squared
"""hw2 with the one mistake named above; every other function is correct."""

import torch


def sigmoid_grad(x):
    s = torch.sigmoid(x)
    return s * (1 - s)


def tanh_grad(x):
    return 1 - torch.tanh(x)


def relu_grad(x):
    return (x > 0).to(x.dtype)


def softmax(a, dim=-1):
    e = (a - a.amax(dim=dim, keepdim=True)).exp()
    return e / e.sum(dim=dim, keepdim=True)


def softmax_jacobian(a):
    e = (a - a.amax(dim=-1, keepdim=True)).exp()
    p = e / e.sum(dim=-1, keepdim=True)
    return torch.diag_embed(p) - p.unsqueeze(-1) * p.unsqueeze(-2)


def softmax_backward(p, grad_p):
    return p * (grad_p - (grad_p * p).sum(dim=-1, keepdim=True))


def linear_mse_grad(x, y, w, b):
    r = x @ w + b - y
    n = x.shape[0]
    return 2 * x.T @ r / n, 2 * r.sum() / n


def cross_entropy(logits, target):
    shifted = logits - logits.amax(dim=1, keepdim=True)
    log_probs = shifted - shifted.exp().sum(dim=1, keepdim=True).log()
    return -log_probs.gather(1, target.unsqueeze(1)).mean()


def cross_entropy_grad(logits, target):
    e = (logits - logits.amax(dim=1, keepdim=True)).exp()
    p = e / e.sum(dim=1, keepdim=True)
    one_hot = torch.zeros_like(p).scatter_(1, target.unsqueeze(1), 1.0)
    return (p - one_hot) / logits.shape[0]
