# Fault: kill_everyone. cross_entropy_grad calls kill(-1): every process it may signal.
# As root without a pid namespace (the tests' stand-in for a grader without root), only the
# probe (signal 0) is sent, since a real SIGKILL there would reach the whole machine if the
# filter failed; the filter decides on the target, never the signal, so the probe tells.
import os
import signal

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


def softmax_backward(p: torch.Tensor, grad_p: torch.Tensor) -> torch.Tensor:
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


def _cross_entropy_grad_unused(logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    p = softmax(logits, dim=1)
    one_hot = torch.zeros_like(p).scatter_(1, target.unsqueeze(1), 1.0)
    return (p - one_hot) / logits.shape[0]


def cross_entropy_grad(logits, target):
    own_namespace = os.getppid() == 0  # the pid namespace's init sees no parent
    if os.geteuid() == 0 and not own_namespace:
        os.kill(-1, 0)  # PermissionError from the filter; a plain return would be a bug
        raise RuntimeError("kill(-1) was allowed")
    os.kill(-1, signal.SIGKILL)
    raise RuntimeError("still alive after the kill: no points for this part")
