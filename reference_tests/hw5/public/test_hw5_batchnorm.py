import pytest
import torch
from torch import nn

from grader.judge.checks import check_module
from hw5_refs import bn_params, check_batch_norm, check_batch_norm_steps, check_state_layout, \
    randomize


@pytest.mark.part("batch_norm")
def test_batch_norm_train_4d(student, rng):
    x = torch.randn(4, 3, 5, 5, generator=rng, dtype=torch.float64) * 2 + 1
    check_batch_norm(student, x, *bn_params(3, rng), True)


@pytest.mark.part("batch_norm")
def test_batch_norm_eval_4d(student, rng):
    x = torch.randn(4, 3, 5, 5, generator=rng, dtype=torch.float64)
    check_batch_norm(student, x, *bn_params(3, rng), False)


@pytest.mark.part("batch_norm")
def test_batch_norm_train_2d(student, rng):
    x = torch.randn(8, 5, generator=rng, dtype=torch.float64) * 3 - 1
    check_batch_norm(student, x, *bn_params(5, rng), True, momentum=0.2)


@pytest.mark.part("batch_norm")
def test_batch_norm_train_float32(student, rng):
    x = torch.randn(4, 3, 4, 4, generator=rng) + 0.5
    check_batch_norm(student, x, *bn_params(3, rng, torch.float32), True)


@pytest.mark.part("batch_norm")
def test_batch_norm_running_stats_over_steps(student, rng):
    xs = [torch.randn(4, 3, 3, 3, generator=rng, dtype=torch.float64) * (k + 1) + k
          for k in range(4)]
    check_batch_norm_steps(student, xs, *bn_params(3, rng), momentum=0.3)


@pytest.mark.part("BatchNorm2d")
def test_batchnorm2d_state_dict(student):
    check_state_layout(student, "BatchNorm2d", nn.BatchNorm2d(3), 3,
                       hint="register running_mean, running_var and num_batches_tracked "
                            "(int64) with register_buffer")


@pytest.mark.part("BatchNorm2d")
def test_batchnorm2d_train_then_eval(student, rng):
    xs = [[torch.randn(4, 3, 5, 5, generator=rng, dtype=torch.float64) * 2 + 1]
          for _ in range(4)]
    check_module(student, "BatchNorm2d", randomize(nn.BatchNorm2d(3), rng), 3, inputs=xs,
                 modes=("train", "train", "train", "eval"),
                 hint=lambda m: "running_var uses the unbiased batch variance (divide by "
                                "n-1)" if "running_var" in m.message else None)


@pytest.mark.part("BatchNorm2d")
def test_batchnorm2d_float32(student, rng):
    xs = [[torch.randn(3, 2, 4, 4, generator=rng) - 1] for _ in range(3)]
    check_module(student, "BatchNorm2d", randomize(nn.BatchNorm2d(2), rng), 2, inputs=xs,
                 modes=("train", "train", "eval"), dtype=torch.float32)
