import pytest
import torch

from grader.judge.checks import check_function
from hw3_refs import MINIMA, check_descend, descend, himmelblau, himmelblau_grad, values_hint

STARTS = [(0.0, 0.0), (-1.0, 1.0), (-3.0, -3.0), (4.0, -1.0), (2.0, 4.0), (-4.0, 0.0),
          (1.0, -3.0)]


@pytest.mark.part("himmelblau")
def test_himmelblau_minima(student):
    for m in MINIMA:
        check_function(student, "himmelblau", himmelblau, torch.tensor(m, dtype=torch.float64),
                       profile="accumulate")


@pytest.mark.part("himmelblau")
def test_himmelblau_far_points(student, rng):
    for _ in range(3):
        p = torch.randn(2, generator=rng, dtype=torch.float64) * 50
        check_function(student, "himmelblau", himmelblau, p, profile="accumulate")


@pytest.mark.part("himmelblau_grad")
def test_himmelblau_grad_minima(student):
    for m in MINIMA:
        check_function(student, "himmelblau_grad", himmelblau_grad,
                       torch.tensor(m, dtype=torch.float64), profile="accumulate")


@pytest.mark.part("himmelblau_grad")
def test_himmelblau_grad_many_points(student, rng):
    for _ in range(6):
        p = torch.rand(2, generator=rng, dtype=torch.float64) * 12 - 6
        check_function(student, "himmelblau_grad", himmelblau_grad, p, profile="accumulate",
                       hint=values_hint("check the sign and the factor of every term"))


@pytest.mark.part("himmelblau_grad")
def test_himmelblau_grad_float32_far(student, rng):
    p = torch.randn(2, generator=rng) * 20
    check_function(student, "himmelblau_grad", himmelblau_grad, p, profile="accumulate")


@pytest.mark.part("descend")
@pytest.mark.parametrize("start", STARTS)
def test_descend_converges(student, rng, start):
    jitter = (torch.rand(2, generator=rng, dtype=torch.float64) - 0.5) * 0.2
    check_descend(student, torch.tensor(start, dtype=torch.float64) + jitter, 0.01, 300)


@pytest.mark.part("descend")
def test_descend_zero_steps(student):
    p0 = torch.tensor([1.5, -0.5], dtype=torch.float64)
    check_function(student, "descend", descend, p0, 0.01, 0)


@pytest.mark.part("descend")
def test_descend_small_lr_float32(student):
    check_descend(student, torch.tensor([-2.0, 2.0]), 0.004, 700)
