# part: avg_pool2d
# bug: avg_pool2d sums each window instead of averaging it.


def avg_pool2d(x: torch.Tensor, kernel_size: int, stride: int | None = None) -> torch.Tensor:
    return _windows(x, kernel_size, stride).sum(dim=(-2, -1))
