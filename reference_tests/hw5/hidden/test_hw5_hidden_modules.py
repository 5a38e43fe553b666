import pytest
import torch
from torch import nn

from grader.judge.checks import check_module
from hw5_hidden_refs import TorchResBlock
from hw5_refs import TorchLinear, check_state_layout, randomize

SHORTCUT_HINT = ("when the channels or the stride change, extra is Sequential(Conv2d(ch_in, "
                 "ch_out, 1, stride, bias=False), BatchNorm2d(ch_out))")


# The public tests check ResBlock by its state_dict and properties; these compare every
# output, gradient and buffer with a torch-built block holding the same state.

@pytest.mark.part("ResBlock")
def test_resblock_matches_torch_same_shape(student, rng):
    ref = randomize(TorchResBlock(4, 4), rng)
    xs = [[torch.randn(2, 4, 6, 6, generator=rng, dtype=torch.float64)] for _ in range(3)]
    check_module(student, "ResBlock", ref, 4, 4, inputs=xs, modes=("train", "train", "eval"),
                 hint=lambda m: "output = relu(bn2(conv2(...)) + extra(x)): ReLU after the "
                                "addition" if m.stage in ("values", "gradients") else None)


@pytest.mark.part("ResBlock")
def test_resblock_matches_torch_downsample(student, rng):
    ref = randomize(TorchResBlock(3, 6, stride=2), rng)
    xs = [[torch.randn(2, 3, 8, 8, generator=rng, dtype=torch.float64)] for _ in range(3)]
    check_module(student, "ResBlock", ref, 3, 6, init_kwargs={"stride": 2}, inputs=xs,
                 modes=("train", "train", "eval"),
                 hint=lambda m: SHORTCUT_HINT if m.stage == "state_dict" else None)


@pytest.mark.part("ResBlock")
def test_resblock_stride2_same_channels(student, rng):
    ref = randomize(TorchResBlock(4, 4, stride=2), rng)
    xs = [[torch.randn(2, 4, 7, 7, generator=rng, dtype=torch.float64)] for _ in range(2)]
    check_module(student, "ResBlock", ref, 4, 4, init_kwargs={"stride": 2}, inputs=xs,
                 modes=("train", "eval"),
                 hint=lambda m: SHORTCUT_HINT if m.stage == "state_dict" else None)


@pytest.mark.part("ResBlock")
def test_resblock_channels_change_stride1(student, rng):
    ref = randomize(TorchResBlock(3, 5), rng)
    xs = [[torch.randn(2, 3, 5, 5, generator=rng, dtype=torch.float64)] for _ in range(2)]
    check_module(student, "ResBlock", ref, 3, 5, inputs=xs, modes=("train", "eval"),
                 hint=lambda m: SHORTCUT_HINT if m.stage == "state_dict" else None)


@pytest.mark.part("ResBlock")
def test_resblock_float32_downsample(student, rng):
    ref = randomize(TorchResBlock(4, 8, stride=2), rng)
    xs = [[torch.randn(4, 4, 8, 8, generator=rng)] for _ in range(3)]
    check_module(student, "ResBlock", ref, 4, 8, init_kwargs={"stride": 2}, inputs=xs,
                 modes=("train", "train", "eval"), dtype=torch.float32)


@pytest.mark.part("ResBlock")
def test_resblock_eval_only(student, rng):
    ref = randomize(TorchResBlock(3, 3), rng)
    xs = [[torch.randn(2, 3, 6, 6, generator=rng, dtype=torch.float64)]]
    check_module(student, "ResBlock", ref, 3, 3, inputs=xs, modes=("eval",))


@pytest.mark.part("Flatten")
def test_flatten_2d_and_5d(student, rng):
    xs = [[torch.randn(4, 7, generator=rng, dtype=torch.float64)],
          [torch.randn(2, 2, 3, 2, 2, generator=rng, dtype=torch.float64)]]
    check_module(student, "Flatten", nn.Flatten(), inputs=xs, modes=("train", "train"),
                 hint=lambda m: "keep the batch dimension: [N, ...] -> [N, prod(...)]"
                 if m.stage == "shape" else None)


@pytest.mark.part("MyLinear")
def test_mylinear_state_dict_other_sizes(student, rng):
    check_state_layout(student, "MyLinear", TorchLinear(2, 9, rng).float(), 2, 9,
                       hint="w has shape [outp, inp] and b [outp], as nn.Parameters")


@pytest.mark.part("MyLinear")
def test_mylinear_batched(student, rng):
    xs = [[torch.randn(2, 3, 4, generator=rng, dtype=torch.float64)],
          [torch.randn(1, 4, generator=rng, dtype=torch.float64)]]
    check_module(student, "MyLinear", TorchLinear(4, 6, rng), 4, 6, inputs=xs,
                 modes=("train", "eval"))
