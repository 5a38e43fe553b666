# part: max_pool2d
# bug: max_pool2d uses stride 1 when stride is None instead of kernel_size.


def max_pool2d(x: torch.Tensor, kernel_size: int, stride: int | None = None) -> torch.Tensor:
    stride = 1 if stride is None else stride
    return _windows(x, kernel_size, stride).amax(dim=(-2, -1))
