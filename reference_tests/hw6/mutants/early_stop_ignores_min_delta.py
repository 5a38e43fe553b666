# part: early_stop
# bug: counts any lower loss as an improvement, ignoring min_delta


def early_stop(val_losses: list[float], patience: int,
               min_delta: float = 0.0) -> tuple[int, int]:
    """``(stop_epoch, best_epoch)`` of early stopping with ``patience``."""
    best, best_epoch, waited = math.inf, 0, 0
    for epoch, loss in enumerate(val_losses):
        if epoch == 0 or loss < best:
            best, best_epoch, waited = loss, epoch, 0
        else:
            waited += 1
            if waited >= patience:
                return epoch, best_epoch
    return len(val_losses) - 1, best_epoch
