# Bypass: linear_mse_grad through torch.ops.aten.mse_loss_backward, the loss's backward kernel, then the chain rule by hand.
# An overlay of the hw2 solution (only the definitions it replaces); only linear_mse_grad takes
# the route, and computes the right values with it.
# part: linear_mse_grad
# expect: runs aten.mse_loss_backward

def linear_mse_grad(x: torch.Tensor, y: torch.Tensor, w: torch.Tensor,
                    b: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    pred = x @ w + b
    one = torch.ones((), dtype=x.dtype, device=x.device)
    g = torch.ops.aten.mse_loss_backward(one, pred, y, 1)  # bypass
    return x.T @ g, g.sum()
