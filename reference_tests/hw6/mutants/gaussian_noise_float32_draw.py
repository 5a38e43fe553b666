# part: gaussian_noise
# bug: draws the noise in float32 and converts it, so float64 inputs get other numbers


def gaussian_noise(x: torch.Tensor, std: float, generator: torch.Generator) -> torch.Tensor:
    """``x`` plus Gaussian noise of standard deviation ``std``."""
    noise = torch.randn(x.shape, generator=generator, device=x.device).to(x.dtype)
    return x + std * noise
