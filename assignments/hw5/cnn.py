"""hw5: convolution, pooling, BatchNorm, residual blocks.

Fill in every function and class below; each one is a graded part. Run ``grade check hw5``
after each one to see which parts are right and how the others differ from PyTorch.

General rules (see each docstring for the details):
- Images are ``[N, C, H, W]`` tensors of float32 or float64, on the CPU or a GPU. Results keep
  the input's dtype and device (create new tensors with ``dtype=x.dtype, device=x.device``).
- Do not modify the inputs in place.
- No Python loops over pixels or batch elements: ``Tensor.unfold``, ``reshape``, ``einsum``
  and broadcasting do the job (a loop over the few kernel offsets is acceptable).
- Gradients of your results are checked against autograd, so keep the computation in torch
  (no ``.item()``, ``.data``, ``.numpy()`` on values that need a gradient).
- ``F.pad`` is allowed everywhere.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F  # noqa: F401  (F.pad is allowed)
from torch import nn


def conv2d_output_size(h: int, w: int, kernel_size: int, stride: int = 1,
                       padding: int = 0) -> tuple[int, int]:
    """The spatial output size of a convolution (or pooling) with a square kernel.

    Per side: ``⌊(h + 2p − k) / s⌋ + 1``.

    Args:
        h, w: the input's height and width.
        kernel_size: ``k``; stride: ``s``; padding: ``p`` zeros on every side.
    Returns:
        ``(h_out, w_out)``, a tuple of two Python ints.
    Example:
        ``conv2d_output_size(7, 9, 3, stride=2, padding=1)`` is ``(4, 5)``.
    """
    raise NotImplementedError


def conv2d(x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor | None = None,
           stride: int = 1, padding: int = 0) -> torch.Tensor:
    """2-D convolution, exactly like ``F.conv2d`` (which is a cross-correlation: the kernel
    is not flipped).

    ``out[n, o, i, j] = bias[o] + Σ_{c, a, b} xp[n, c, i·s + a, j·s + b] · weight[o, c, a, b]``
    where ``xp`` is ``x`` padded with ``padding`` zeros on each side.

    Args:
        x: ``[N, Cin, H, W]``.
        weight: ``[Cout, Cin, kh, kw]`` (kh and kw may differ).
        bias: ``[Cout]`` or None (no bias).
        stride: the step of the window, the same in both directions.
        padding: zeros added on each of the four sides.
    Returns:
        ``[N, Cout, H', W']`` with ``H' = ⌊(H + 2p − kh)/s⌋ + 1`` (W' likewise). Gradients
        with respect to ``x``, ``weight`` and ``bias`` are checked too.
    Example:
        a ``[1, 1, 3, 3]`` input of ones and a ``[1, 1, 2, 2]`` kernel of ones give
        ``[[[[4., 4.], [4., 4.]]]]``.
    Hint: ``x.unfold(2, kh, s).unfold(3, kw, s)`` is ``[N, Cin, H', W', kh, kw]``: every
    window, as a view; ``torch.einsum`` or a matmul does the rest.
    Forbidden: ``F.conv2d``, ``nn.Conv2d``, ``torch.conv2d``, ``torch.convolution``.
    """
    raise NotImplementedError


def max_pool2d(x: torch.Tensor, kernel_size: int, stride: int | None = None) -> torch.Tensor:
    """Max pooling over ``kernel_size × kernel_size`` windows, without padding.

    Args:
        x: ``[N, C, H, W]``.
        kernel_size: the window's side ``k``.
        stride: the window's step; None means ``kernel_size`` (non-overlapping windows).
    Returns:
        ``[N, C, H', W']`` with ``H' = ⌊(H − k)/s⌋ + 1``, like ``F.max_pool2d``; leftover rows
        and columns that do not fill a window are dropped. The gradient goes to the maximum
        of each window (the tests have no ties).
    Example:
        ``max_pool2d(torch.arange(16.).reshape(1, 1, 4, 4), 2)`` is
        ``[[[[5., 7.], [13., 15.]]]]``.
    Forbidden: ``F.*pool*``, ``nn.*Pool*``.
    """
    raise NotImplementedError


def avg_pool2d(x: torch.Tensor, kernel_size: int, stride: int | None = None) -> torch.Tensor:
    """Average pooling over ``kernel_size × kernel_size`` windows, without padding.

    Same arguments, shapes and defaults as ``max_pool2d``; like ``F.avg_pool2d``.

    Example:
        ``avg_pool2d(torch.arange(16.).reshape(1, 1, 4, 4), 2)`` is
        ``[[[[2.5, 4.5], [10.5, 12.5]]]]``.
    Forbidden: ``F.*pool*``, ``nn.*Pool*``.
    """
    raise NotImplementedError


def upsample_nearest(x: torch.Tensor, scale_factor: int) -> torch.Tensor:
    """Nearest-neighbour upsampling by an integer factor, like
    ``F.interpolate(x, scale_factor=s, mode="nearest")``.

    Args:
        x: ``[N, C, H, W]``.
        scale_factor: an int ``s >= 1``.
    Returns:
        ``[N, C, s·H, s·W]``: ``out[n, c, i, j] = x[n, c, i // s, j // s]``; each pixel
        becomes an ``s × s`` block.
    Example:
        ``upsample_nearest(torch.tensor([[[[1., 2.]]]]), 2)`` is
        ``[[[[1., 1., 2., 2.], [1., 1., 2., 2.]]]]``.
    Forbidden: ``F.interpolate``, ``F.upsample*``, ``nn.Upsample``, ``nn.Upsampling*``.
    """
    raise NotImplementedError


def batch_norm(x: torch.Tensor, gamma: torch.Tensor, beta: torch.Tensor,
               running_mean: torch.Tensor, running_var: torch.Tensor, training: bool,
               momentum: float = 0.1, eps: float = 1e-5,
               ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Batch normalisation, per channel, like ``F.batch_norm``.

    The statistics are taken over every dimension but the channel dim 1 (over N for
    ``[N, C]``, over N, H, W for ``[N, C, H, W]``); ``n`` is the number of values per channel.

    Training: ``μ`` = batch mean, ``σ²`` = *biased* batch variance (divide by n);
    ``y = γ (x − μ) / sqrt(σ² + eps) + β``. The running stats are updated with
    ``new = (1 − momentum)·old + momentum·batch``, using the *unbiased* variance (divide by
    n − 1) for ``running_var``, and returned **without autograd history** (compute them under
    ``torch.no_grad()`` or detach them).

    Eval (``training=False``): normalise with ``running_mean`` and ``running_var`` instead;
    the running stats come back unchanged.

    Args:
        x: ``[N, C]`` or ``[N, C, H, W]``.
        gamma, beta, running_mean, running_var: ``[C]`` each.
        training: which mode.
        momentum, eps: as above.
    Returns:
        ``(y, new_running_mean, new_running_var)``: ``y`` shaped like ``x``, the stats ``[C]``.
        Do not modify any input in place (``F.batch_norm`` does; you return new tensors).
        The gradients of ``y`` with respect to ``x``, ``gamma`` and ``beta`` are checked.
    Example:
        ``x = torch.tensor([[1.], [3.]])``, ``gamma = [1.]``, ``beta = [0.]``,
        ``running_mean = [0.]``, ``running_var = [1.]``, training: ``y ≈ [[-1.], [1.]]``,
        ``new_running_mean = [0.2]``, ``new_running_var = 0.9·1 + 0.1·2 = [1.1]``.
    Forbidden: ``F.batch_norm``, ``nn.BatchNorm*``, ``torch.batch_norm``, ``F.instance_norm``,
    ``F.layer_norm``, ``F.group_norm``.
    """
    raise NotImplementedError


class BatchNorm2d(nn.Module):
    """A drop-in replacement for ``nn.BatchNorm2d(num_features, eps, momentum)``.

    State (the state_dict must have exactly these keys, shapes and dtypes):
        ``weight`` (Parameter, ones ``[C]``), ``bias`` (Parameter, zeros ``[C]``),
        ``running_mean`` (buffer, zeros ``[C]``), ``running_var`` (buffer, ones ``[C]``),
        ``num_batches_tracked`` (buffer, ``torch.tensor(0, dtype=torch.long)``).
        Use ``self.register_buffer(name, tensor)`` for buffers.
    forward(x ``[N, C, H, W]``):
        in training mode (``self.training``) normalise with the batch statistics, update the
        running stats in place (as ``batch_norm`` computes them) and add 1 to
        ``num_batches_tracked``; in eval mode normalise with the running stats and change
        nothing. ``.train()`` / ``.eval()`` switch the mode (nn.Module provides them).
    You may call your ``batch_norm`` here.
    Forbidden: the same as ``batch_norm``.
    """

    def __init__(self, num_features: int, eps: float = 1e-5, momentum: float = 0.1) -> None:
        super().__init__()
        raise NotImplementedError

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError


class ResBlock(nn.Module):
    """A residual block (as in ResNet). ``nn.Conv2d`` and ``nn.BatchNorm2d`` are allowed here.

    Attributes (these names: the tests load a state_dict into them):
        ``conv1``: ``nn.Conv2d(ch_in, ch_out, 3, stride=stride, padding=1, bias=False)``
        ``bn1``: ``nn.BatchNorm2d(ch_out)``
        ``conv2``: ``nn.Conv2d(ch_out, ch_out, 3, stride=1, padding=1, bias=False)``
        ``bn2``: ``nn.BatchNorm2d(ch_out)``
        ``extra`` (the shortcut): ``nn.Sequential()`` (the identity) when
        ``ch_in == ch_out and stride == 1``, else
        ``nn.Sequential(nn.Conv2d(ch_in, ch_out, 1, stride=stride, bias=False),
        nn.BatchNorm2d(ch_out))``.
    forward(x ``[N, ch_in, H, W]``):
        ``out = relu(bn1(conv1(x)))``; ``out = bn2(conv2(out))``;
        return ``relu(out + extra(x))`` (ReLU after the addition), shape
        ``[N, ch_out, H', W']`` with ``H' = ⌊(H − 1)/stride⌋ + 1``.
    """

    def __init__(self, ch_in: int, ch_out: int, stride: int = 1) -> None:
        super().__init__()
        raise NotImplementedError

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError


class Flatten(nn.Module):
    """``[N, d1, d2, ...] -> [N, d1·d2·...]``: keep the batch dimension, flatten the rest.

    Example: an input ``[2, 3, 4, 5]`` gives ``[2, 60]``, in the order of ``x.reshape``.
    Forbidden: ``nn.Flatten``, ``torch.flatten``, ``Tensor.flatten``.
    """

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError


class MyLinear(nn.Module):
    """A fully connected layer: ``forward(x) = x @ w.T + b``.

    Parameters (these names and shapes): ``w`` ``[outp, inp]`` and ``b`` ``[outp]``, as
    ``nn.Parameter``s (any initialisation; the tests load their own values).
    forward(x ``[..., inp]``) returns ``[..., outp]``.
    Forbidden: ``nn.Linear``, ``F.linear``.
    """

    def __init__(self, inp: int, outp: int) -> None:
        super().__init__()
        raise NotImplementedError

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError
