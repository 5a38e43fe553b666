# Bypass: tanh_grad through torch.func.jvp: forward-mode AD under functorch.
# An overlay of the hw2 solution (only the definitions it replaces); only tanh_grad takes the
# route, and computes the right values with it.
# part: tanh_grad
# expect: torch.func

def tanh_grad(x: torch.Tensor) -> torch.Tensor:
    _, tangent = torch.func.jvp(torch.tanh, (x,), (torch.ones_like(x),))  # bypass
    return tangent
