import pytest
import torch
from hw4_refs import build_net, check_train_step, random_net_state, run_sgd, step_lr

from grader.judge.checks import check_function

STEP_LR_HINT = "at step_lr({}, {}, {}, {}) the rate is base_lr * gamma ** (epoch // step_size)"


def _sgd_inputs(rng, shapes, steps, dtype):
    params = [torch.randn(s, generator=rng, dtype=dtype) for s in shapes]
    grads = [[torch.randn(s, generator=rng, dtype=dtype) for s in shapes] for _ in range(steps)]
    return params, grads


@pytest.mark.part("sgd_step")
def test_sgd_plain(student, rng):
    params, grads = _sgd_inputs(rng, [(6, 2), (2,)], 10, torch.float64)
    run_sgd(student, check_function, params, grads, lr=0.3, momentum=0.0, weight_decay=0.0)


@pytest.mark.part("sgd_step")
def test_sgd_weight_decay_only(student, rng):
    params, grads = _sgd_inputs(rng, [(3, 3)], 10, torch.float64)
    run_sgd(student, check_function, params, grads, lr=0.1, momentum=0.0, weight_decay=0.5)


@pytest.mark.part("sgd_step")
def test_sgd_momentum_only(student, rng):
    params, grads = _sgd_inputs(rng, [(5,), (2, 2, 2)], 10, torch.float64)
    run_sgd(student, check_function, params, grads, lr=0.01, momentum=0.99, weight_decay=0.0)


@pytest.mark.part("sgd_step")
def test_sgd_large_float32(student, rng):
    params, grads = _sgd_inputs(rng, [(256, 64), (64,)], 10, torch.float32)
    run_sgd(student, check_function, params, grads, lr=0.1, momentum=0.9, weight_decay=0.05)


@pytest.mark.part("step_lr")
@pytest.mark.parametrize("base_lr,step_size,gamma,epochs", [
    (1.0, 1, 0.1, range(21)),
    (0.05, 30, 0.2, [0, 1, 29, 30, 31, 59, 60, 61, 89, 90, 100]),
    (0.3, 7, 0.9, range(0, 50, 3)),
    (0.01, 5, 1.0, [0, 4, 5, 6, 20]),
])
def test_step_lr_schedules(student, base_lr, step_size, gamma, epochs):
    for epoch in epochs:
        check_function(student, "step_lr", step_lr, base_lr, epoch, step_size, gamma,
                       profile="tight",
                       hint=STEP_LR_HINT.format(base_lr, epoch, step_size, gamma))


def _reference_steps(reference):
    def run(state, x, y, lr, momentum, steps):
        net = build_net({k: v.to(torch.float64) for k, v in state.items()})
        opt = torch.optim.SGD(net.parameters(), lr=lr, momentum=momentum)
        losses, trajectory = [], []
        for _ in range(steps):
            losses.append(reference.train_step(net, opt, x.to(torch.float64), y))
            trajectory.append({k: v.detach().clone() for k, v in net.state_dict().items()})
        return {"losses": losses, "params": trajectory[-1], "trajectory": trajectory}
    return run


@pytest.mark.part("train_step")
def test_train_step_float32(student, reference, rng):
    state = random_net_state(rng, 10, 12, 5, torch.float32)
    x = torch.randn(32, 10, generator=rng, dtype=torch.float32)
    y = torch.randint(0, 5, (32,), generator=rng)
    check_train_step(student, _reference_steps(reference), state, x, y, lr=0.05,
                     momentum=0.9, steps=4)


@pytest.mark.part("train_step")
def test_train_step_single(student, reference, rng):
    state = random_net_state(rng, 4, 6, 3, torch.float64)
    x = torch.randn(9, 4, generator=rng, dtype=torch.float64)
    y = torch.randint(0, 3, (9,), generator=rng)
    check_train_step(student, _reference_steps(reference), state, x, y, lr=0.5, momentum=0.0,
                     steps=1)


@pytest.mark.part("train_step")
def test_train_step_is_a_mean(student, reference, rng):
    state = random_net_state(rng, 8, 8, 10, torch.float64)
    x = torch.randn(128, 8, generator=rng, dtype=torch.float64)
    y = torch.randint(0, 10, (128,), generator=rng)
    check_train_step(student, _reference_steps(reference), state, x, y, lr=0.2, momentum=0.5,
                     steps=2)
