# part: MLP
# bug: the layers are right, but forward clips the logits (a ReLU on the model's output)


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
            if i < len(sizes) - 2:
                layers.append(nn.ReLU())
                if dropout > 0:
                    layers.append(nn.Dropout(dropout))
        self.model = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.relu(self.model(x))
