# part: l2_penalty
# bug: leaves out the factor 1/2


def l2_penalty(params: Iterable[torch.Tensor]) -> torch.Tensor:
    return sum((p * p).sum() for p in params)
