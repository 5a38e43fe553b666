# part: DenseBlock
# bug: orders each layer Conv2d, BatchNorm2d, ReLU instead of BatchNorm2d, ReLU, Conv2d


class DenseBlock(nn.Module):
    """A DenseNet block: each layer's output is concatenated to its input."""

    def __init__(self, in_channels: int, growth_rate: int, num_layers: int) -> None:
        super().__init__()
        self.layers = nn.ModuleList()
        for i in range(num_layers):
            channels = in_channels + i * growth_rate
            self.layers.append(nn.Sequential(
                nn.Conv2d(channels, growth_rate, kernel_size=3, padding=1, bias=False),
                nn.BatchNorm2d(growth_rate), nn.ReLU()))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for layer in self.layers:
            x = torch.cat([x, layer(x)], dim=1)
        return x
