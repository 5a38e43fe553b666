# Bypass: conv2d through F.conv3d on unsqueezed inputs, a sibling API.
# An overlay of the hw5 solution (only the definitions it replaces); only conv2d takes the
# route, and computes the right values with it.
# part: conv2d
# expect: calls torch.nn.functional.conv3d, which runs aten.convolution

def conv2d(x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor | None = None,
           stride: int = 1, padding: int = 0) -> torch.Tensor:
    out = F.conv3d(x.unsqueeze(2), weight.unsqueeze(2), bias, (1, stride, stride),  # bypass
                   (0, padding, padding))
    return out.squeeze(2)
