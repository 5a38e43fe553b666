import pytest
import torch
from hw4_hidden_refs import ReferenceMLP, check_structure, randomize
from hw4_refs import check_init, relu_last_hint

from grader.judge.checks import check_module

# The public tests check the MLP by its layout and properties; these compare every output,
# gradient and parameter with a torch-built MLP holding the same state.

@pytest.mark.part("MLP")
def test_mlp_matches_torch(student, rng):
    sizes = (20, 16, 12, 5)
    ref = randomize(ReferenceMLP(sizes).double(), rng)
    x1 = torch.randn(8, 20, generator=rng, dtype=torch.float64)
    x2 = torch.randn(3, 20, generator=rng, dtype=torch.float64)
    check_module(student, "MLP", ref, init_kwargs={"sizes": sizes}, inputs=[[x1], [x2]],
                 modes=("train", "eval"), hint=relu_last_hint)


@pytest.mark.part("MLP")
def test_mlp_matches_torch_default_sizes(student, rng):
    ref = randomize(ReferenceMLP((784, 200, 200, 10)).double(), rng)
    x = torch.randn(2, 784, generator=rng, dtype=torch.float64)
    check_module(student, "MLP", ref, inputs=[[x]], modes=("eval",), hint=relu_last_hint)


@pytest.mark.part("MLP")
def test_mlp_matches_torch_with_dropout(student, rng):
    check_structure(student, (10, 8, 6, 3), dropout=0.25)
    ref = randomize(ReferenceMLP((10, 8, 6, 3), 0.25).double(), rng)
    x = torch.randn(5, 10, generator=rng, dtype=torch.float64)
    check_module(student, "MLP", ref, init_kwargs={"sizes": (10, 8, 6, 3), "dropout": 0.25},
                 inputs=[[x]], modes=("eval",), hint=relu_last_hint)


@pytest.mark.part("MLP")
def test_mlp_float32(student, reference, rng):
    sizes = (30, 24, 16, 8, 4)
    ref = randomize(reference.MLP(sizes).double(), rng)
    x1 = torch.randn(16, 30, generator=rng, dtype=torch.float32)
    x2 = torch.randn(5, 30, generator=rng, dtype=torch.float32)
    check_module(student, "MLP", ref, init_kwargs={"sizes": sizes}, inputs=[[x1], [x2]],
                 modes=("train", "eval"), dtype=torch.float32, hint=relu_last_hint)


@pytest.mark.part("MLP")
def test_mlp_single_layer(student, reference, rng):
    check_structure(student, (6, 5))
    ref = randomize(reference.MLP((6, 5)).double(), rng)
    x = torch.randn(7, 6, generator=rng, dtype=torch.float64)
    check_module(student, "MLP", ref, init_kwargs={"sizes": (6, 5)}, inputs=[[x]],
                 modes=("train",), hint=relu_last_hint)


@pytest.mark.part("MLP")
def test_mlp_dropout_deep(student, reference, rng):
    sizes = (12, 10, 10, 10, 3)
    check_structure(student, sizes, dropout=0.5)
    ref = randomize(reference.MLP(sizes, dropout=0.5).double(), rng)
    x = torch.randn(9, 12, generator=rng, dtype=torch.float64)
    check_module(student, "MLP", ref, init_kwargs={"sizes": sizes, "dropout": 0.5},
                 inputs=[[x], [x]], modes=("eval", "eval"), hint=relu_last_hint)


@pytest.mark.part("MLP")
def test_mlp_init_every_layer(student):
    result = student.module("MLP", init_kwargs={"sizes": (1000, 400, 300, 10)},
                            initial_state=True, init_seed=student.seed)
    check_init(result.initial_state or {}, ["model.0", "model.2", "model.4"])


@pytest.mark.part("MLP")
def test_mlp_init_is_normal(student):
    result = student.module("MLP", init_kwargs={"sizes": (784, 200, 10)}, initial_state=True,
                            init_seed=student.seed + 1)
    check_init(result.initial_state or {}, ["model.0"], kurtosis=True)
