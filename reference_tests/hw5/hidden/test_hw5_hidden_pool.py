import pytest
import torch
import torch.nn.functional as F

from grader.judge.checks import check_function
from hw5_refs import distinct, values_hint


def max_pool2d(x, kernel_size, stride=None):
    return F.max_pool2d(x, kernel_size, stride)


def avg_pool2d(x, kernel_size, stride=None):
    return F.avg_pool2d(x, kernel_size, stride)


def upsample_nearest(x, scale_factor):
    return F.interpolate(x, scale_factor=scale_factor, mode="nearest")


LEFTOVER_HINT = values_hint("rows and columns that do not fill a whole window are dropped")


@pytest.mark.part("max_pool2d")
def test_max_pool2d_gaps_and_leftover(student, rng):
    x = distinct((2, 3, 9, 10), rng)
    check_function(student, "max_pool2d", max_pool2d, x, 2, stride=3, grad=True,
                   hint=LEFTOVER_HINT)


@pytest.mark.part("max_pool2d")
def test_max_pool2d_leftover_default_stride(student, rng):
    x = distinct((1, 2, 9, 11), rng)
    check_function(student, "max_pool2d", max_pool2d, x, 4, grad=True, hint=LEFTOVER_HINT)


@pytest.mark.part("max_pool2d")
def test_max_pool2d_float32_larger(student, rng):
    x = distinct((4, 8, 16, 16), rng, torch.float32)
    check_function(student, "max_pool2d", max_pool2d, x, 2, grad=True)


@pytest.mark.part("avg_pool2d")
def test_avg_pool2d_stride_1(student, rng):
    x = torch.randn(2, 3, 6, 5, generator=rng, dtype=torch.float64)
    check_function(student, "avg_pool2d", avg_pool2d, x, 2, stride=1, grad=True,
                   profile="accumulate")


@pytest.mark.part("avg_pool2d")
def test_avg_pool2d_leftover(student, rng):
    x = torch.randn(1, 2, 9, 11, generator=rng, dtype=torch.float64)
    check_function(student, "avg_pool2d", avg_pool2d, x, 4, grad=True, profile="accumulate",
                   hint=LEFTOVER_HINT)


@pytest.mark.part("avg_pool2d")
def test_avg_pool2d_float32_larger(student, rng):
    x = torch.randn(4, 8, 16, 16, generator=rng)
    check_function(student, "avg_pool2d", avg_pool2d, x, 2, grad=True, profile="accumulate")


@pytest.mark.part("upsample_nearest")
@pytest.mark.parametrize("scale", [1, 4])
def test_upsample_nearest_scales(student, rng, scale):
    x = torch.randn(2, 2, 3, 5, generator=rng, dtype=torch.float64)
    check_function(student, "upsample_nearest", upsample_nearest, x, scale, grad=True)


@pytest.mark.part("upsample_nearest")
def test_upsample_nearest_float32_larger(student, rng):
    x = torch.randn(4, 8, 16, 16, generator=rng)
    check_function(student, "upsample_nearest", upsample_nearest, x, 2, grad=True)
