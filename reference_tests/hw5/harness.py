"""hw5's harness: helpers the grader runs next to your code (they hold no expected values).

Each helper takes your module (``cnn.py``) as its first argument.

- ``resblock_layers`` builds your ``ResBlock`` and describes each of its convolutions and
  BatchNorms (``conv1``, ``bn1``, ``conv2``, ``bn2`` and those inside ``extra``) by the
  arguments it was built with.
"""

from __future__ import annotations

from typing import Any

from torch import nn


def describe(layer: nn.Conv2d | nn.BatchNorm2d) -> str:
    """A layer as the arguments that build it: ``Conv2d(3, 6, 3, stride=2, padding=1,
    bias=False)``, ``BatchNorm2d(6)``."""
    if isinstance(layer, nn.BatchNorm2d):
        return f"BatchNorm2d({layer.num_features})"
    k, s, p = layer.kernel_size[0], layer.stride[0], layer.padding
    pad = p if isinstance(p, str) else p[0]
    return (f"Conv2d({layer.in_channels}, {layer.out_channels}, {k}, stride={s}, "
            f"padding={pad}, bias={layer.bias is not None})")


def resblock_layers(mod: Any, *args: Any, **kwargs: Any) -> dict[str, str]:
    """``{name: description}`` of every ``Conv2d`` and ``BatchNorm2d`` of
    ``mod.ResBlock(*args, **kwargs)``, wherever it is held. Layers without state (ReLU, an
    empty ``nn.Sequential()``) are left out: where they act is the forward pass's business."""
    block = mod.ResBlock(*args, **kwargs)
    return {name: describe(layer) for name, layer in block.named_modules()
            if isinstance(layer, (nn.Conv2d, nn.BatchNorm2d))}
