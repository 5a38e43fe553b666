"""hw1: tensors, broadcasting, gather, scatter and dimension transforms.

Fill in every function below; each one is a graded part. Run ``grade check hw1`` after each
function to see which parts are right and how the others differ from PyTorch.

General rules (see each docstring for the details):
- Inputs are ``torch.Tensor``s of float32 or float64 (integer where stated), on the CPU or a
  GPU. Results keep the input's dtype and device.
- Do not modify the inputs in place.
- No Python loops over tensor elements: the tests use sizes at which they run out of time.
  (A loop over the *dimensions* of a shape, as in ``broadcast_shape``, is fine.)
- Gradients of your results are checked against autograd, so keep the computation in torch
  (no ``.item()``, ``.data``, ``.numpy()`` on values that need a gradient).
"""

from __future__ import annotations

from collections.abc import Sequence

import torch


def broadcast_shape(a: Sequence[int], b: Sequence[int]) -> tuple[int, ...]:
    """The shape of the result when tensors of shapes ``a`` and ``b`` are broadcast together.

    The rule: align the two shapes from the *last* dimension; a missing leading dimension
    counts as 1; in each position, equal sizes stay, and a size of 1 takes the other size.
    Any other pair of sizes (say 3 and 4, or 0 and 2) cannot be broadcast: raise
    ``ValueError`` with a message that names both shapes.

    Args:
        a, b: shapes as sequences of Python ints (tuples, lists or ``torch.Size``); either
            may be empty (the shape of a 0-d tensor) and sizes may be 0.
    Returns:
        A ``tuple`` of Python ints.
    Examples:
        ``broadcast_shape((4, 32, 14, 14), (14, 14))`` is ``(4, 32, 14, 14)``;
        ``broadcast_shape((0, 3), (1, 3))`` is ``(0, 3)``;
        ``broadcast_shape((), (2,))`` is ``(2,)``;
        ``broadcast_shape((2, 3), (4, 3))`` raises ``ValueError``.
    Forbidden: ``torch.broadcast_shapes``, ``torch.broadcast_tensors``, ``torch.broadcast_to``.
    """
    raise NotImplementedError


def expand_to(t: torch.Tensor, shape: Sequence[int]) -> torch.Tensor:
    """Broadcast ``t`` to ``shape`` as a *view*: no data is copied.

    New leading dimensions may be added and dimensions of size 1 may grow; everything else
    must match (the rule of ``broadcast_shape``, where the result must be exactly ``shape``).
    The result shares ``t``'s storage, and every dimension that was expanded has stride 0;
    this is checked at run time, so any copy fails, however it was made.

    Args:
        t: any shape, any dtype.
        shape: the target shape, a sequence of Python ints.
    Returns:
        A view of ``t`` with shape ``shape``. Gradients flow back to ``t`` (summed over the
        expanded dimensions, as autograd does for a view).
    Raises:
        ``ValueError`` when ``t`` cannot be broadcast to ``shape`` (for example shape
        ``(3, 2)`` to ``(3, 4)``, or ``(2, 3)`` to ``(3,)``).
    Example:
        ``expand_to(torch.tensor([[1.], [2.]]), (3, 2, 4))`` has shape ``(3, 2, 4)`` and
        strides ``(0, 1, 0)``.
    Forbidden: ``Tensor.repeat``, ``torch.tile``, ``torch.repeat_interleave``,
    ``Tensor.repeat_interleave`` (they copy).
    """
    raise NotImplementedError


def add_channel_bias(x: torch.Tensor, bias: torch.Tensor) -> torch.Tensor:
    """Add one bias per channel: ``out[b, c, h, w] = x[b, c, h, w] + bias[c]``.

    ``bias`` has shape ``[C]``; broadcasting aligns dimensions from the right, so ``x + bias``
    would add it along ``W``. Give it the shape ``[C, 1, 1]`` (or ``[1, C, 1, 1]``) first, e.g.
    with ``unsqueeze``.

    Args:
        x: ``[B, C, H, W]``, float32 or float64.
        bias: ``[C]``, same dtype.
    Returns:
        ``[B, C, H, W]``. Gradients with respect to ``x`` and ``bias`` are checked.
    Example:
        With ``x = torch.zeros(1, 2, 1, 2)`` and ``bias = torch.tensor([1., 2.])`` the result
        is ``[[[[1., 1.]], [[2., 2.]]]]``.
    """
    raise NotImplementedError


def topk_labels(prob: torch.Tensor, labels: torch.Tensor, k: int) -> torch.Tensor:
    """The labels of each row's ``k`` most probable classes, most probable first.

    Use ``topk`` for the indices of the ``k`` largest probabilities in each row, then
    ``gather`` (or indexing) to turn indices into labels.

    Args:
        prob: ``[N, K]``, float32 or float64 (each row a distribution; no ties).
        labels: ``[K]``, any dtype (e.g. int64 ``torch.arange(10) + 100``): the label of
            each class.
        k: ``1 <= k <= K``.
    Returns:
        ``[N, k]`` with the dtype of ``labels``; ``out[i, 0]`` is the label of row ``i``'s most
        probable class.
    Example:
        ``topk_labels(torch.tensor([[0.1, 0.7, 0.2]]), torch.tensor([10, 11, 12]), 2)`` is
        ``tensor([[11, 12]])``.
    """
    raise NotImplementedError


def pick(logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """One entry per row: ``out[i] = logits[i, target[i]]``, with ``gather``.

    Args:
        logits: ``[N, C]``, float32 or float64.
        target: ``[N]``, int64, each in ``0 .. C-1``.
    Returns:
        ``[N]`` with the dtype of ``logits``. Gradients with respect to ``logits`` are checked.
    Example:
        ``pick(torch.tensor([[1., 2.], [3., 4.]]), torch.tensor([1, 0]))`` is
        ``tensor([2., 3.])``.
    Allowed: advanced indexing ``logits[torch.arange(N), target]``; not allowed: Python loops.
    """
    raise NotImplementedError


def vector_norm(x: torch.Tensor, p: float, dim: int | None = None,
                keepdim: bool = False) -> torch.Tensor:
    """The p-norm ``(Σ |x_i|^p)^(1/p)`` over ``dim``, or over all elements when ``dim`` is None.

    Args:
        x: any shape, float32 or float64.
        p: any finite float ``>= 1`` (1, 2, 3.5, ...).
        dim: the dimension to reduce, or None for all of them.
        keepdim: keep the reduced dimension(s) with size 1, like ``torch.sum``.
    Returns:
        The norms, with the shape ``torch.linalg.vector_norm(x, p, dim, keepdim)`` gives.
        Values and gradients (for inputs without zeros) are compared with it.
    Example:
        ``vector_norm(torch.tensor([3., -4.]), 2)`` is ``tensor(5.)``;
        ``vector_norm(torch.tensor([3., -4.]), 1)`` is ``tensor(7.)``.
    Forbidden: ``torch.norm``, ``torch.linalg.*norm``, ``Tensor.norm``,
    ``torch.functional.norm``.
    """
    raise NotImplementedError


def one_hot(target: torch.Tensor, num_classes: int) -> torch.Tensor:
    """One-hot rows: ``out[i, target[i]] = 1`` and every other entry 0, with ``scatter_``.

    Make a zero matrix ``[N, num_classes]`` and write ones into it with
    ``Tensor.scatter_(dim, index, value)`` along dim 1, the index being ``target`` shaped
    ``[N, 1]`` (the notes' ``scatter``, 5.5).

    Args:
        target: ``[N]``, int64 class indices (N may be 0).
        num_classes: the number of columns, ``>= 1``.
    Returns:
        ``[N, num_classes]``, float32 (whatever the dtype of ``target``), on ``target``'s
        device. Values are compared exactly.
    Raises:
        ``ValueError`` when a target is outside ``[0, num_classes)``; the message names the
        bad value (say ``-1`` or ``10``). Check all targets at once, without a Python loop.
    Example:
        ``one_hot(torch.tensor([2, 0]), 3)`` is ``tensor([[0., 0., 1.], [1., 0., 0.]])``.
    Forbidden: ``F.one_hot``.
    """
    raise NotImplementedError


def to_patches(x: torch.Tensor, p: int) -> torch.Tensor:
    """Cut each image into non-overlapping ``p x p`` patches, one flattened patch per row.

    The patches are numbered row-major over the patch grid (left to right, then top to
    bottom), and each patch is flattened in the order ``[C, p, p]``: channel first, then the
    patch's rows, then its columns. So for a patch grid of ``H/p`` rows and ``W/p`` columns,
    ``out[n, i * (W // p) + j]`` is ``x[n, :, i*p:(i+1)*p, j*p:(j+1)*p].reshape(-1)``.
    Use only ``view`` / ``reshape`` and ``permute`` (the notes' dimension transforms, 4.4):
    split ``H`` into ``(H/p, p)`` and ``W`` into ``(W/p, p)``, move the grid dimensions in
    front of the patch dimensions, and merge.

    Args:
        x: ``[N, C, H, W]``, float32 or float64; ``H`` and ``W`` divisible by ``p``.
        p: the patch size, ``>= 1``.
    Returns:
        ``[N, (H/p) * (W/p), C * p * p]``, the input's dtype. Values and gradients are
        checked.
    Raises:
        ``ValueError`` when ``H`` or ``W`` is not divisible by ``p``.
    Example:
        For ``x = torch.arange(16.).view(1, 1, 4, 4)`` and ``p = 2`` the first row is
        ``tensor([0., 1., 4., 5.])`` (the top-left patch) and the second ``[2., 3., 6., 7.]``.
    Forbidden: ``F.unfold``, ``Tensor.unfold``, ``F.pixel_unshuffle`` (and ``nn.Unfold``,
    ``nn.PixelUnshuffle``).
    """
    raise NotImplementedError
