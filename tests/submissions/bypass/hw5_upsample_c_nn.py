# Bypass: upsample_nearest through torch._C._nn.upsample_nearest2d, the binding behind F.interpolate.
# An overlay of the hw5 solution (only the definitions it replaces); only upsample_nearest
# takes the route, and computes the right values with it.
# part: upsample_nearest
# expect: runs aten.upsample_nearest2d

def upsample_nearest(x: torch.Tensor, scale_factor: int) -> torch.Tensor:
    return torch._C._nn.upsample_nearest2d(x, None, [float(scale_factor)] * 2)  # bypass
