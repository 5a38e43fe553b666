# part: DenseBlock
# bug: returns only the layers' outputs, without the block's input


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
        new = []
        for layer in self.layers:
            new.append(layer(x))
            x = torch.cat([x, new[-1]], dim=1)
        return torch.cat(new, dim=1)
