import pytest
import torch
from torch import nn

from grader.judge.checks import check_module
from hw5_refs import TorchLinear, check_state_layout
from hw5_resblock_checks import (SHORTCUT_HINT, Block, check_every_parameter_learns,
                                 check_identity_shortcut, check_layers, check_output,
                                 check_projection_shortcut, check_relu_after_bn1)


def _batchnorm(name: str, c: int) -> dict[str, tuple[tuple[int, ...], str]]:
    """The state of an ``nn.BatchNorm2d(c)`` held as ``name``."""
    return {f"{name}.weight": ((c,), "float32"), f"{name}.bias": ((c,), "float32"),
            f"{name}.running_mean": ((c,), "float32"), f"{name}.running_var": ((c,), "float32"),
            f"{name}.num_batches_tracked": ((), "int64")}


def _layers(ch_in: int, ch_out: int, stride: int, projection: bool) -> dict[str, str]:
    """The layers the docstring lists, as the harness describes them."""
    layers = {"conv1": f"Conv2d({ch_in}, {ch_out}, 3, stride={stride}, padding=1, bias=False)",
              "bn1": f"BatchNorm2d({ch_out})",
              "conv2": f"Conv2d({ch_out}, {ch_out}, 3, stride=1, padding=1, bias=False)",
              "bn2": f"BatchNorm2d({ch_out})"}
    if projection:
        layers["extra.0"] = f"Conv2d({ch_in}, {ch_out}, 1, stride={stride}, padding=0, bias=False)"
        layers["extra.1"] = f"BatchNorm2d({ch_out})"
    return layers


# The state_dicts and layers the docstring describes, written out. ResBlock(4, 4): the
# shortcut is nn.Sequential(), which holds nothing.
SAME = Block((4, 4), {"conv1.weight": ((4, 4, 3, 3), "float32"), **_batchnorm("bn1", 4),
                      "conv2.weight": ((4, 4, 3, 3), "float32"), **_batchnorm("bn2", 4)},
             _layers(4, 4, 1, projection=False))
# ResBlock(3, 6, stride=2): the channels and the stride change, the shortcut is a projection.
DOWN = Block((3, 6), {"conv1.weight": ((6, 3, 3, 3), "float32"), **_batchnorm("bn1", 6),
                      "conv2.weight": ((6, 6, 3, 3), "float32"), **_batchnorm("bn2", 6),
                      "extra.0.weight": ((6, 3, 1, 1), "float32"), **_batchnorm("extra.1", 6)},
             _layers(3, 6, 2, projection=True), {"stride": 2})
# ResBlock(4, 4, stride=2): the stride alone changes the shape, so a projection too.
STRIDED = Block((4, 4), {"conv1.weight": ((4, 4, 3, 3), "float32"), **_batchnorm("bn1", 4),
                         "conv2.weight": ((4, 4, 3, 3), "float32"), **_batchnorm("bn2", 4),
                         "extra.0.weight": ((4, 4, 1, 1), "float32"),
                         **_batchnorm("extra.1", 4)},
                _layers(4, 4, 2, projection=True), {"stride": 2})


@pytest.mark.part("ResBlock")
@pytest.mark.parametrize("block", [SAME, DOWN, STRIDED], ids=["same", "down", "strided"])
def test_resblock_layers_and_state_dict(student, block):
    check_layers(student, block)
    check_state_layout(student, "ResBlock", block.table, *block.args, init_kwargs=block.kwargs,
                       hint=SHORTCUT_HINT)


@pytest.mark.part("ResBlock")
def test_resblock_same_shape(student, rng):
    x = torch.randn(2, 4, 6, 6, generator=rng, dtype=torch.float64)
    check_output(student, SAME, x, (2, 4, 6, 6), rng)
    check_identity_shortcut(student, SAME, x, rng)
    check_relu_after_bn1(student, SAME, x, rng)
    check_every_parameter_learns(student, SAME, x, (2, 4, 6, 6), rng)


@pytest.mark.part("ResBlock")
def test_resblock_downsample(student, rng):
    x = torch.randn(2, 3, 8, 8, generator=rng, dtype=torch.float64)
    check_output(student, DOWN, x, (2, 6, 4, 4), rng)
    check_projection_shortcut(student, DOWN, x, rng)
    check_every_parameter_learns(student, DOWN, x, (2, 6, 4, 4), rng)


@pytest.mark.part("ResBlock")
def test_resblock_stride_alone(student, rng):
    x = torch.randn(2, 4, 7, 7, generator=rng, dtype=torch.float64)
    check_output(student, STRIDED, x, (2, 4, 4, 4), rng)
    check_projection_shortcut(student, STRIDED, x, rng)


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
