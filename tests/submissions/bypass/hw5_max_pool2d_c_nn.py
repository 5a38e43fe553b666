# Bypass: max_pool2d through torch._C._nn.max_pool2d_with_indices, the binding behind F.max_pool2d.
# An overlay of the hw5 solution (only the definitions it replaces); only max_pool2d takes the
# route, and computes the right values with it.
# part: max_pool2d
# expect: runs aten.max_pool2d_with_indices

def max_pool2d(x: torch.Tensor, kernel_size: int, stride: int | None = None) -> torch.Tensor:
    stride = kernel_size if stride is None else stride
    return torch._C._nn.max_pool2d_with_indices(x, kernel_size, stride)[0]  # bypass
