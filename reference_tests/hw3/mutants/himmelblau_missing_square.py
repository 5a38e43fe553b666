# part: himmelblau
# bug: the second term is not squared: (x + y^2 - 7) instead of (x + y^2 - 7)^2.


def himmelblau(p: torch.Tensor) -> torch.Tensor:
    x, y = p[0], p[1]
    return (x ** 2 + y - 11) ** 2 + (x + y ** 2 - 7)
