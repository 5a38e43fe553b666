# part: sgd_step
# bug: adds weight decay to the step after the momentum update instead of to the gradient before it


def sgd_step(params: list[torch.Tensor], grads: list[torch.Tensor],
             velocities: list[torch.Tensor | None], lr: float, momentum: float = 0.0,
             weight_decay: float = 0.0) -> tuple[list[torch.Tensor], list[torch.Tensor]]:
    new_params, new_velocities = [], []
    for w, g, v in zip(params, grads, velocities, strict=True):
        v = g.clone() if v is None else momentum * v + g
        new_params.append(w - lr * (v + weight_decay * w))
        new_velocities.append(v)
    return new_params, new_velocities
