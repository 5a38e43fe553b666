# Bypass: batch_norm through torch.native_batch_norm, the kernel behind F.batch_norm.
# An overlay of the hw5 solution (only the definitions it replaces); only batch_norm takes the
# route, and computes the right values with it.
# part: batch_norm
# expect: runs aten.native_batch_norm

def batch_norm(x: torch.Tensor, gamma: torch.Tensor, beta: torch.Tensor,
               running_mean: torch.Tensor, running_var: torch.Tensor, training: bool,
               momentum: float = 0.1, eps: float = 1e-5,
               ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    new_mean = running_mean.detach().clone()
    new_var = running_var.detach().clone()
    y, _, _ = torch.native_batch_norm(x, gamma, beta, new_mean, new_var, training,  # bypass
                                      momentum, eps)
    return y, new_mean, new_var


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
        # Its own arithmetic: this part must not reach the bypass through batch_norm.
        dims, shape = [0, 2, 3], [1, -1, 1, 1]
        if self.training:
            mean, var = x.mean(dim=dims), x.var(dim=dims, unbiased=False)
            n = x.numel() // x.shape[1]
            with torch.no_grad():
                self.running_mean.mul_(1 - self.momentum).add_(self.momentum * mean)
                self.running_var.mul_(1 - self.momentum).add_(self.momentum * var * n / (n - 1))
            self.num_batches_tracked += 1
        else:
            mean, var = self.running_mean, self.running_var
        x_hat = (x - mean.view(shape)) / torch.sqrt(var.view(shape) + self.eps)
        return x_hat * self.weight.view(shape) + self.bias.view(shape)
