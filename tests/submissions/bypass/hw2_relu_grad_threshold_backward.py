# Bypass: relu_grad through torch.ops.aten.threshold_backward, ReLU's backward kernel called directly.
# An overlay of the hw2 solution (only the definitions it replaces); only relu_grad takes the
# route, and computes the right values with it.
# part: relu_grad
# expect: runs aten.threshold_backward

def relu_grad(x: torch.Tensor) -> torch.Tensor:
    return torch.ops.aten.threshold_backward(torch.ones_like(x), x, 0.0)  # bypass
