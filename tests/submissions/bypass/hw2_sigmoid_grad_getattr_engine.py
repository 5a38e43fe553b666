# Bypass: sigmoid_grad through torch.autograd.grad reached through getattr on a built-up name.
# An overlay of the hw2 solution (only the definitions it replaces); only sigmoid_grad takes
# the route, and computes the right values with it.
# part: sigmoid_grad
# expect: runs the autograd engine

def sigmoid_grad(x: torch.Tensor) -> torch.Tensor:
    leaf = x.detach().requires_grad_(True)
    engine = getattr(torch, "auto" + "grad")
    (grad,) = engine.grad(torch.sigmoid(leaf).sum(), leaf)  # bypass
    return grad.detach()
