# part: DenseBlock
# bug: adds each layer's output to its input instead of concatenating (every layer keeps in_channels)


class DenseBlock(nn.Module):
    """A DenseNet block: each layer's output is concatenated to its input."""

    def __init__(self, in_channels: int, growth_rate: int, num_layers: int) -> None:
        super().__init__()
        self.layers = nn.ModuleList()
        for i in range(num_layers):
            channels = in_channels
            self.layers.append(nn.Sequential(
                nn.BatchNorm2d(channels), nn.ReLU(),
                nn.Conv2d(channels, channels, kernel_size=3, padding=1, bias=False)))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for layer in self.layers:
            x = x + layer(x)
        return x
