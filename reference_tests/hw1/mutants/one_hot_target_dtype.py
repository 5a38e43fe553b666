# part: one_hot
# bug: makes the zeros in the target's dtype (int64) instead of float32


def one_hot(target: torch.Tensor, num_classes: int) -> torch.Tensor:
    """One-hot float32 rows ``[N, num_classes]`` written with ``scatter_``."""
    bad = (target < 0) | (target >= num_classes)
    if bool(bad.any()):
        value = int(target[bad][0])
        raise ValueError(f"target {value} is outside [0, {num_classes}) for one_hot with "
                         f"{num_classes} classes")
    out = torch.zeros(target.shape[0], num_classes, dtype=target.dtype, device=target.device)
    return out.scatter_(1, target.view(-1, 1), 1.0)
