# part: vector_norm
# bug: returns the sum of |x|^p without the 1/p root


def vector_norm(x: torch.Tensor, p: float, dim: int | None = None,
                keepdim: bool = False) -> torch.Tensor:
    """``(Σ |x|^p)^(1/p)`` over ``dim`` (every element when ``dim`` is None)."""
    total = x.abs().pow(p).sum(dim=dim, keepdim=keepdim)
    return total
