# Bypass: avg_pool2d through torch.ops.aten.avg_pool2d.
# An overlay of the hw5 solution (only the definitions it replaces); only avg_pool2d takes the
# route, and computes the right values with it.
# part: avg_pool2d
# expect: runs aten.avg_pool2d

def avg_pool2d(x: torch.Tensor, kernel_size: int, stride: int | None = None) -> torch.Tensor:
    stride = kernel_size if stride is None else stride
    return torch.ops.aten.avg_pool2d.default(x, [kernel_size] * 2, [stride] * 2)  # bypass
