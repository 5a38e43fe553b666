import pytest
import torch
import torch.nn.functional as F

from grader.judge.checks import check_function
from hw5_refs import check_output_size, values_hint

FLIP_HINT = values_hint("PyTorch's conv2d is a cross-correlation: slide the kernel without "
                        "flipping it")


def conv2d(x, weight, bias=None, stride=1, padding=0):
    return F.conv2d(x, weight, bias, stride=stride, padding=padding)


@pytest.mark.part("conv2d_output_size")
@pytest.mark.parametrize("h, w, k, stride, padding", [
    (5, 5, 1, 3, 0), (1, 1, 1, 1, 0), (6, 11, 3, 4, 2), (224, 224, 7, 2, 3), (3, 4, 3, 5, 0)])
def test_conv2d_output_size_edges(student, h, w, k, stride, padding):
    check_output_size(student, h, w, k, stride, padding)


@pytest.mark.part("conv2d")
def test_conv2d_rectangular_kernel(student, rng):
    x = torch.randn(2, 3, 7, 6, generator=rng, dtype=torch.float64)
    w = torch.randn(4, 3, 2, 3, generator=rng, dtype=torch.float64)
    b = torch.randn(4, generator=rng, dtype=torch.float64)
    check_function(student, "conv2d", conv2d, x, w, b, stride=2, padding=1, grad=True,
                   profile="accumulate",
                   hint=values_hint("the kernel may be rectangular: use kh and kw separately"))


@pytest.mark.part("conv2d")
def test_conv2d_1x1_strided(student, rng):
    x = torch.randn(3, 4, 7, 7, generator=rng, dtype=torch.float64)
    w = torch.randn(2, 4, 1, 1, generator=rng, dtype=torch.float64)
    check_function(student, "conv2d", conv2d, x, w, None, stride=2, grad=True,
                   profile="accumulate")


@pytest.mark.part("conv2d")
def test_conv2d_big_padding_stride(student, rng):
    x = torch.randn(1, 1, 5, 8, generator=rng, dtype=torch.float64)
    w = torch.randn(3, 1, 3, 3, generator=rng, dtype=torch.float64)
    b = torch.randn(3, generator=rng, dtype=torch.float64)
    check_function(student, "conv2d", conv2d, x, w, b, stride=3, padding=2, grad=True,
                   profile="accumulate", hint=FLIP_HINT)


@pytest.mark.part("conv2d")
def test_conv2d_float32_larger(student, rng):
    x = torch.randn(4, 8, 16, 16, generator=rng)
    w = torch.randn(16, 8, 3, 3, generator=rng) * 0.2
    b = torch.randn(16, generator=rng)
    check_function(student, "conv2d", conv2d, x, w, b, padding=1, grad=True,
                   profile="accumulate", hint=FLIP_HINT)
