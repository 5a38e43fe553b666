import pytest
import torch
from hw4_refs import drawn_keep, harness_call, l1_penalty, l2_penalty, masked, unchanged

from grader.judge.checks import check_function
from grader.judge.compare import assert_close
from grader.judge.proxy import generator

L1_HINT = "the L1 penalty is the sum of |w| over every element of every param"
L2_HINT = "the L2 penalty is ½ Σ w² (with the ½, its gradient is w)"
DROPOUT_HINT = ("draw keep = torch.rand(x.shape, generator=generator, dtype=x.dtype, "
                "device=x.device) >= p once, and return x * keep / (1 - p)")


def _params(rng, dtype=torch.float64):
    shapes = [(5, 3), (3,), (2, 3, 4)]
    return [torch.randn(s, generator=rng, dtype=dtype) for s in shapes]


@pytest.mark.part("l1_penalty")
def test_l1_penalty(student, rng):
    check_function(student, "l1_penalty", l1_penalty, _params(rng), grad=True,
                   profile="accumulate", hint=L1_HINT)


@pytest.mark.part("l1_penalty")
def test_l1_penalty_of_parameters(student, rng):
    params = _params(rng)
    got = harness_call(student, "penalty_of_generator", "l1_penalty", "l1_penalty", params)
    assert_close(got, l1_penalty(params), name="l1_penalty(model.parameters())",
                 profile="accumulate",
                 hint="params may be a generator, which can be iterated only once")


@pytest.mark.part("l2_penalty")
def test_l2_penalty(student, rng):
    check_function(student, "l2_penalty", l2_penalty, _params(rng), grad=True,
                   profile="accumulate", hint=L2_HINT)


@pytest.mark.part("l2_penalty")
def test_l2_penalty_of_parameters(student, rng):
    params = _params(rng)
    got = harness_call(student, "penalty_of_generator", "l2_penalty", "l2_penalty", params)
    assert_close(got, l2_penalty(params), name="l2_penalty(model.parameters())",
                 profile="accumulate",
                 hint="params may be a generator, which can be iterated only once")


@pytest.mark.part("dropout")
def test_dropout_training(student, rng):
    x = torch.randn(6, 7, generator=rng, dtype=torch.float64)
    seed = int(torch.randint(0, 2**31 - 1, (1,), generator=rng))
    keep = drawn_keep(seed, x, 0.3, student.device_for(x.dtype))
    check_function(student, "dropout", masked(keep), x, 0.3, True, generator(seed), grad=True,
                   hint=DROPOUT_HINT)


@pytest.mark.part("dropout")
def test_dropout_eval(student, rng):
    x = torch.randn(4, 5, generator=rng, dtype=torch.float64)
    check_function(student, "dropout", unchanged, x, 0.5, False, generator(0), grad=True,
                   hint="when not training, return x unchanged (no mask, no scaling)")
