# part: step_lr
# bug: decays one epoch too early: gamma ** ((epoch + 1) // step_size)


def step_lr(base_lr: float, epoch: int, step_size: int, gamma: float) -> float:
    return base_lr * gamma ** ((epoch + 1) // step_size)
