import pytest
import torch
from hw4_refs import accuracy, kfold_indices

from grader.judge.checks import check_function

ACC_HINT = "compare logits.argmax(dim=1) with target and take the mean"
KFOLD_HINT = ("fold i validates on the i-th contiguous block; the first n % k blocks are "
              "one longer; train on the rest, ascending")


def _logits(rng, n, c, dtype):
    logits = torch.randn(n, c, generator=rng, dtype=dtype)
    guess = torch.randint(0, c, (n,), generator=rng)
    right = torch.rand(n, generator=rng) < 0.5
    return logits, torch.where(right, logits.argmax(dim=1), guess)


@pytest.mark.part("accuracy")
def test_accuracy(student, rng):
    logits, target = _logits(rng, 50, 10, torch.float64)
    check_function(student, "accuracy", accuracy, logits, target, hint=ACC_HINT)


@pytest.mark.part("accuracy")
def test_accuracy_float32(student, rng):
    logits, target = _logits(rng, 37, 4, torch.float32)
    check_function(student, "accuracy", accuracy, logits, target, hint=ACC_HINT)


@pytest.mark.part("kfold_indices")
@pytest.mark.parametrize("n,k", [(10, 3), (12, 4)])
def test_kfold_indices(student, n, k):
    check_function(student, "kfold_indices", kfold_indices, n, k, profile="exact",
                   hint=KFOLD_HINT)
