# part: MLP
# bug: a ReLU after the last Linear too (the notes' mistake), so negative logits are clipped to 0


class MLP(nn.Module):
    def __init__(self, sizes: Sequence[int] = (784, 200, 200, 10), dropout: float = 0.0) -> None:
        super().__init__()
        sizes = list(sizes)
        layers: list[nn.Module] = []
        for i, (fan_in, fan_out) in enumerate(zip(sizes[:-1], sizes[1:], strict=True)):
            linear = nn.Linear(fan_in, fan_out)
            nn.init.kaiming_normal_(linear.weight, mode="fan_in", nonlinearity="relu")
            nn.init.zeros_(linear.bias)
            layers.append(linear)
            layers.append(nn.ReLU())
            if i < len(sizes) - 2:
                if dropout > 0:
                    layers.append(nn.Dropout(dropout))
        self.model = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.model(x)
