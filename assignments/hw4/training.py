"""hw4: classifiers and training tricks.

Fill in every function and class below; each one is a graded part. Run ``grade check hw4``
after each one to see which parts are right and how the others differ from PyTorch.

General rules (see each docstring for the details):
- Inputs are ``torch.Tensor``s of float32 or float64, on the CPU or a GPU. Results keep the
  input's dtype and device (create new tensors with ``dtype=x.dtype, device=x.device``).
- Do not modify the inputs in place.
- No Python loops over tensor elements: the tests use sizes at which they run out of time.
- Gradients of your tensor results are checked against autograd, so keep the computation in
  torch (no ``.item()``, ``.data``, ``.numpy()`` on values that need a gradient).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import torch
import torch.nn.functional as F  # noqa: F401 - for train_step
from torch import nn


class MLP(nn.Module):
    """A fully connected classifier: ``Linear → ReLU → … → Linear`` (logits out).

    ``MLP(sizes=(784, 200, 200, 10), dropout=0.0)`` stores ``self.model = nn.Sequential(...)``
    holding, for each pair of consecutive sizes, an ``nn.Linear(sizes[i], sizes[i + 1])``;
    every Linear but the last is followed by ``nn.ReLU()`` and, when ``dropout > 0``, by
    ``nn.Dropout(dropout)`` right after that ReLU. There is NO activation after the last
    Linear: the model outputs logits for ``F.cross_entropy`` (the notes put a ReLU there,
    which is a mistake: it clips every negative logit to 0).

    So ``MLP((784, 200, 200, 10))`` has the state_dict keys ``model.0.weight``,
    ``model.0.bias``, ``model.2.weight``, ``model.2.bias``, ``model.4.weight``,
    ``model.4.bias``; with ``dropout=0.5`` they are ``model.0.*``, ``model.3.*``, ``model.6.*``.

    Initialisation: every Linear weight is Kaiming-normal with ``mode="fan_in"`` and the
    ReLU gain, i.e. drawn from ``N(0, 2 / fan_in)`` (std ``sqrt(2 / in_features)``); every
    bias is zero. See ``nn.init.kaiming_normal_`` and ``nn.init.zeros_``.

    ``forward(x)`` takes ``x`` of shape ``[N, sizes[0]]`` and returns ``[N, sizes[-1]]``.
    """

    def __init__(self, sizes: Sequence[int] = (784, 200, 200, 10), dropout: float = 0.0) -> None:
        super().__init__()
        raise NotImplementedError

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError


def accuracy(logits: torch.Tensor, target: torch.Tensor) -> float:
    """The fraction of rows whose most probable class (argmax over dim 1) equals the target.

    Args:
        logits: ``[N, C]``, float32 or float64 (no ties within a row in the tests).
        target: ``[N]``, int64 class indices in ``[0, C)``.
    Returns:
        A Python ``float`` in ``[0, 1]`` (not a tensor: use ``.item()``).
    Example:
        ``accuracy(torch.tensor([[2., 1.], [0., 3.], [1., 0.]]), torch.tensor([0, 1, 1]))``
        is ``0.6666666666666666`` (2 of 3 rows are right).
    """
    raise NotImplementedError


def l1_penalty(params: Iterable[torch.Tensor]) -> torch.Tensor:
    """The L1 penalty ``Σ |w|`` over every element of every tensor in ``params``.

    Args:
        params: an iterable of tensors of any shapes (e.g. ``model.parameters()``, which
            can be iterated only once), float32 or float64.
    Returns:
        A 0-d tensor of the params' dtype; its gradients with respect to every param are
        checked (``sign(w)``).
    Example:
        ``l1_penalty([torch.tensor([1., -2.]), torch.tensor([[3.]])])`` is ``tensor(6.)``.
    """
    raise NotImplementedError


def l2_penalty(params: Iterable[torch.Tensor]) -> torch.Tensor:
    """The L2 penalty ``½ Σ w²`` over every element of every tensor in ``params``.

    Note the ``½``: its gradient is exactly ``w``, which is what weight decay adds.

    Args:
        params: an iterable of tensors of any shapes, float32 or float64 (may be a
            one-shot iterator such as ``model.parameters()``).
    Returns:
        A 0-d tensor of the params' dtype; gradients are checked.
    Example:
        ``l2_penalty([torch.tensor([1., -2.]), torch.tensor([[3.]])])`` is ``tensor(7.)``.
    """
    raise NotImplementedError


def sgd_step(params: list[torch.Tensor], grads: list[torch.Tensor],
             velocities: list[torch.Tensor | None], lr: float, momentum: float = 0.0,
             weight_decay: float = 0.0) -> tuple[list[torch.Tensor], list[torch.Tensor]]:
    """One step of SGD with momentum and weight decay, in PyTorch's convention.

    For each parameter ``w`` with gradient ``g`` and velocity ``v``:

        g ← g + weight_decay · w          (weight decay first, before momentum)
        v ← g                             if v is None (the first step)
        v ← momentum · v + g              otherwise
        w ← w − lr · v

    With ``momentum = 0`` this is plain SGD and the returned velocity is just the (decayed)
    gradient. This is exactly ``torch.optim.SGD(params, lr, momentum, weight_decay=...)``
    (dampening 0, no Nesterov); the tests run 10 steps, feeding back your outputs.

    Args:
        params, grads: lists of tensors, matching shapes, float32 or float64.
        velocities: a list of tensors or ``None`` (all ``None`` on the first step).
        lr, momentum, weight_decay: Python floats.
    Returns:
        ``(new_params, new_velocities)``: two lists of new tensors. The inputs must not be
        modified (no ``w -= ...``, ``add_``, ``mul_`` on them).
    Example:
        ``sgd_step([torch.tensor([1.])], [torch.tensor([0.5])], [None], lr=0.1,
        momentum=0.9, weight_decay=0.1)`` is ``([tensor([0.94])], [tensor([0.6])])``.
    Forbidden: ``torch.optim.*``.
    """
    raise NotImplementedError


def dropout(x: torch.Tensor, p: float, training: bool,
            generator: torch.Generator) -> torch.Tensor:
    """Inverted dropout with a given random generator.

    In training, draw the mask exactly like this (the tests draw the same numbers)::

        keep = torch.rand(x.shape, generator=generator, dtype=x.dtype, device=x.device) >= p

    and return ``x * keep / (1 − p)``: the kept units are scaled up so that the expected
    output equals ``x``. ``p = 1`` drops everything: return zeros (with zero gradients, not
    nan from ``0 / 0``). When ``training`` is False, return ``x`` unchanged (no scaling).

    Args:
        x: any shape, float32 or float64.
        p: the probability of dropping a unit, ``0 <= p <= 1``.
        training: whether the model is in training mode.
        generator: a seeded ``torch.Generator`` on ``x``'s device; draw from it only once.
    Returns:
        A tensor shaped like ``x``; its gradient with respect to ``x`` is checked.
    Example:
        With ``p = 0.5`` every element of the result is either 0 or ``2 * x``.
    Forbidden: ``F.dropout``, ``nn.Dropout`` (and the other dropout functions of torch).
    """
    raise NotImplementedError


def step_lr(base_lr: float, epoch: int, step_size: int, gamma: float) -> float:
    """The learning rate of ``torch.optim.lr_scheduler.StepLR`` after ``epoch`` calls of
    ``scheduler.step()``: ``base_lr`` multiplied by ``gamma`` once every ``step_size`` epochs.

    Args:
        base_lr: the optimizer's initial learning rate.
        epoch: how many epochs have ended (0 before the first ``scheduler.step()``).
        step_size, gamma: as in ``StepLR``.
    Returns:
        A Python ``float``.
    Example:
        ``step_lr(0.1, epoch, step_size=3, gamma=0.5)`` for ``epoch = 0, 1, 2, 3, 4, 5, 6``
        is ``0.1, 0.1, 0.1, 0.05, 0.05, 0.05, 0.025``.
    """
    raise NotImplementedError


def kfold_indices(n: int, k: int) -> list[tuple[torch.Tensor, torch.Tensor]]:
    """The ``k`` folds of k-fold cross-validation over the samples ``0 … n − 1``.

    Split ``range(n)`` into ``k`` contiguous blocks, in order; the first ``n % k`` blocks
    have ``n // k + 1`` elements, the others ``n // k``. Fold ``i`` validates on block ``i``
    and trains on all the other samples.

    Args:
        n: the number of samples; k: the number of folds, ``1 <= k <= n``.
    Returns:
        A list of ``k`` tuples ``(train_idx, val_idx)`` of int64 tensors, each ascending.
    Example:
        ``kfold_indices(5, 2)`` is
        ``[(tensor([3, 4]), tensor([0, 1, 2])), (tensor([0, 1, 2]), tensor([3, 4]))]``.
    """
    raise NotImplementedError


def train_step(model: nn.Module, optimizer: torch.optim.Optimizer, x: torch.Tensor,
               y: torch.Tensor) -> float:
    """One training step of a classifier.

    Zero the gradients, compute the cross-entropy loss (``F.cross_entropy``, a mean over the
    batch) of ``model(x)`` against ``y``, back-propagate, and take one optimizer step.

    Args:
        model: an ``nn.Module`` mapping ``[N, D]`` to logits ``[N, C]``.
        optimizer: an optimizer over ``model.parameters()`` (the tests use SGD with momentum
            and call ``train_step`` several times in a row).
        x: ``[N, D]`` inputs; y: ``[N]`` int64 class indices.
    Returns:
        The loss before the step, as a Python ``float``.
    """
    raise NotImplementedError
