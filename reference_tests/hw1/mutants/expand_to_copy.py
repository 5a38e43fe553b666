# part: expand_to
# bug: returns a contiguous copy of the expanded tensor instead of the view


def expand_to(t: torch.Tensor, shape: Sequence[int]) -> torch.Tensor:
    """``t`` broadcast to ``shape`` as a view (no copy)."""
    shape = tuple(int(s) for s in shape)
    if len(shape) < t.dim():
        raise ValueError(f"cannot expand a tensor of shape {tuple(t.shape)} to {shape}: "
                         "the target has fewer dimensions")
    for have, want in zip(reversed(t.shape), reversed(shape), strict=False):
        if have != want and have != 1:
            raise ValueError(f"cannot expand a tensor of shape {tuple(t.shape)} to {shape}")
    return t.expand(shape).contiguous()
