# part: rot90
# bug: turns clockwise: k quarter turns the wrong way


def rot90(x: torch.Tensor, k: int) -> torch.Tensor:
    """Rotate each image by ``k * 90`` degrees counter-clockwise."""
    turns = -k % 4
    if turns == 0:
        return x.clone()
    if turns == 1:
        return _reversed(x, -1).transpose(-2, -1)
    if turns == 2:
        return _reversed(_reversed(x, -1), -2)
    return _reversed(x, -2).transpose(-2, -1)
