# A correct hw2 written differently: softmax through torch.func.vmap over rows of a logsumexp
# formula (softmax forbids the softmax kernels, not torch.func; softmax_jacobian, which forbids
# torch.func, has its own formula), cross-entropy through logsumexp minus gather, and a helper
# of the student's own, `log_softmax`, that cross_entropy and cross_entropy_grad both call.
# Full marks, and no warning.
from __future__ import annotations

import torch


def sigmoid_grad(x: torch.Tensor) -> torch.Tensor:
    s = torch.sigmoid(x)
    return s * (1 - s)


def tanh_grad(x: torch.Tensor) -> torch.Tensor:
    return 1 - torch.tanh(x) ** 2


def relu_grad(x: torch.Tensor) -> torch.Tensor:
    return (x > 0).to(x.dtype)


def softmax(a: torch.Tensor, dim: int = -1) -> torch.Tensor:
    rows = a.movedim(dim, -1)
    flat = rows.reshape(-1, rows.shape[-1])
    out = torch.func.vmap(lambda r: torch.exp(r - torch.logsumexp(r, dim=0)))(flat)
    return out.reshape(rows.shape).movedim(-1, dim)


def softmax_jacobian(a: torch.Tensor) -> torch.Tensor:
    p = torch.exp(a - torch.logsumexp(a, dim=-1, keepdim=True))
    return torch.diag_embed(p) - p.unsqueeze(-1) * p.unsqueeze(-2)


def softmax_backward(p: torch.Tensor, grad_p: torch.Tensor) -> torch.Tensor:
    return p * (grad_p - (grad_p * p).sum(dim=-1, keepdim=True))


def linear_mse_grad(x: torch.Tensor, y: torch.Tensor, w: torch.Tensor,
                    b: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    residual = x @ w + b - y
    n = x.shape[0]
    return 2 * x.T @ residual / n, 2 * residual.sum() / n


def log_softmax(logits: torch.Tensor) -> torch.Tensor:
    """Row-wise log-softmax by log-sum-exp: a helper of this file, used by two parts."""
    return logits - torch.logsumexp(logits, dim=1, keepdim=True)


def cross_entropy(logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    return -log_softmax(logits).gather(1, target.unsqueeze(1)).mean()


def cross_entropy_grad(logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    one_hot = torch.zeros_like(logits).scatter_(1, target.unsqueeze(1), 1.0)
    return (log_softmax(logits).exp() - one_hot) / logits.shape[0]
