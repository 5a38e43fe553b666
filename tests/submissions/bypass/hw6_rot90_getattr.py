# Bypass: rot90 through getattr(torch, "rot" + "90"), a name the source scan cannot see.
# A whole correct submission of hw6; only rot90 takes the route, and computes the right values.
# part: rot90
# expect: runs aten.rot90
from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn


class LeNet5(nn.Module):
    """The notes' LeNet-5 for 32x32 inputs (no activation inside the conv unit)."""

    def __init__(self, in_channels: int = 3, num_classes: int = 10) -> None:
        super().__init__()
        self.conv_unit = nn.Sequential(
            nn.Conv2d(in_channels, 6, kernel_size=5),
            nn.MaxPool2d(kernel_size=2, stride=2),
            nn.Conv2d(6, 16, kernel_size=5),
            nn.MaxPool2d(kernel_size=2, stride=2),
        )
        self.fc_unit = nn.Sequential(
            nn.Linear(16 * 5 * 5, 120), nn.ReLU(),
            nn.Linear(120, 84), nn.ReLU(),
            nn.Linear(84, num_classes),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        features = self.conv_unit(x)
        return self.fc_unit(features.reshape(x.shape[0], 16 * 5 * 5))


class DenseBlock(nn.Module):
    """A DenseNet block: each layer's output is concatenated to its input."""

    def __init__(self, in_channels: int, growth_rate: int, num_layers: int) -> None:
        super().__init__()
        self.layers = nn.ModuleList()
        for i in range(num_layers):
            channels = in_channels + i * growth_rate
            self.layers.append(nn.Sequential(
                nn.BatchNorm2d(channels), nn.ReLU(),
                nn.Conv2d(channels, growth_rate, kernel_size=3, padding=1, bias=False)))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for layer in self.layers:
            x = torch.cat([x, layer(x)], dim=1)
        return x


def _reversed(x: torch.Tensor, dim: int) -> torch.Tensor:
    """``x`` with the order of dimension ``dim`` reversed (a gather of reversed indices)."""
    index = torch.arange(x.shape[dim] - 1, -1, -1, device=x.device)
    return x.index_select(dim, index)


def hflip(x: torch.Tensor) -> torch.Tensor:
    """Mirror each image left to right (along W)."""
    return _reversed(x, -1)


def vflip(x: torch.Tensor) -> torch.Tensor:
    """Mirror each image top to bottom (along H)."""
    return _reversed(x, -2)


def _rot90_reference(x: torch.Tensor, k: int) -> torch.Tensor:
    """Rotate each image by ``k * 90`` degrees counter-clockwise."""
    turns = k % 4
    if turns == 0:
        return x.clone()
    if turns == 1:
        return _reversed(x, -1).transpose(-2, -1)
    if turns == 2:
        return _reversed(_reversed(x, -1), -2)
    return _reversed(x, -2).transpose(-2, -1)


def random_crop(x: torch.Tensor, size: int, padding: int,
                generator: torch.Generator) -> torch.Tensor:
    """Zero-pad, then cut one ``size x size`` window per image at a random offset."""
    n, c, h, w = x.shape
    if size > h + 2 * padding or size > w + 2 * padding:
        raise ValueError(f"random_crop: a {size}x{size} crop does not fit a {h}x{w} image "
                         f"padded by {padding}")
    offsets = torch.randint(0, h + 2 * padding - size + 1, (n, 2), generator=generator,
                            device=generator.device).to(x.device)
    padded = F.pad(x, (padding, padding, padding, padding))
    span = torch.arange(size, device=x.device)
    rows = (offsets[:, 0:1] + span)[:, None, :, None]
    cols = (offsets[:, 1:2] + span)[:, None, None, :]
    images = torch.arange(n, device=x.device)[:, None, None, None]
    channels = torch.arange(c, device=x.device)[None, :, None, None]
    return padded[images, channels, rows, cols]


def gaussian_noise(x: torch.Tensor, std: float, generator: torch.Generator) -> torch.Tensor:
    """``x`` plus Gaussian noise of standard deviation ``std``."""
    noise = torch.randn(x.shape, generator=generator, dtype=x.dtype, device=x.device)
    return x + std * noise


def early_stop(val_losses: list[float], patience: int,
               min_delta: float = 0.0) -> tuple[int, int]:
    """``(stop_epoch, best_epoch)`` of early stopping with ``patience``."""
    best, best_epoch, waited = math.inf, 0, 0
    for epoch, loss in enumerate(val_losses):
        if epoch == 0 or loss < best - min_delta:
            best, best_epoch, waited = loss, epoch, 0
        else:
            waited += 1
            if waited >= patience:
                return epoch, best_epoch
    return len(val_losses) - 1, best_epoch


def evaluate(model: nn.Module, x: torch.Tensor, y: torch.Tensor,
             batch_size: int) -> tuple[float, float]:
    """``(mean cross-entropy, accuracy)`` over all of ``(x, y)``, in eval mode, no graph."""
    was_training = model.training
    model.eval()
    loss_sum, correct = 0.0, 0
    try:
        with torch.inference_mode():
            for start in range(0, x.shape[0], batch_size):
                logits = model(x[start:start + batch_size])
                target = y[start:start + batch_size]
                loss_sum += float(F.cross_entropy(logits, target, reduction="sum"))
                correct += int((logits.argmax(dim=1) == target).sum())
    finally:
        model.train(was_training)
    return loss_sum / x.shape[0], correct / x.shape[0]


def train_classifier(x_train: torch.Tensor, y_train: torch.Tensor,
                     generator: torch.Generator) -> nn.Module:
    """A small CNN trained with SGD and momentum on the 8x8 digits; returns it in eval mode."""
    device = x_train.device
    torch.manual_seed(int(torch.randint(0, 2**31 - 1, (1,), generator=generator,
                                        device=generator.device)))
    model = nn.Sequential(
        nn.Conv2d(1, 16, kernel_size=3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(16, 32, kernel_size=3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(32 * 2 * 2, 10),
    ).to(device)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9, weight_decay=1e-4)
    model.train()
    for _ in range(15):
        order = torch.randperm(y_train.shape[0], generator=generator,
                               device=generator.device).to(device)
        for start in range(0, order.shape[0], 32):
            batch = order[start:start + 32]
            optimizer.zero_grad()
            F.cross_entropy(model(x_train[batch]), y_train[batch]).backward()
            optimizer.step()
    return model.eval()


def rot90(x, k):
    return getattr(torch, "rot" + "90")(x, k, (2, 3))  # bypass
