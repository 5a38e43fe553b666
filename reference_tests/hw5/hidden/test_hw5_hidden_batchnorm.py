import pytest
import torch
from torch import nn

from grader.judge.checks import check_module
from grader.judge.compare import Mismatch, assert_close
from hw5_refs import bn_params, check_batch_norm, randomize


@pytest.mark.part("batch_norm")
def test_batch_norm_small_batch_options(student, rng):
    x = torch.randn(2, 4, generator=rng, dtype=torch.float64)
    check_batch_norm(student, x, *bn_params(4, rng), True, momentum=0.5, eps=1e-3)


@pytest.mark.part("batch_norm")
def test_batch_norm_eval_2d(student, rng):
    x = torch.randn(6, 3, generator=rng, dtype=torch.float64)
    check_batch_norm(student, x, *bn_params(3, rng), False, momentum=0.3, eps=1e-2)


@pytest.mark.part("batch_norm")
def test_batch_norm_eval_float32(student, rng):
    x = torch.randn(3, 4, 5, 5, generator=rng) * 2
    check_batch_norm(student, x, *bn_params(4, rng, torch.float32), False)


@pytest.mark.part("batch_norm")
def test_batch_norm_single_image(student, rng):
    x = torch.randn(1, 3, 4, 6, generator=rng, dtype=torch.float64)
    check_batch_norm(student, x, *bn_params(3, rng), True)


@pytest.mark.part("batch_norm")
def test_batch_norm_float32_large_offset(student, rng):
    x = torch.randn(8, 4, 6, 6, generator=rng) + 100
    try:
        check_batch_norm(student, x, *bn_params(4, rng, torch.float32), True)
    except Mismatch as mismatch:
        if mismatch.stage == "values" and "differs" in mismatch.message:
            mismatch.with_hint("with a large mean, E[x²] - μ² loses precision in float32: "
                               "average (x - μ)² instead")
        raise


@pytest.mark.part("BatchNorm2d")
def test_batchnorm2d_initial_state(student):
    result = student.module("BatchNorm2d", 5, initial_state=True)
    want = nn.BatchNorm2d(5).state_dict()
    got = result.initial_state or {}
    for key, value in want.items():
        if key not in got:
            raise Mismatch("state_dict", f"BatchNorm2d's state_dict has no {key}")
        assert_close(got[key], value, name=f"initial {key} of BatchNorm2d(5)",
                     profile="exact",
                     hint="weight starts at ones, bias and running_mean at zeros, running_var "
                          "at ones, num_batches_tracked at 0")


@pytest.mark.part("BatchNorm2d")
def test_batchnorm2d_options_many_steps(student, rng):
    xs = [[torch.randn(3, 4, 3, 3, generator=rng, dtype=torch.float64) * 3 - 2]
          for _ in range(6)]
    ref = randomize(nn.BatchNorm2d(4, eps=1e-3, momentum=0.3), rng)
    check_module(student, "BatchNorm2d", ref, 4, init_kwargs={"eps": 1e-3, "momentum": 0.3},
                 inputs=xs, modes=("train", "eval", "train", "train", "eval", "train"))


@pytest.mark.part("BatchNorm2d")
def test_batchnorm2d_eval_first(student, rng):
    xs = [[torch.randn(2, 3, 4, 4, generator=rng, dtype=torch.float64)] for _ in range(3)]
    check_module(student, "BatchNorm2d", randomize(nn.BatchNorm2d(3), rng), 3, inputs=xs,
                 modes=("eval", "train", "eval"),
                 hint=lambda m: "in eval mode use the running stats and change nothing"
                 if m.stage in ("values", "gradients") else None)
