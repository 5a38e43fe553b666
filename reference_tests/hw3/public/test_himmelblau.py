import pytest
import torch

from grader.judge.checks import check_function
from hw3_refs import check_descend, check_descend_trajectory, himmelblau, himmelblau_grad, \
    values_hint


@pytest.mark.part("himmelblau")
def test_himmelblau_points(student, rng):
    for p in (torch.tensor([0.0, 0.0], dtype=torch.float64),
              torch.rand(2, generator=rng, dtype=torch.float64) * 10 - 5):
        check_function(student, "himmelblau", himmelblau, p, profile="accumulate")


@pytest.mark.part("himmelblau")
def test_himmelblau_float32(student, rng):
    p = torch.rand(2, generator=rng) * 10 - 5
    check_function(student, "himmelblau", himmelblau, p, profile="accumulate")


@pytest.mark.part("himmelblau_grad")
def test_himmelblau_grad_points(student, rng):
    for p in (torch.tensor([0.0, 0.0], dtype=torch.float64),
              torch.rand(2, generator=rng, dtype=torch.float64) * 10 - 5):
        check_function(student, "himmelblau_grad", himmelblau_grad, p, profile="accumulate",
                       hint=values_hint("differentiate both squared terms with respect to both "
                                        "x and y (chain rule: 2 (inner) * d inner)"))


@pytest.mark.part("himmelblau_grad")
def test_himmelblau_grad_float32(student, rng):
    p = torch.rand(2, generator=rng) * 10 - 5
    check_function(student, "himmelblau_grad", himmelblau_grad, p, profile="accumulate")


@pytest.mark.part("descend")
def test_descend_trajectory(student):
    p0 = torch.tensor([0.0, 0.0], dtype=torch.float64)
    for steps in (1, 5, 20):
        check_descend_trajectory(student, p0, 0.01, steps)


@pytest.mark.part("descend")
def test_descend_reaches_minimum(student):
    check_descend(student, torch.tensor([0.0, 0.0], dtype=torch.float64), 0.01, 300)


@pytest.mark.part("descend")
def test_descend_float32(student):
    check_descend(student, torch.tensor([-1.0, 1.0]), 0.01, 300)
