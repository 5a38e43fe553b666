# part: to_patches
# bug: reshapes without the permute, mixing pixels of different patches


def to_patches(x: torch.Tensor, p: int) -> torch.Tensor:
    """Non-overlapping ``p x p`` patches ``[N, (H/p)*(W/p), C*p*p]``, row-major over the grid."""
    n, c, h, w = x.shape
    if h % p or w % p:
        raise ValueError(f"to_patches: an image of {h}x{w} cannot be cut into {p}x{p} patches "
                         f"(H and W must be divisible by {p})")
    grid = x
    return grid.reshape(n, (h // p) * (w // p), c * p * p)
