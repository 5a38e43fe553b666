# Bypass: cross_entropy_grad through the autograd engine's run_backward, reached through importlib.
# An overlay of the hw2 solution (only the definitions it replaces); only cross_entropy_grad
# takes the route, and computes the right values with it.
# part: cross_entropy_grad
# expect: runs the autograd engine

def cross_entropy_grad(logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    import importlib
    leaf = logits.detach().requires_grad_(True)
    loss = -(leaf - leaf.logsumexp(dim=1, keepdim=True)).gather(1, target.unsqueeze(1)).mean()
    engine = importlib.import_module("torch.autograd").Variable._execution_engine
    (grad,) = engine.run_backward((loss,), (torch.ones_like(loss),), False, False, (leaf,),  # bypass
                                  False, False)
    return grad
