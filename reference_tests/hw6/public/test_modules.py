import pytest
import torch

from hw6_refs import (LENET_HINT, TorchDenseBlock, TorchLeNet5, check_layers, dense_hint,
                      randomize, stage_hint)

LENET = stage_hint(("state_dict", "shape", "values"), LENET_HINT)


@pytest.mark.part("LeNet5")
def test_lenet5(student, rng):
    ref = randomize(TorchLeNet5(3, 10), rng)
    xs = [[torch.randn(2, 3, 32, 32, generator=rng, dtype=torch.float64)]]
    check_layers(student, "LeNet5", ref, 3, 10, inputs=xs, hint=LENET)


@pytest.mark.part("LeNet5")
def test_lenet5_one_channel_five_classes_float32(student, rng):
    ref = randomize(TorchLeNet5(1, 5), rng)
    xs = [[torch.randn(3, 1, 32, 32, generator=rng)], [torch.randn(1, 1, 32, 32, generator=rng)]]
    check_layers(student, "LeNet5", ref, init_kwargs={"in_channels": 1, "num_classes": 5},
                 inputs=xs, modes=("train", "eval"), dtype=torch.float32, hint=LENET)


@pytest.mark.part("DenseBlock")
def test_dense_block(student, rng):
    ref = randomize(TorchDenseBlock(3, 4, 2), rng)
    xs = [[torch.randn(2, 3, 6, 6, generator=rng, dtype=torch.float64)] for _ in range(3)]
    check_layers(student, "DenseBlock", ref, 3, 4, 2, inputs=xs,
                 modes=("train", "train", "eval"), hint=dense_hint)
