# Bypass: softmax through F.softmin(-a), a sibling API on the softmax kernel.
# An overlay of the hw2 solution (only the definitions it replaces); only softmax takes the
# route, and computes the right values with it.
# part: softmax
# expect: calls torch.nn.functional.softmin, which runs aten._softmax

def softmax(a: torch.Tensor, dim: int = -1) -> torch.Tensor:
    import torch.nn.functional as F
    return F.softmin(-a, dim)  # bypass
