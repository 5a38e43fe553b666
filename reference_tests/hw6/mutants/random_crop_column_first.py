# part: random_crop
# bug: reads offsets[n] as (column, row)


def random_crop(x: torch.Tensor, size: int, padding: int,
                generator: torch.Generator) -> torch.Tensor:
    """Zero-pad, then cut one ``size x size`` window per image at a random offset."""
    n, c, h, w = x.shape
    if size > h + 2 * padding or size > w + 2 * padding:
        raise ValueError(f"random_crop: a {size}x{size} crop does not fit a {h}x{w} image "
                         f"padded by {padding}")
    offsets = torch.randint(0, h + 2 * padding - size + 1, (n, 2), generator=generator,
                            device=generator.device).to(x.device)
    padded = F.pad(x, (padding, padding, padding, padding))
    span = torch.arange(size, device=x.device)
    rows = (offsets[:, 1:2] + span)[:, None, :, None]
    cols = (offsets[:, 0:1] + span)[:, None, None, :]
    images = torch.arange(n, device=x.device)[:, None, None, None]
    channels = torch.arange(c, device=x.device)[None, :, None, None]
    return padded[images, channels, rows, cols]
