# part: l1_penalty
# bug: sums the weights instead of their absolute values


def l1_penalty(params: Iterable[torch.Tensor]) -> torch.Tensor:
    return sum(p.sum() for p in params)
