# Case: segfault (a crash in native code).
# softmax_backward dereferences a null pointer (SIGSEGV, an access violation on Windows); every
# other function is the reference solution.
# Must hold, at every level: softmax_backward fails with status crashed and a message naming the
# segmentation fault; every other part passes; the next submission is graded normally.
import ctypes

import torch


def sigmoid_grad(x: torch.Tensor) -> torch.Tensor:
    s = torch.sigmoid(x)
    return s * (1 - s)


def tanh_grad(x: torch.Tensor) -> torch.Tensor:
    return 1 - torch.tanh(x) ** 2


def relu_grad(x: torch.Tensor) -> torch.Tensor:
    return (x > 0).to(x.dtype)


def softmax(a: torch.Tensor, dim: int = -1) -> torch.Tensor:
    shifted = a - a.amax(dim=dim, keepdim=True).detach()
    e = shifted.exp()
    return e / e.sum(dim=dim, keepdim=True)


def softmax_jacobian(a: torch.Tensor) -> torch.Tensor:
    p = softmax(a, dim=-1)
    return torch.diag_embed(p) - p.unsqueeze(-1) * p.unsqueeze(-2)


def _softmax_backward_unused(p: torch.Tensor, grad_p: torch.Tensor) -> torch.Tensor:
    return p * (grad_p - (grad_p * p).sum(dim=-1, keepdim=True))


def linear_mse_grad(x: torch.Tensor, y: torch.Tensor, w: torch.Tensor,
                    b: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    residual = x @ w + b - y
    n = x.shape[0]
    return 2 * x.T @ residual / n, 2 * residual.sum() / n


def cross_entropy(logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    shifted = logits - logits.amax(dim=1, keepdim=True).detach()
    log_probs = shifted - shifted.exp().sum(dim=1, keepdim=True).log()
    return -log_probs.gather(1, target.unsqueeze(1)).mean()


def cross_entropy_grad(logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    p = softmax(logits, dim=1)
    one_hot = torch.zeros_like(p).scatter_(1, target.unsqueeze(1), 1.0)
    return (p - one_hot) / logits.shape[0]


def softmax_backward(p, grad_p):
    ctypes.string_at(0)  # reads address 0: the process dies with SIGSEGV
    return p
