import pytest
import torch
from torch import nn

from grader.judge.checks import check_module
from hw5_refs import TorchLinear, TorchResBlock, check_state_layout, randomize


@pytest.mark.part("ResBlock")
def test_resblock_same_shape(student, rng):
    ref = randomize(TorchResBlock(4, 4), rng)
    xs = [[torch.randn(2, 4, 6, 6, generator=rng, dtype=torch.float64)] for _ in range(3)]
    check_module(student, "ResBlock", ref, 4, 4, inputs=xs, modes=("train", "train", "eval"),
                 hint=lambda m: "output = relu(bn2(conv2(...)) + extra(x)): ReLU after the "
                                "addition" if m.stage in ("values", "gradients") else None)


@pytest.mark.part("ResBlock")
def test_resblock_downsample(student, rng):
    ref = randomize(TorchResBlock(3, 6, stride=2), rng)
    xs = [[torch.randn(2, 3, 8, 8, generator=rng, dtype=torch.float64)] for _ in range(3)]
    check_module(student, "ResBlock", ref, 3, 6, init_kwargs={"stride": 2}, inputs=xs,
                 modes=("train", "train", "eval"),
                 hint=lambda m: "when the channels or the stride change, extra is "
                                "Sequential(Conv2d(ch_in, ch_out, 1, stride, bias=False), "
                                "BatchNorm2d(ch_out))" if m.stage == "state_dict" else None)


@pytest.mark.part("Flatten")
def test_flatten(student, rng):
    xs = [[torch.randn(3, 2, 4, 5, generator=rng, dtype=torch.float64)]]
    check_module(student, "Flatten", nn.Flatten(), inputs=xs,
                 hint=lambda m: "keep the batch dimension: [N, ...] -> [N, prod(...)]"
                 if m.stage == "shape" else None)


@pytest.mark.part("Flatten")
def test_flatten_float32(student, rng):
    xs = [[torch.randn(2, 3, 4, generator=rng)], [torch.randn(1, 5, 2, 2, generator=rng)]]
    check_module(student, "Flatten", nn.Flatten(), inputs=xs, modes=("train", "eval"),
                 dtype=torch.float32)


@pytest.mark.part("MyLinear")
def test_mylinear_state_dict(student, rng):
    check_state_layout(student, "MyLinear", TorchLinear(5, 3, rng).float(), 5, 3,
                       hint="w has shape [outp, inp] and b [outp], as nn.Parameters")


@pytest.mark.part("MyLinear")
def test_mylinear(student, rng):
    xs = [[torch.randn(4, 5, generator=rng, dtype=torch.float64)]]
    check_module(student, "MyLinear", TorchLinear(5, 3, rng), 5, 3, inputs=xs)


@pytest.mark.part("MyLinear")
def test_mylinear_float32(student, rng):
    xs = [[torch.randn(6, 7, generator=rng)], [torch.randn(2, 3, 7, generator=rng)]]
    check_module(student, "MyLinear", TorchLinear(7, 2, rng), 7, 2, inputs=xs,
                 dtype=torch.float32)
