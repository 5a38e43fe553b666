# part: descend
# bug: the step adds the gradient (p + lr * grad): gradient ascent.


def descend(p0: torch.Tensor, lr: float, steps: int) -> torch.Tensor:
    p = p0.clone()
    for _ in range(steps):
        p = p + lr * himmelblau_grad(p)
    return p
