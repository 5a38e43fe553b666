# Bypass: perceptron_grad through Tensor.backward reached through getattr.
# An overlay of the hw3 solution (only the definitions it replaces); only perceptron_grad takes
# the route, and computes the right values with it.
# part: perceptron_grad
# expect: runs the autograd engine

def perceptron_grad(x: torch.Tensor, w: torch.Tensor, t: float) -> torch.Tensor:
    leaf = w.detach().requires_grad_(True)
    o = torch.sigmoid(x @ leaf)
    error = 0.5 * (o - t) ** 2
    getattr(error, "back" + "ward")()  # bypass
    return leaf.grad
