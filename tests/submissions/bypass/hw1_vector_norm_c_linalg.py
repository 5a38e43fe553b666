# Bypass: vector_norm through torch._C._linalg.linalg_vector_norm, the binding behind torch.linalg.vector_norm.
# An overlay of the hw1 solution (only the definitions it replaces); only vector_norm takes the
# route, and computes the right values with it.
# part: vector_norm
# expect: runs aten.linalg_vector_norm

def vector_norm(x: torch.Tensor, p: float, dim: int | None = None,
                keepdim: bool = False) -> torch.Tensor:
    """``(Σ |x|^p)^(1/p)`` over ``dim`` (every element when ``dim`` is None)."""
    return torch._C._linalg.linalg_vector_norm(x, p, dim, keepdim)  # bypass
