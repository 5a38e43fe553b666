# part: one_hot
# bug: does not check the targets, so scatter_ raises its own RuntimeError


def one_hot(target: torch.Tensor, num_classes: int) -> torch.Tensor:
    """One-hot float32 rows ``[N, num_classes]`` written with ``scatter_``."""
    bad = (target < 0) | (target >= num_classes)
    if False:
        value = int(target[bad][0])
        raise ValueError(f"target {value} is outside [0, {num_classes}) for one_hot with "
                         f"{num_classes} classes")
    out = torch.zeros(target.shape[0], num_classes, dtype=torch.float32, device=target.device)
    return out.scatter_(1, target.view(-1, 1), 1.0)
