import pytest
import torch
from hw4_refs import check_train_step, gradient_descent, random_net_state, run_sgd, step_lr

from grader.judge.checks import check_function

STEP_LR_HINT = "at step_lr({}, {}, {}, {}) the rate is base_lr * gamma ** (epoch // step_size)"


def _sgd_inputs(rng, shapes, steps, dtype):
    params = [torch.randn(s, generator=rng, dtype=dtype) for s in shapes]
    grads = [[torch.randn(s, generator=rng, dtype=dtype) for s in shapes] for _ in range(steps)]
    return params, grads


@pytest.mark.part("sgd_step")
def test_sgd_momentum_weight_decay(student, rng):
    params, grads = _sgd_inputs(rng, [(5, 3), (3,)], 10, torch.float64)
    run_sgd(student, check_function, params, grads, lr=0.1, momentum=0.9, weight_decay=0.01)


@pytest.mark.part("sgd_step")
def test_sgd_float32(student, rng):
    params, grads = _sgd_inputs(rng, [(4, 4), (4,)], 10, torch.float32)
    run_sgd(student, check_function, params, grads, lr=0.05, momentum=0.5, weight_decay=0.1)


@pytest.mark.part("sgd_step")
def test_sgd_defaults(student, rng):
    # momentum and weight_decay left out: plain SGD (a velocity is only the gradient)
    params, grads = _sgd_inputs(rng, [(3, 4), (4,)], 3, torch.float64)
    run_sgd(student, check_function, params, grads, lr=0.2)


@pytest.mark.part("step_lr")
def test_step_lr(student):
    for epoch in range(13):
        check_function(student, "step_lr", step_lr, 0.1, epoch, 3, 0.5, profile="tight",
                       hint=STEP_LR_HINT.format(0.1, epoch, 3, 0.5))


@pytest.mark.part("train_step")
def test_train_step(student, rng):
    state = random_net_state(rng, 6, 8, 4, torch.float64)
    x = torch.randn(16, 6, generator=rng, dtype=torch.float64)
    y = torch.randint(0, 4, (16,), generator=rng)
    check_train_step(student, gradient_descent, state, x, y, lr=0.1, momentum=0.9, steps=3)
