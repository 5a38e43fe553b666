import pytest
import torch

from grader.judge.compare import Mismatch
from hw6_training_refs import (TRAIN_FILE, award_accuracy, check_early_stop, check_evaluate,
                               load_digits, probe_state, train_and_predict)


@pytest.mark.part("early_stop")
def test_early_stop_docstring_examples(student):
    check_early_stop(student, [1.0, 0.8, 0.9, 0.85, 0.7], patience=2)
    check_early_stop(student, [1.0, 0.8, 0.9, 0.85, 0.7], patience=3)
    check_early_stop(student, [1.0, 0.95, 0.9], patience=1, min_delta=0.1)


@pytest.mark.part("early_stop")
def test_early_stop_random_curves(student, rng):
    for _ in range(8):
        steps = torch.randn(30, generator=rng, dtype=torch.float64) * 0.1 - 0.02
        losses = (2.0 + steps.cumsum(0)).tolist()
        patience = int(torch.randint(1, 6, (), generator=rng))
        check_early_stop(student, losses, patience)


@pytest.mark.part("evaluate")
def test_evaluate(student, rng):
    state = probe_state(rng, 6, 8, 4)
    x = torch.randn(50, 6, generator=rng, dtype=torch.float64)
    y = torch.randint(0, 4, (50,), generator=rng)
    check_evaluate(student, state, x, y, 16, training=True)


@pytest.mark.part("train_classifier")
def test_train_classifier_validation_accuracy(student, rng):
    """Two runs with the same seed on 80 % of the shipped training split must give the same
    model; its accuracy on the other 20 % gives the points."""
    x, y = load_digits(TRAIN_FILE, "train")
    order = torch.randperm(y.shape[0], generator=rng)
    cut = y.shape[0] * 4 // 5
    train, held_out = order[:cut], order[cut:]
    logits, seconds = train_and_predict(student, x[train], y[train], x[held_out], student.seed)
    again, _ = train_and_predict(student, x[train], y[train], x[held_out], student.seed)
    if not torch.equal(logits, again):
        worst = float((logits - again).abs().max())
        accuracy = float((logits.argmax(dim=1) == y[held_out]).double().mean())
        raise Mismatch("determinism", "two runs of train_classifier with the same seed gave "
                       f"different models (their logits differ by up to {worst:.3g}; the "
                       f"first reached accuracy {accuracy:.4f}); hint: draw every random "
                       "number from `generator` (or seed torch from it)",
                       details={"accuracy": round(accuracy, 6), "train_s": round(seconds, 3)})
    award_accuracy(student, logits, y[held_out], seconds, "a validation split of the training "
                   "data")
