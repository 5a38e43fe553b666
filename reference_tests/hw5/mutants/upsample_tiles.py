# part: upsample_nearest
# bug: upsample_nearest tiles the whole image (repeat) instead of repeating each pixel.


def upsample_nearest(x: torch.Tensor, scale_factor: int) -> torch.Tensor:
    return x.repeat(1, 1, scale_factor, scale_factor)
