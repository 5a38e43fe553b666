import pytest
import torch

from grader.judge.checks import check_function

ACC_HINT = "compare logits.argmax(dim=1) with target and take the mean"
KFOLD_HINT = ("fold i validates on the i-th contiguous block; the first n % k blocks are "
              "one longer; train on the rest, ascending")


def _logits(rng, n, c, dtype, right_fraction=0.5):
    logits = torch.randn(n, c, generator=rng, dtype=dtype)
    guess = torch.randint(0, c, (n,), generator=rng)
    right = torch.rand(n, generator=rng) < right_fraction
    return logits, torch.where(right, logits.argmax(dim=1), guess)


@pytest.mark.part("accuracy")
def test_accuracy_large_float32(student, reference, rng):
    logits, target = _logits(rng, 100_000, 3, torch.float32, 0.3)
    check_function(student, "accuracy", reference.accuracy, logits, target, hint=ACC_HINT)


@pytest.mark.part("accuracy")
def test_accuracy_all_and_none(student, reference, rng):
    logits = torch.randn(20, 5, generator=rng, dtype=torch.float64)
    best = logits.argmax(dim=1)
    check_function(student, "accuracy", reference.accuracy, logits, best, hint=ACC_HINT)
    check_function(student, "accuracy", reference.accuracy, logits, (best + 1) % 5,
                   hint=ACC_HINT)


@pytest.mark.part("accuracy")
def test_accuracy_one_row(student, reference, rng):
    logits, target = _logits(rng, 1, 7, torch.float64)
    check_function(student, "accuracy", reference.accuracy, logits, target, hint=ACC_HINT)


@pytest.mark.part("kfold_indices")
@pytest.mark.parametrize("n,k", [(5, 2), (9, 9), (7, 1), (20, 5), (10_007, 10), (13, 6)])
def test_kfold_indices_edges(student, reference, n, k):
    check_function(student, "kfold_indices", reference.kfold_indices, n, k, profile="exact",
                   hint=KFOLD_HINT)
