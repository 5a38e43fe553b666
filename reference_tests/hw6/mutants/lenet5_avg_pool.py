# part: LeNet5
# bug: pools by averaging instead of taking the maximum


class LeNet5(nn.Module):
    """The notes' LeNet-5 for 32x32 inputs (no activation inside the conv unit)."""

    def __init__(self, in_channels: int = 3, num_classes: int = 10) -> None:
        super().__init__()
        self.conv_unit = nn.Sequential(
            nn.Conv2d(in_channels, 6, kernel_size=5),
            nn.AvgPool2d(kernel_size=2, stride=2),
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
