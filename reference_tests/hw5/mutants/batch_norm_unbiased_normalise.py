# part: batch_norm
# bug: batch_norm normalises with the unbiased batch variance (divides by n - 1).


def batch_norm(x: torch.Tensor, gamma: torch.Tensor, beta: torch.Tensor,
               running_mean: torch.Tensor, running_var: torch.Tensor, training: bool,
               momentum: float = 0.1, eps: float = 1e-5,
               ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    dims = [0, *range(2, x.dim())]
    shape = [1, -1] + [1] * (x.dim() - 2)
    if training:
        mean = x.mean(dim=dims)
        var = x.var(dim=dims, unbiased=True)
        n = x.numel() // x.shape[1]
        with torch.no_grad():
            new_mean = (1 - momentum) * running_mean + momentum * mean
            new_var = (1 - momentum) * running_var + momentum * var
    else:
        mean, var = running_mean, running_var
        new_mean, new_var = running_mean.detach().clone(), running_var.detach().clone()
    x_hat = (x - mean.view(shape)) / torch.sqrt(var.view(shape) + eps)
    return x_hat * gamma.view(shape) + beta.view(shape), new_mean, new_var


# BatchNorm2d normalises by itself, so the bug costs batch_norm alone.
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
        # (the correct batch norm, inlined so that this mutant breaks batch_norm only)
        mean = x.mean(dim=(0, 2, 3)) if self.training else self.running_mean
        var = x.var(dim=(0, 2, 3), unbiased=False) if self.training else self.running_var
        n = x.numel() // x.shape[1]
        with torch.no_grad():
            new_mean = (1 - self.momentum) * self.running_mean + self.momentum * mean
            new_var = (1 - self.momentum) * self.running_var + self.momentum * var * (n / (n - 1))
        x_hat = (x - mean.view(1, -1, 1, 1)) / torch.sqrt(var.view(1, -1, 1, 1) + self.eps)
        y = x_hat * self.weight.view(1, -1, 1, 1) + self.bias.view(1, -1, 1, 1)
        if self.training:
            self.running_mean.copy_(new_mean)
            self.running_var.copy_(new_var)
            self.num_batches_tracked += 1
        return y
