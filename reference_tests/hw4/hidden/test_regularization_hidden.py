import pytest
import torch
from hw4_hidden_refs import dropout_reference
from hw4_refs import harness_call, nan_hint

from grader.judge.checks import check_function
from grader.judge.compare import assert_close
from grader.judge.proxy import generator

L1_HINT = "the L1 penalty is the sum of |w| over every element of every param"
L2_HINT = "the L2 penalty is ½ Σ w² (with the ½, its gradient is w)"
DROPOUT_HINT = ("draw keep = torch.rand(x.shape, generator=generator, dtype=x.dtype, "
                "device=x.device) >= p once, and return x * keep / (1 - p)")


def _params(rng, dtype, big=False):
    shapes = [(300, 400), (400,), (2, 3, 5, 5), ()] if big else [(4, 6), (6,), ()]
    return [torch.randn(s, generator=rng, dtype=dtype) for s in shapes]


def _seed(rng):
    return int(torch.randint(0, 2**31 - 1, (1,), generator=rng))


@pytest.mark.part("l1_penalty")
def test_l1_penalty_float32(student, reference, rng):
    check_function(student, "l1_penalty", reference.l1_penalty, _params(rng, torch.float32),
                   grad=True, profile="accumulate", hint=L1_HINT)


@pytest.mark.part("l1_penalty")
def test_l1_penalty_large(student, reference, rng):
    check_function(student, "l1_penalty", reference.l1_penalty,
                   _params(rng, torch.float64, big=True), grad=True, profile="accumulate",
                   hint=L1_HINT)


@pytest.mark.part("l1_penalty")
def test_l1_penalty_one_param(student, reference, rng):
    check_function(student, "l1_penalty", reference.l1_penalty,
                   [torch.randn(7, generator=rng, dtype=torch.float64)], grad=True,
                   profile="accumulate", hint=L1_HINT)


@pytest.mark.part("l2_penalty")
def test_l2_penalty_float32(student, reference, rng):
    check_function(student, "l2_penalty", reference.l2_penalty, _params(rng, torch.float32),
                   grad=True, profile="accumulate", hint=L2_HINT)


@pytest.mark.part("l2_penalty")
def test_l2_penalty_large(student, reference, rng):
    check_function(student, "l2_penalty", reference.l2_penalty,
                   _params(rng, torch.float64, big=True), grad=True, profile="accumulate",
                   hint=L2_HINT)


@pytest.mark.part("l2_penalty")
def test_l2_penalty_generator_float32(student, reference, rng):
    params = _params(rng, torch.float32)
    got = harness_call(student, "penalty_of_generator", "l2_penalty", "l2_penalty", params)
    want = reference.l2_penalty([p.double() for p in params])
    assert_close(got, want.detach(), name="l2_penalty(model.parameters())",
                 profile="accumulate", dtype=torch.float32,
                 hint="params may be a generator, which can be iterated only once")


@pytest.mark.part("dropout")
@pytest.mark.parametrize("p", [0.0, 0.1, 0.5, 0.9])
def test_dropout_float32(student, rng, p):
    x = torch.randn(8, 16, generator=rng, dtype=torch.float32)
    seed = _seed(rng)
    check_function(student, "dropout", dropout_reference(seed, x.dtype, student.device_for(x.dtype)),
                   x, p, True, generator(seed), grad=True, hint=DROPOUT_HINT)


@pytest.mark.part("dropout")
def test_dropout_p_one(student, rng):
    x = torch.randn(5, 6, generator=rng, dtype=torch.float64)
    seed = _seed(rng)
    check_function(student, "dropout", dropout_reference(seed, x.dtype, student.device_for(x.dtype)),
                   x, 1.0, True, generator(seed), grad=True,
                   hint=nan_hint("p = 1 drops every unit: return zeros, not x * 0 / 0"))


@pytest.mark.part("dropout")
def test_dropout_large_4d(student, rng):
    x = torch.randn(8, 16, 24, 24, generator=rng, dtype=torch.float64)
    seed = _seed(rng)
    check_function(student, "dropout", dropout_reference(seed, x.dtype, student.device_for(x.dtype)),
                   x, 0.25, True, generator(seed), grad=True, hint=DROPOUT_HINT)


@pytest.mark.part("dropout")
def test_dropout_eval_float32(student, rng):
    x = torch.randn(3, 4, 5, generator=rng, dtype=torch.float32)
    check_function(student, "dropout", dropout_reference(0, x.dtype, student.device_for(x.dtype)),
                   x, 0.7, False, generator(1), grad=True,
                   hint="when not training, return x unchanged (no mask, no scaling)")
