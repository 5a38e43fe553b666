import pytest
import torch
from hw4_refs import ReferenceMLP, check_init, check_structure, randomize, relu_last_hint

from grader.judge.checks import check_module


@pytest.mark.part("MLP")
def test_mlp_forward(student, rng):
    sizes = (20, 16, 12, 5)
    ref = randomize(ReferenceMLP(sizes).double(), rng)
    x1 = torch.randn(8, 20, generator=rng, dtype=torch.float64)
    x2 = torch.randn(3, 20, generator=rng, dtype=torch.float64)
    check_module(student, "MLP", ref, init_kwargs={"sizes": sizes}, inputs=[[x1], [x2]],
                 modes=("train", "eval"), hint=relu_last_hint)


@pytest.mark.part("MLP")
def test_mlp_default_sizes(student, rng):
    ref = randomize(ReferenceMLP((784, 200, 200, 10)).double(), rng)
    x = torch.randn(2, 784, generator=rng, dtype=torch.float64)
    check_module(student, "MLP", ref, inputs=[[x]], modes=("eval",), hint=relu_last_hint)


@pytest.mark.part("MLP")
def test_mlp_layers(student):
    check_structure(student, (10, 8, 6, 3))


@pytest.mark.part("MLP")
def test_mlp_dropout_layers(student, rng):
    check_structure(student, (10, 8, 6, 3), dropout=0.25)
    ref = randomize(ReferenceMLP((10, 8, 6, 3), 0.25).double(), rng)
    x = torch.randn(5, 10, generator=rng, dtype=torch.float64)
    check_module(student, "MLP", ref, init_kwargs={"sizes": (10, 8, 6, 3), "dropout": 0.25},
                 inputs=[[x]], modes=("eval",), hint=relu_last_hint)


@pytest.mark.part("MLP")
def test_mlp_init(student):
    result = student.module("MLP", init_kwargs={"sizes": (784, 200, 10)}, initial_state=True,
                            init_seed=student.seed)
    check_init(result.initial_state or {}, ["model.0", "model.2"])
