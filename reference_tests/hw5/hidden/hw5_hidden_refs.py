"""hw5's hidden-only reference: the residual block built from torch modules, which is the
ResBlock part's solution and so never ships with the student bundle. The public tests check
ResBlock by its state_dict table and properties (``hw5_refs``); these compare every value."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


class TorchResBlock(nn.Module):
    """The curriculum's residual block, built from torch modules."""

    def __init__(self, ch_in: int, ch_out: int, stride: int = 1) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(ch_in, ch_out, 3, stride=stride, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(ch_out)
        self.conv2 = nn.Conv2d(ch_out, ch_out, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(ch_out)
        self.extra = nn.Sequential()
        if ch_in != ch_out or stride != 1:
            self.extra = nn.Sequential(nn.Conv2d(ch_in, ch_out, 1, stride=stride, bias=False),
                                       nn.BatchNorm2d(ch_out))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return F.relu(out + self.extra(x))
