# part: himmelblau_grad
# bug: df/dx subtracts the 2(x + y^2 - 7) term instead of adding it.


def himmelblau_grad(p: torch.Tensor) -> torch.Tensor:
    x, y = p[0], p[1]
    a = x ** 2 + y - 11
    b = x + y ** 2 - 7
    return torch.stack([4 * x * a - 2 * b, 2 * a + 4 * y * b])


# descend computes the gradient itself, so the bug costs himmelblau_grad alone.
def descend(p0: torch.Tensor, lr: float, steps: int) -> torch.Tensor:
    p = p0.clone()
    for _ in range(steps):
        x, y = p[0], p[1]
        a = x ** 2 + y - 11
        b = x + y ** 2 - 7
        p = p - lr * torch.stack([4 * x * a + 2 * b, 2 * a + 4 * y * b])
    return p
