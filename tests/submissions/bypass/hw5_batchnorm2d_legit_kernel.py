# Bypass: BatchNorm2d through torch._native_batch_norm_legit, an internal batch-norm kernel.
# An overlay of the hw5 solution (only the definitions it replaces); only BatchNorm2d takes the
# route, and computes the right values with it.
# part: BatchNorm2d
# expect: runs aten._native_batch_norm_legit

class BatchNorm2d(nn.Module):
    def __init__(self, num_features: int, eps: float = 1e-5, momentum: float = 0.1) -> None:
        super().__init__()
        self.eps = eps
        self.momentum = momentum
        self.weight = nn.Parameter(torch.ones(num_features))
        self.bias = nn.Parameter(torch.zeros(num_features))
        self.register_buffer("running_mean", torch.zeros(num_features))
        self.register_buffer("running_var", torch.ones(num_features))
        self.register_buffer("num_batches_tracked", torch.tensor(0, dtype=torch.long))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.training:
            self.num_batches_tracked += 1
        y, _, _ = torch._native_batch_norm_legit(x, self.weight, self.bias,  # bypass
                                                 self.running_mean, self.running_var,
                                                 self.training, self.momentum, self.eps)
        return y
