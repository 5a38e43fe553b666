# part: BatchNorm2d
# bug: BatchNorm2d registers num_batches_tracked as a float tensor instead of int64.


class BatchNorm2d(nn.Module):
    def __init__(self, num_features: int, eps: float = 1e-5, momentum: float = 0.1) -> None:
        super().__init__()
        self.eps = eps
        self.momentum = momentum
        self.weight = nn.Parameter(torch.ones(num_features))
        self.bias = nn.Parameter(torch.zeros(num_features))
        self.register_buffer("running_mean", torch.zeros(num_features))
        self.register_buffer("running_var", torch.ones(num_features))
        self.register_buffer("num_batches_tracked", torch.tensor(0.0))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y, new_mean, new_var = batch_norm(x, self.weight, self.bias, self.running_mean,
                                          self.running_var, self.training, self.momentum,
                                          self.eps)
        if self.training:
            self.running_mean.copy_(new_mean)
            self.running_var.copy_(new_var)
            self.num_batches_tracked += 1
        return y
