# Bypass: softmax through torch._softmax, an internal function.
# An overlay of the hw2 solution (only the definitions it replaces); only softmax takes the
# route, and computes the right values with it.
# part: softmax
# expect: calls torch._softmax, which runs aten._softmax

def softmax(a: torch.Tensor, dim: int = -1) -> torch.Tensor:
    return torch._softmax(a, dim, False)  # bypass
