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
    (8, 8, 3, 1, 0), (32, 28, 5, 1, 2), (7, 9, 3, 2, 1), (10, 10, 4, 3, 0)])
def test_conv2d_output_size(student, h, w, k, stride, padding):
    check_output_size(student, h, w, k, stride, padding)


@pytest.mark.part("conv2d_output_size")
@pytest.mark.parametrize("h, w, k, stride", [(8, 8, 3, None), (9, 7, 2, None), (11, 10, 3, 2)])
def test_conv2d_output_size_defaults(student, h, w, k, stride):
    # stride (when None) and padding left out: stride=1, padding=0
    check_output_size(student, h, w, k, stride, None)


@pytest.mark.part("conv2d")
def test_conv2d_default_bias(student, rng):
    # bias, stride and padding left out: no bias, stride 1, no padding
    x = torch.randn(2, 2, 6, 5, generator=rng, dtype=torch.float64)
    w = torch.randn(3, 2, 3, 3, generator=rng, dtype=torch.float64)
    check_function(student, "conv2d", conv2d, x, w, grad=True, profile="accumulate",
                   hint=values_hint("bias defaults to None: no bias is added"))


@pytest.mark.part("conv2d")
def test_conv2d_basic(student, rng):
    x = torch.randn(2, 3, 8, 8, generator=rng, dtype=torch.float64)
    w = torch.randn(4, 3, 3, 3, generator=rng, dtype=torch.float64)
    b = torch.randn(4, generator=rng, dtype=torch.float64)
    check_function(student, "conv2d", conv2d, x, w, b, grad=True, profile="accumulate",
                   hint=FLIP_HINT)


@pytest.mark.part("conv2d")
def test_conv2d_stride_padding(student, rng):
    x = torch.randn(2, 3, 9, 8, generator=rng, dtype=torch.float64)
    w = torch.randn(5, 3, 3, 3, generator=rng, dtype=torch.float64)
    b = torch.randn(5, generator=rng, dtype=torch.float64)
    check_function(student, "conv2d", conv2d, x, w, b, stride=2, padding=1, grad=True,
                   profile="accumulate",
                   hint=values_hint("pad the input with `padding` zeros on each side, then "
                                    "move the window by `stride`"))


@pytest.mark.part("conv2d")
def test_conv2d_no_bias(student, rng):
    x = torch.randn(2, 2, 6, 6, generator=rng, dtype=torch.float64)
    w = torch.randn(3, 2, 3, 3, generator=rng, dtype=torch.float64)
    check_function(student, "conv2d", conv2d, x, w, None, grad=True, profile="accumulate",
                   hint=FLIP_HINT)


@pytest.mark.part("conv2d")
def test_conv2d_float32(student, rng):
    x = torch.randn(2, 3, 8, 8, generator=rng)
    w = torch.randn(4, 3, 3, 3, generator=rng)
    b = torch.randn(4, generator=rng)
    check_function(student, "conv2d", conv2d, x, w, b, padding=1, grad=True,
                   profile="accumulate", hint=FLIP_HINT)
