# part: vector_norm
# bug: raises x to the power p without the absolute value (right only for even p)


def vector_norm(x: torch.Tensor, p: float, dim: int | None = None,
                keepdim: bool = False) -> torch.Tensor:
    """``(Σ |x|^p)^(1/p)`` over ``dim`` (every element when ``dim`` is None)."""
    total = x.pow(p).sum(dim=dim, keepdim=keepdim)
    return total.pow(1.0 / p)
