import pytest
import torch

from hw6_refs import (LENET_HINT, TorchDenseBlock, TorchLeNet5, check_layers, dense_hint,
                      randomize, stage_hint)

LENET = stage_hint(("state_dict", "shape", "values"), LENET_HINT)


@pytest.mark.part("LeNet5")
def test_lenet5_default_arguments(student, rng):
    ref = randomize(TorchLeNet5(), rng)
    xs = [[torch.randn(4, 3, 32, 32, generator=rng, dtype=torch.float64)]]
    check_layers(student, "LeNet5", ref, inputs=xs, hint=LENET)


@pytest.mark.part("LeNet5")
def test_lenet5_batch_of_one(student, rng):
    ref = randomize(TorchLeNet5(2, 7), rng)
    xs = [[torch.randn(1, 2, 32, 32, generator=rng, dtype=torch.float64)],
          [torch.randn(5, 2, 32, 32, generator=rng, dtype=torch.float64)]]
    check_layers(student, "LeNet5", ref, 2, 7, inputs=xs, modes=("eval", "train"),
                 hint=stage_hint(("shape", "values"), "flatten with x.reshape(x.shape[0], -1): "
                                                      "keep the batch dimension, even of size 1"))


@pytest.mark.part("DenseBlock")
def test_dense_block_four_layers(student, rng):
    ref = randomize(TorchDenseBlock(4, 3, 4), rng)
    xs = [[torch.randn(3, 4, 5, 5, generator=rng, dtype=torch.float64)] for _ in range(3)]
    check_layers(student, "DenseBlock", ref, 4, 3, 4, inputs=xs,
                 modes=("train", "train", "eval"), hint=dense_hint)


@pytest.mark.part("DenseBlock")
def test_dense_block_one_layer_eval_only(student, rng):
    ref = randomize(TorchDenseBlock(2, 5, 1), rng)
    xs = [[torch.randn(2, 2, 4, 7, generator=rng, dtype=torch.float64)]]
    check_layers(student, "DenseBlock", ref, 2, 5, 1, inputs=xs, modes=("eval",),
                 hint=dense_hint)


@pytest.mark.part("DenseBlock")
def test_dense_block_float32(student, rng):
    ref = randomize(TorchDenseBlock(3, 2, 3), rng)
    xs = [[torch.randn(4, 3, 8, 8, generator=rng)] for _ in range(2)]
    check_layers(student, "DenseBlock", ref, 3, 2, 3, inputs=xs, modes=("train", "eval"),
                 dtype=torch.float32, hint=dense_hint)
