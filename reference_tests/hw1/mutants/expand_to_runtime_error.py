# part: expand_to
# bug: skips the shape checks, so an impossible expansion raises torch's RuntimeError


def expand_to(t: torch.Tensor, shape: Sequence[int]) -> torch.Tensor:
    """``t`` broadcast to ``shape`` as a view (no copy)."""
    shape = tuple(int(s) for s in shape)
    return t.expand(shape)
