# part: pick
# bug: gathers along dim 0 (out[i] = logits[target[i], i]) instead of dim 1


def pick(logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """``out[i] = logits[i, target[i]]``."""
    return logits.gather(0, target.unsqueeze(0)).squeeze(0)
