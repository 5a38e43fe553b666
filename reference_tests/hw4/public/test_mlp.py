import pytest
from hw4_refs import check_init, check_layers, check_logits, check_relu_between, check_state_table

SIZES = (10, 8, 6, 3)
# The layouts the docstring describes, written out: MLP(SIZES) and MLP(SIZES, dropout=0.25).
LAYERS = ["Linear(10, 8)", "ReLU", "Linear(8, 6)", "ReLU", "Linear(6, 3)"]
LAYERS_DROPOUT = ["Linear(10, 8)", "ReLU", "Dropout(0.25)", "Linear(8, 6)", "ReLU",
                  "Dropout(0.25)", "Linear(6, 3)"]
STATE = {"model.0.weight": (8, 10), "model.0.bias": (8,), "model.2.weight": (6, 8),
         "model.2.bias": (6,), "model.4.weight": (3, 6), "model.4.bias": (3,)}
STATE_DROPOUT = {"model.0.weight": (8, 10), "model.0.bias": (8,), "model.3.weight": (6, 8),
                 "model.3.bias": (6,), "model.6.weight": (3, 6), "model.6.bias": (3,)}
# MLP() with the default sizes (784, 200, 200, 10) and no dropout.
STATE_DEFAULT = {"model.0.weight": (200, 784), "model.0.bias": (200,),
                 "model.2.weight": (200, 200), "model.2.bias": (200,),
                 "model.4.weight": (10, 200), "model.4.bias": (10,)}


@pytest.mark.part("MLP")
def test_mlp_layers(student):
    check_layers(student, SIZES, 0.0, LAYERS)
    check_state_table(student, STATE, {"sizes": SIZES})


@pytest.mark.part("MLP")
def test_mlp_dropout_layers(student):
    check_layers(student, SIZES, 0.25, LAYERS_DROPOUT)
    check_state_table(student, STATE_DROPOUT, {"sizes": SIZES, "dropout": 0.25})


@pytest.mark.part("MLP")
def test_mlp_default_sizes(student):
    check_state_table(student, STATE_DEFAULT)


@pytest.mark.part("MLP")
def test_mlp_outputs_logits(student, rng):
    check_logits(student, SIZES, STATE, rng)


@pytest.mark.part("MLP")
def test_mlp_relu_between_layers(student, rng):
    check_relu_between(student, SIZES, STATE, rng)


@pytest.mark.part("MLP")
def test_mlp_init(student):
    result = student.module("MLP", init_kwargs={"sizes": (784, 200, 10)}, initial_state=True,
                            init_seed=student.seed)
    check_init(result.initial_state or {}, ["model.0", "model.2"])
