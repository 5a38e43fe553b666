"""hw1: tensors, broadcasting, gather (reference solution)."""

from __future__ import annotations

from collections.abc import Sequence

import torch


def broadcast_shape(a: Sequence[int], b: Sequence[int]) -> tuple[int, ...]:
    """The shape that broadcasting ``a`` with ``b`` gives (PyTorch's rule)."""
    a, b = tuple(int(s) for s in a), tuple(int(s) for s in b)
    n = max(len(a), len(b))
    padded_a = (1,) * (n - len(a)) + a
    padded_b = (1,) * (n - len(b)) + b
    sizes = []
    for x, y in zip(padded_a, padded_b, strict=True):
        if x == y or y == 1:
            sizes.append(x)
        elif x == 1:
            sizes.append(y)
        else:
            raise ValueError(f"shapes {a} and {b} cannot be broadcast: sizes {x} and {y} "
                             "differ and neither is 1")
    return tuple(sizes)


def expand_to(t: torch.Tensor, shape: Sequence[int]) -> torch.Tensor:
    """``t`` broadcast to ``shape`` as a view (no copy)."""
    shape = tuple(int(s) for s in shape)
    if len(shape) < t.dim():
        raise ValueError(f"cannot expand a tensor of shape {tuple(t.shape)} to {shape}: "
                         "the target has fewer dimensions")
    for have, want in zip(reversed(t.shape), reversed(shape), strict=False):
        if have != want and have != 1:
            raise ValueError(f"cannot expand a tensor of shape {tuple(t.shape)} to {shape}")
    return t.expand(shape)


def add_channel_bias(x: torch.Tensor, bias: torch.Tensor) -> torch.Tensor:
    """``x [B, C, H, W] + bias [C]``, one bias per channel."""
    return x + bias.unsqueeze(1).unsqueeze(2)


def topk_labels(prob: torch.Tensor, labels: torch.Tensor, k: int) -> torch.Tensor:
    """The labels of each row's ``k`` most probable classes, most probable first."""
    idx = prob.topk(k, dim=1).indices
    return labels.unsqueeze(0).expand(prob.shape[0], -1).gather(1, idx)


def pick(logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """``out[i] = logits[i, target[i]]``."""
    return logits.gather(1, target.unsqueeze(1)).squeeze(1)


def vector_norm(x: torch.Tensor, p: float, dim: int | None = None,
                keepdim: bool = False) -> torch.Tensor:
    """``(Σ |x|^p)^(1/p)`` over ``dim`` (every element when ``dim`` is None)."""
    total = x.abs().pow(p).sum(dim=dim, keepdim=keepdim)
    return total.pow(1.0 / p)


def one_hot(target: torch.Tensor, num_classes: int) -> torch.Tensor:
    """One-hot float32 rows ``[N, num_classes]`` written with ``scatter_``."""
    bad = (target < 0) | (target >= num_classes)
    if bool(bad.any()):
        value = int(target[bad][0])
        raise ValueError(f"target {value} is outside [0, {num_classes}) for one_hot with "
                         f"{num_classes} classes")
    out = torch.zeros(target.shape[0], num_classes, dtype=torch.float32, device=target.device)
    return out.scatter_(1, target.view(-1, 1), 1.0)


def to_patches(x: torch.Tensor, p: int) -> torch.Tensor:
    """Non-overlapping ``p x p`` patches ``[N, (H/p)*(W/p), C*p*p]``, row-major over the grid."""
    n, c, h, w = x.shape
    if h % p or w % p:
        raise ValueError(f"to_patches: an image of {h}x{w} cannot be cut into {p}x{p} patches "
                         f"(H and W must be divisible by {p})")
    grid = x.reshape(n, c, h // p, p, w // p, p).permute(0, 2, 4, 1, 3, 5)
    return grid.reshape(n, (h // p) * (w // p), c * p * p)
