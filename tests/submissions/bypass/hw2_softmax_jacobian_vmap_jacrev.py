# Bypass: softmax_jacobian through torch.func.vmap over torch.func.jacrev.
# An overlay of the hw2 solution (only the definitions it replaces); only softmax_jacobian
# takes the route, and computes the right values with it.
# part: softmax_jacobian
# expect: torch.func

def softmax_jacobian(a: torch.Tensor) -> torch.Tensor:
    rows = a.reshape(-1, a.shape[-1])
    jac = torch.func.vmap(torch.func.jacrev(lambda r: softmax(r, dim=-1)))(rows)  # bypass
    return jac.reshape(*a.shape, a.shape[-1])
