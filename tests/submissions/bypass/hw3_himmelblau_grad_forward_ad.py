# Bypass: himmelblau_grad through forward-mode AD (dual tensors) through importlib.
# An overlay of the hw3 solution (only the definitions it replaces); only himmelblau_grad takes
# the route, and computes the right values with it.
# part: himmelblau_grad
# expect: forward-mode AD

def himmelblau_grad(p: torch.Tensor) -> torch.Tensor:
    import importlib
    fwad = importlib.import_module("torch.autograd.forward_ad")
    parts = []
    with fwad.dual_level():
        for i in range(2):
            direction = torch.zeros_like(p)
            direction[i] = 1
            dual = fwad.make_dual(p, direction)  # bypass
            parts.append(fwad.unpack_dual(himmelblau(dual)).tangent)
    return torch.stack(parts)


def descend(p0: torch.Tensor, lr: float, steps: int) -> torch.Tensor:
    # The gradient by hand here: this part must not reach the bypass through himmelblau_grad.
    p = p0.clone()
    for _ in range(steps):
        x, y = p[0], p[1]
        a, b = x ** 2 + y - 11, x + y ** 2 - 7
        p = p - lr * torch.stack([4 * x * a + 2 * b, 2 * a + 4 * y * b])
    return p
