# part: vflip
# bug: reverses W instead of H


def vflip(x: torch.Tensor) -> torch.Tensor:
    """Mirror each image top to bottom (along H)."""
    return _reversed(x, -1)
