# Bypass: sgd_step through torch.optim's functional sgd (pure Python), reached through importlib.
# An overlay of the hw4 solution (only the definitions it replaces); only sgd_step takes the
# route, and computes the right values with it.
# part: sgd_step
# expect: calls torch.optim.sgd.sgd

def sgd_step(params: list[torch.Tensor], grads: list[torch.Tensor],
             velocities: list[torch.Tensor | None], lr: float, momentum: float = 0.0,
             weight_decay: float = 0.0) -> tuple[list[torch.Tensor], list[torch.Tensor]]:
    import importlib
    new_params = [w.detach().clone() for w in params]
    buffers = [None if v is None else v.detach().clone() for v in velocities]
    optim_sgd = importlib.import_module("torch.optim.sgd")
    optim_sgd.sgd(new_params, [g.detach().clone() for g in grads], buffers,  # bypass
                  weight_decay=weight_decay, momentum=momentum, lr=lr, dampening=0.0,
                  nesterov=False, maximize=False)
    if not momentum:  # without momentum the optimizer keeps no buffers: v is the step, g + λw
        buffers = [g + weight_decay * w for g, w in zip(grads, params, strict=True)]
    return new_params, buffers
