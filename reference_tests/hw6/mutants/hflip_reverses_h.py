# part: hflip
# bug: reverses H (dimension 2) instead of W


def hflip(x: torch.Tensor) -> torch.Tensor:
    """Mirror each image left to right (along W)."""
    return _reversed(x, -2)
