"""hw6: modules, classic CNNs, augmentation, a real training run.

Fill in every function and class below; each one is a graded part. Run ``grade check hw6``
after each one to see which parts are right and how the others differ from PyTorch.

General rules (see each docstring for the details):
- Images are ``[N, C, H, W]`` float tensors (float32 or float64), on the CPU or a GPU.
  Results keep the input's dtype and device.
- Do not modify the inputs in place.
- No Python loops over tensor elements (or over images): the tests use sizes at which they
  run out of time.
- Random choices come from the ``generator`` argument only, drawn exactly as the docstring
  writes them, so that the grader can replay them.
- Gradients of your tensor results are checked against autograd, so keep the computation in
  torch (no ``.item()``, ``.data``, ``.numpy()`` on values that need a gradient).

The data of ``train_classifier``: the training split of the 8x8 handwritten digits is in
``assignments/hw6/data/digits_train.safetensors`` (1,437 images; see the README's "Data"
section). To experiment with it in a notebook::

    from safetensors.torch import load_file
    data = load_file("assignments/hw6/data/digits_train.safetensors")
    x = data["images"].float() / 16     # [1437, 1, 8, 8], values in [0, 1]
    y = data["labels"].long()           # [1437], classes 0..9

The grader passes these tensors to ``train_classifier``; your function must not read files.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F  # noqa: F401 - for random_crop, evaluate, train_classifier
from torch import nn


class LeNet5(nn.Module):
    """The notes' LeNet-5 (10.2, 10.5) for 32x32 images.

    ``LeNet5(in_channels=3, num_classes=10)`` stores exactly these two attributes::

        self.conv_unit = nn.Sequential(
            nn.Conv2d(in_channels, 6, kernel_size=5),   # [N, 6, 28, 28]
            nn.MaxPool2d(kernel_size=2, stride=2),      # [N, 6, 14, 14]
            nn.Conv2d(6, 16, kernel_size=5),            # [N, 16, 10, 10]
            nn.MaxPool2d(kernel_size=2, stride=2),      # [N, 16, 5, 5]
        )
        self.fc_unit = nn.Sequential(
            nn.Linear(16 * 5 * 5, 120), nn.ReLU(),
            nn.Linear(120, 84), nn.ReLU(),
            nn.Linear(84, num_classes),
        )

    (there is no activation inside ``conv_unit``, as in the notes), so its state_dict keys
    are ``conv_unit.0.*``, ``conv_unit.2.*``, ``fc_unit.0.*``, ``fc_unit.2.*``,
    ``fc_unit.4.*``. The tests load their own state_dict into it.

    ``forward(x)`` takes ``[N, in_channels, 32, 32]``, runs ``conv_unit``, flattens each
    image's ``[16, 5, 5]`` features into 400 numbers (keep the batch dimension) and returns
    the ``[N, num_classes]`` logits of ``fc_unit`` (no softmax). Outputs and gradients with
    respect to the input and every parameter are checked.
    """

    def __init__(self, in_channels: int = 3, num_classes: int = 10) -> None:
        super().__init__()
        raise NotImplementedError

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError


class DenseBlock(nn.Module):
    """A DenseNet block (10.7): every layer sees the concatenation of all earlier outputs.

    ``DenseBlock(in_channels, growth_rate, num_layers)`` stores
    ``self.layers = nn.ModuleList(...)`` of ``num_layers`` layers; layer ``i`` (from 0) is::

        nn.Sequential(nn.BatchNorm2d(c_i), nn.ReLU(),
                      nn.Conv2d(c_i, growth_rate, kernel_size=3, padding=1, bias=False))

    with ``c_i = in_channels + i * growth_rate``. ``forward(x)`` runs the layers in order and
    after each one concatenates its output to its input along the channels
    (``x = torch.cat([x, layer(x)], dim=1)``): concatenated, not added. The result has
    ``in_channels + num_layers * growth_rate`` channels and the input's H and W; for
    ``DenseBlock(3, 4, 2)`` a ``[N, 3, 8, 8]`` input gives ``[N, 11, 8, 8]``.

    Checked with the tests' state_dict loaded: outputs, gradients, the BatchNorm running
    statistics after several training steps, and outputs in eval mode.
    """

    def __init__(self, in_channels: int, growth_rate: int, num_layers: int) -> None:
        super().__init__()
        raise NotImplementedError

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError


def hflip(x: torch.Tensor) -> torch.Tensor:
    """Mirror each image horizontally: left becomes right (reverse the W dimension).

    ``out[n, c, i, j] = x[n, c, i, W - 1 - j]``. Reverse the order of a dimension with
    indexing, e.g. ``index_select`` with ``torch.arange(W - 1, -1, -1)`` (on x's device).

    Args:
        x: ``[N, C, H, W]``, float32 or float64.
    Returns:
        ``[N, C, H, W]``. Values and gradients are checked.
    Example:
        ``hflip(torch.tensor([[[[1., 2., 3.]]]]))`` is ``tensor([[[[3., 2., 1.]]]])``.
    Forbidden: ``torch.flip``, ``Tensor.flip``, ``torch.fliplr``, ``torch.flipud``,
    torchvision.
    """
    raise NotImplementedError


def vflip(x: torch.Tensor) -> torch.Tensor:
    """Mirror each image vertically: top becomes bottom (reverse the H dimension).

    ``out[n, c, i, j] = x[n, c, H - 1 - i, j]``.

    Args:
        x: ``[N, C, H, W]``, float32 or float64.
    Returns:
        ``[N, C, H, W]``. Values and gradients are checked.
    Example:
        ``vflip(torch.tensor([[[[1.], [2.]]]]))`` is ``tensor([[[[2.], [1.]]]])``.
    Forbidden: ``torch.flip``, ``Tensor.flip``, ``torch.fliplr``, ``torch.flipud``,
    torchvision.
    """
    raise NotImplementedError


def rot90(x: torch.Tensor, k: int) -> torch.Tensor:
    """Rotate each image by ``k * 90`` degrees counter-clockwise in the (H, W) plane.

    The same as ``torch.rot90(x, k, dims=(2, 3))``. ``k`` is any integer: negative turns
    clockwise, and only ``k % 4`` matters. A quarter turn counter-clockwise is a horizontal
    flip followed by swapping H and W (``transpose(2, 3)``); the result of an odd ``k`` has
    shape ``[N, C, W, H]``. Your own ``hflip`` and ``vflip`` may be used.

    Args:
        x: ``[N, C, H, W]``, float32 or float64.
        k: the number of quarter turns, any int.
    Returns:
        ``[N, C, H, W]`` for even ``k``, ``[N, C, W, H]`` for odd ``k``. Values and gradients
        are checked.
    Example:
        ``rot90(torch.tensor([[[[1., 2.], [3., 4.]]]]), 1)`` is
        ``tensor([[[[2., 4.], [1., 3.]]]])``: the top-right corner moves to the top left.
    Forbidden: ``torch.rot90``, ``Tensor.rot90``, ``torch.flip``, ``Tensor.flip``,
    ``torch.fliplr``, ``torch.flipud``, torchvision.
    """
    raise NotImplementedError


def random_crop(x: torch.Tensor, size: int, padding: int,
                generator: torch.Generator) -> torch.Tensor:
    """Random crops (10.9): zero-pad every image, then cut a ``size x size`` window of each.

    1. Pad H and W by ``padding`` zeros on each side (``F.pad``): ``[N, C, H + 2p, W + 2p]``.
    2. Draw every window's top-left corner at once, exactly like this::

           offsets = torch.randint(0, H + 2 * padding - size + 1, (N, 2),
                                   generator=generator, device=generator.device)

       ``offsets[n] = (row, column)`` of image ``n``; all channels of an image share it.
    3. ``out[n] = padded[n, :, row:row + size, column:column + size]``, for all images at
       once (no Python loop over images: index with broadcast ``arange`` grids).

    Args:
        x: ``[N, C, H, W]`` with ``H == W`` (square images), float32 or float64.
        size: the side of the crop, ``>= 1``.
        padding: zeros added on each side, ``>= 0``.
        generator: a ``torch.Generator``; draw nothing else from it.
    Returns:
        ``[N, C, size, size]``. Values (exact, for the tests' seeded generator) and
        gradients are checked.
    Raises:
        ``ValueError`` when ``size`` is larger than the padded image (``H + 2 * padding``).
    Forbidden: torchvision.
    """
    raise NotImplementedError


def gaussian_noise(x: torch.Tensor, std: float, generator: torch.Generator) -> torch.Tensor:
    """Add Gaussian noise (the notes' 10.9.5), drawn exactly like this::

        x + std * torch.randn(x.shape, generator=generator, dtype=x.dtype, device=x.device)

    Draw the noise in x's dtype: a float32 draw converted to float64 holds other numbers.

    Args:
        x: any shape, float32 or float64.
        std: the noise's standard deviation (not its variance), ``>= 0``.
        generator: a ``torch.Generator``.
    Returns:
        Same shape and dtype as ``x``. Values (for the tests' seeded generator) and gradients
        are checked.
    """
    raise NotImplementedError


def early_stop(val_losses: list[float], patience: int,
               min_delta: float = 0.0) -> tuple[int, int]:
    """Where early stopping (9.5) stops, and which epoch it keeps.

    Scan the validation losses in order. A loss is an *improvement* when it is below the
    best loss so far minus ``min_delta`` (the first loss always is); the best loss and its
    epoch change only at an improvement. Training stops at the first epoch after which
    ``patience`` epochs in a row brought no improvement: that epoch is ``stop_epoch``. If
    that never happens, ``stop_epoch`` is the last index.

    Args:
        val_losses: Python floats, one per epoch (at least one).
        patience: ``>= 1``.
        min_delta: ``>= 0``.
    Returns:
        ``(stop_epoch, best_epoch)``, two Python ints (indices into ``val_losses``).
    Examples:
        ``early_stop([1.0, 0.8, 0.9, 0.85, 0.7], patience=2)`` is ``(3, 1)``: epochs 2 and 3
        bring no improvement over 0.8, so training stops at epoch 3.
        ``early_stop([1.0, 0.8, 0.9, 0.85, 0.7], patience=3)`` is ``(4, 4)``.
        ``early_stop([1.0, 0.95, 0.9], patience=1, min_delta=0.1)`` is ``(1, 0)``.
    """
    raise NotImplementedError


def evaluate(model: nn.Module, x: torch.Tensor, y: torch.Tensor,
             batch_size: int) -> tuple[float, float]:
    """The mean cross-entropy and the accuracy of ``model`` on all of ``(x, y)`` (8.6).

    Take the data in batches of ``batch_size`` rows (the last one may be smaller). Put the
    model in eval mode first (Dropout off, BatchNorm on its running statistics) and compute
    without building a graph (``torch.no_grad()``), then give the model back its own mode
    (``model.train(was_training)``). The mean is over all N samples, not a mean of batch
    means (they differ when the last batch is smaller): sum the losses
    (``F.cross_entropy(..., reduction="sum")``) and divide by N. Change no parameter.

    Args:
        model: an ``nn.Module`` mapping ``[B, ...]`` to ``[B, C]`` logits (it may hold
            BatchNorm and Dropout).
        x: ``[N, ...]`` inputs; y: ``[N]`` int64 classes.
        batch_size: ``>= 1``.
    Returns:
        ``(mean_loss, accuracy)``, two Python floats; accuracy is the fraction of rows whose
        argmax is the target.
    """
    raise NotImplementedError


def train_classifier(x_train: torch.Tensor, y_train: torch.Tensor,
                     generator: torch.Generator) -> nn.Module:
    """Design a classifier and train it on the 8x8 digits (the practice of 8.3).

    Any of the course's tools will do: an MLP or a small CNN, SGD with momentum, weight
    decay, dropout, augmentation, early stopping on a validation split you cut yourself.
    Return the trained model; its ``forward`` takes ``[M, 1, 8, 8]`` and returns ``[M, 10]``
    logits. The grader keeps the model in the sandbox, puts it in eval mode and asks for its
    logits on a test split it never saw.

    Args:
        x_train: ``[N, 1, 8, 8]`` float32, pixel values in ``[0, 1]`` (the README's "Data").
        y_train: ``[N]`` int64 classes 0..9.
        generator: a seeded ``torch.Generator``: draw every random number from it (or seed
            torch from it) so the same seed gives the same model.
    Returns:
        The trained ``nn.Module``.
    Graded: accuracy on the test split, full points at >= 0.95, half at >= 0.90, training
    within the part's time limit (60 s on the course machine, one CPU thread; a small CNN
    trained for 15 epochs takes about a second). The message says the accuracy reached and
    how long training took.
    Forbidden: ``torch.hub``; reading or downloading files (the data come as arguments).
    """
    raise NotImplementedError
