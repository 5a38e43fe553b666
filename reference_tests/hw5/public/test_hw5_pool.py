import pytest
import torch
import torch.nn.functional as F

from grader.judge.checks import check_function
from hw5_refs import distinct, values_hint

STRIDE_HINT = values_hint("when stride is None it defaults to kernel_size (windows do not "
                          "overlap)")


def max_pool2d(x, kernel_size, stride=None):
    return F.max_pool2d(x, kernel_size, stride)


def avg_pool2d(x, kernel_size, stride=None):
    return F.avg_pool2d(x, kernel_size, stride)


def upsample_nearest(x, scale_factor):
    return F.interpolate(x, scale_factor=scale_factor, mode="nearest")


@pytest.mark.part("max_pool2d")
def test_max_pool2d_default_stride(student, rng):
    x = distinct((2, 3, 8, 8), rng)
    check_function(student, "max_pool2d", max_pool2d, x, 2, grad=True, hint=STRIDE_HINT)


@pytest.mark.part("max_pool2d")
def test_max_pool2d_overlapping(student, rng):
    x = distinct((2, 2, 7, 9), rng)
    check_function(student, "max_pool2d", max_pool2d, x, 3, stride=2, grad=True)


@pytest.mark.part("max_pool2d")
def test_max_pool2d_float32(student, rng):
    x = distinct((2, 3, 6, 6), rng, torch.float32)
    check_function(student, "max_pool2d", max_pool2d, x, 3, grad=True, hint=STRIDE_HINT)


@pytest.mark.part("avg_pool2d")
def test_avg_pool2d_default_stride(student, rng):
    x = torch.randn(2, 3, 8, 8, generator=rng, dtype=torch.float64)
    check_function(student, "avg_pool2d", avg_pool2d, x, 2, grad=True, profile="accumulate",
                   hint=STRIDE_HINT)


@pytest.mark.part("avg_pool2d")
def test_avg_pool2d_overlapping(student, rng):
    x = torch.randn(2, 2, 7, 9, generator=rng, dtype=torch.float64)
    check_function(student, "avg_pool2d", avg_pool2d, x, 3, stride=2, grad=True,
                   profile="accumulate")


@pytest.mark.part("avg_pool2d")
def test_avg_pool2d_float32(student, rng):
    x = torch.randn(2, 3, 6, 6, generator=rng)
    check_function(student, "avg_pool2d", avg_pool2d, x, 3, grad=True, profile="accumulate")


@pytest.mark.part("upsample_nearest")
def test_upsample_nearest(student, rng):
    x = torch.randn(2, 3, 4, 5, generator=rng, dtype=torch.float64)
    check_function(student, "upsample_nearest", upsample_nearest, x, 2, grad=True,
                   hint=values_hint("each pixel becomes a scale x scale block (repeat each "
                                    "row and column, do not tile the whole image)"))


@pytest.mark.part("upsample_nearest")
def test_upsample_nearest_float32(student, rng):
    x = torch.randn(1, 2, 3, 3, generator=rng)
    check_function(student, "upsample_nearest", upsample_nearest, x, 3, grad=True)
