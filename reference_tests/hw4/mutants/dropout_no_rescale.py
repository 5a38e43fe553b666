# part: dropout
# bug: does not scale the kept units by 1/(1-p)


def dropout(x: torch.Tensor, p: float, training: bool,
            generator: torch.Generator) -> torch.Tensor:
    if not training:
        return x
    keep = torch.rand(x.shape, generator=generator, dtype=x.dtype, device=x.device) >= p
    if p >= 1:
        return x * keep
    return x * keep
