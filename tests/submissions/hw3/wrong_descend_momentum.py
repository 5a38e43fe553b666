# part: descend
# bug: descend "speeds up" plain gradient descent with momentum: its first step is right
#      (the velocity starts as the gradient), the second already is not
"""hw3 in progress: himmelblau, its gradient and descend written, the rest not yet."""

import torch


def himmelblau(p):
    x, y = p[0], p[1]
    return (x ** 2 + y - 11) ** 2 + (x + y ** 2 - 7) ** 2


def himmelblau_grad(p):
    x, y = p[0], p[1]
    a = x ** 2 + y - 11
    b = x + y ** 2 - 7
    return torch.stack([4 * x * a + 2 * b, 2 * a + 4 * y * b])


def descend(p0, lr, steps):
    p = p0.clone()
    velocity = torch.zeros_like(p)
    for _ in range(steps):
        velocity = 0.5 * velocity + himmelblau_grad(p)
        p = p - lr * velocity
    return p
