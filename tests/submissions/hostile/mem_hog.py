# Case: mem_hog (security notes 5.12, attack A13).
# Functions allocate far more than the memory budget: a 64 GiB tensor, a 16 GiB bytearray, a
# 16 GiB MAP_SHARED anonymous mapping and a memfd of 16 GiB, touching the pages they get.
# Must hold, at both levels: those tests fail (error or crashed), the judge survives and the
# other parts (correct) get full marks.
import mmap
import os

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


def cross_entropy_grad(logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    p = softmax(logits, dim=1)
    one_hot = torch.zeros_like(p).scatter_(1, target.unsqueeze(1), 1.0)
    return (p - one_hot) / logits.shape[0]


def sigmoid_grad(x):  # noqa: F811
    big = torch.empty(1 << 34, dtype=torch.float32)
    big.fill_(1)
    return big[: x.numel()].reshape(x.shape)


def tanh_grad(x):  # noqa: F811
    data = bytearray(16 << 30)
    return torch.zeros_like(x) + len(data)


def relu_grad(x):  # noqa: F811
    m = mmap.mmap(-1, 16 << 30, flags=mmap.MAP_SHARED)
    for i in range(0, len(m), 4096):
        m[i] = 1
    return torch.zeros_like(x)


def softmax_backward(p, grad_p):  # noqa: F811
    fd = os.memfd_create("hog")
    os.ftruncate(fd, 16 << 30)
    m = mmap.mmap(fd, 16 << 30)
    for i in range(0, len(m), 4096):
        m[i] = 1
    return torch.zeros_like(p)
