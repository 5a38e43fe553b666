# part: rot90
# bug: does not reduce k modulo 4, so k >= 4 and negative k fall into the last branch


def rot90(x: torch.Tensor, k: int) -> torch.Tensor:
    """Rotate each image by ``k * 90`` degrees counter-clockwise."""
    turns = k
    if turns == 0:
        return x.clone()
    if turns == 1:
        return _reversed(x, -1).transpose(-2, -1)
    if turns == 2:
        return _reversed(_reversed(x, -1), -2)
    return _reversed(x, -2).transpose(-2, -1)
