"""hw5 reference solution: convolution, pooling, BatchNorm, residual blocks."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


def conv2d_output_size(h: int, w: int, kernel_size: int, stride: int = 1,
                       padding: int = 0) -> tuple[int, int]:
    return ((h + 2 * padding - kernel_size) // stride + 1,
            (w + 2 * padding - kernel_size) // stride + 1)


def conv2d(x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor | None = None,
           stride: int = 1, padding: int = 0) -> torch.Tensor:
    kh, kw = weight.shape[-2:]
    if padding:
        x = F.pad(x, (padding, padding, padding, padding))
    # [N, Cin, H', W', kh, kw]: every window of the (padded) input, as a strided view.
    patches = x.unfold(2, kh, stride).unfold(3, kw, stride)
    out = torch.einsum("nchwij,ocij->nohw", patches, weight)
    if bias is not None:
        out = out + bias.view(1, -1, 1, 1)
    return out


def _windows(x: torch.Tensor, kernel_size: int, stride: int | None) -> torch.Tensor:
    stride = kernel_size if stride is None else stride
    return x.unfold(2, kernel_size, stride).unfold(3, kernel_size, stride)


def max_pool2d(x: torch.Tensor, kernel_size: int, stride: int | None = None) -> torch.Tensor:
    return _windows(x, kernel_size, stride).amax(dim=(-2, -1))


def avg_pool2d(x: torch.Tensor, kernel_size: int, stride: int | None = None) -> torch.Tensor:
    return _windows(x, kernel_size, stride).mean(dim=(-2, -1))


def upsample_nearest(x: torch.Tensor, scale_factor: int) -> torch.Tensor:
    return x.repeat_interleave(scale_factor, dim=2).repeat_interleave(scale_factor, dim=3)


def batch_norm(x: torch.Tensor, gamma: torch.Tensor, beta: torch.Tensor,
               running_mean: torch.Tensor, running_var: torch.Tensor, training: bool,
               momentum: float = 0.1, eps: float = 1e-5,
               ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    dims = [0, *range(2, x.dim())]
    shape = [1, -1] + [1] * (x.dim() - 2)
    if training:
        mean = x.mean(dim=dims)
        var = x.var(dim=dims, unbiased=False)
        n = x.numel() // x.shape[1]
        new_mean = (1 - momentum) * running_mean + momentum * mean.detach()
        new_var = (1 - momentum) * running_var + momentum * var.detach() * (n / (n - 1))
    else:
        mean, var = running_mean, running_var
        new_mean, new_var = running_mean.detach().clone(), running_var.detach().clone()
    x_hat = (x - mean.view(shape)) / torch.sqrt(var.view(shape) + eps)
    return x_hat * gamma.view(shape) + beta.view(shape), new_mean, new_var


class BatchNorm2d(nn.Module):
    def __init__(self, num_features: int, eps: float = 1e-5, momentum: float = 0.1) -> None:
        super().__init__()
        self.eps = eps
        self.momentum = momentum
        self.weight = nn.Parameter(torch.ones(num_features))
        self.bias = nn.Parameter(torch.zeros(num_features))
        self.register_buffer("running_mean", torch.zeros(num_features))
        self.register_buffer("running_var", torch.ones(num_features))
        self.register_buffer("num_batches_tracked", torch.tensor(0, dtype=torch.long))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y, new_mean, new_var = batch_norm(x, self.weight, self.bias, self.running_mean,
                                          self.running_var, self.training, self.momentum,
                                          self.eps)
        if self.training:
            self.running_mean.copy_(new_mean)
            self.running_var.copy_(new_var)
            self.num_batches_tracked += 1
        return y


class ResBlock(nn.Module):
    def __init__(self, ch_in: int, ch_out: int, stride: int = 1) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(ch_in, ch_out, 3, stride=stride, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(ch_out)
        self.conv2 = nn.Conv2d(ch_out, ch_out, 3, stride=1, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(ch_out)
        self.extra = nn.Sequential()
        if ch_in != ch_out or stride != 1:
            self.extra = nn.Sequential(nn.Conv2d(ch_in, ch_out, 1, stride=stride, bias=False),
                                       nn.BatchNorm2d(ch_out))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = torch.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return torch.relu(out + self.extra(x))


class Flatten(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.reshape(x.shape[0], -1)


class MyLinear(nn.Module):
    def __init__(self, inp: int, outp: int) -> None:
        super().__init__()
        bound = 1 / inp ** 0.5
        self.w = nn.Parameter(torch.empty(outp, inp).uniform_(-bound, bound))
        self.b = nn.Parameter(torch.empty(outp).uniform_(-bound, bound))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x @ self.w.T + self.b
