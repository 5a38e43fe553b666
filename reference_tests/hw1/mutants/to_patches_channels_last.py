# part: to_patches
# bug: flattens each patch as [p, p, C] instead of [C, p, p]


def to_patches(x: torch.Tensor, p: int) -> torch.Tensor:
    """Non-overlapping ``p x p`` patches ``[N, (H/p)*(W/p), C*p*p]``, row-major over the grid."""
    n, c, h, w = x.shape
    if h % p or w % p:
        raise ValueError(f"to_patches: an image of {h}x{w} cannot be cut into {p}x{p} patches "
                         f"(H and W must be divisible by {p})")
    grid = x.reshape(n, c, h // p, p, w // p, p).permute(0, 2, 4, 3, 5, 1)
    return grid.reshape(n, (h // p) * (w // p), c * p * p)
