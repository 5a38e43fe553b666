from pathlib import Path

import pytest
import torch

from hw6_training_refs import (TRAIN_FILE, award_accuracy, check_early_stop, check_evaluate,
                               load_digits, probe_state, train_and_predict)

TEST_FILE = Path(__file__).resolve().parent / "data" / "digits_test.safetensors"


@pytest.mark.part("early_stop")
@pytest.mark.parametrize("losses, patience, min_delta", [
    ([0.5], 1, 0.0),
    ([1.0, 2.0, 3.0, 4.0], 1, 0.0),
    ([1.0, 2.0, 3.0, 4.0], 3, 0.0),
    ([1.0, 2.0, 3.0, 4.0], 4, 0.0),
    ([3.0, 2.0, 2.0, 2.0, 1.0], 2, 0.0),
    ([3.0, 2.0, 2.0, 2.0, 1.0], 3, 0.0),
    ([5.0, 4.0, 3.0, 2.0, 1.0], 1, 0.0),
    ([1.0, 0.95, 0.9, 0.86, 0.5, 0.45], 2, 0.1),
    ([1.0, 0.95, 0.85, 0.84, 0.83, 0.7], 2, 0.1),
    ([2.0, 1.0, 1.5, 0.99, 1.2, 1.3, 1.4], 3, 0.0),
    ([2.0, 1.0, 1.5, 0.99, 1.2, 1.3, 1.4], 3, 0.02),
])
def test_early_stop_hand_made(student, losses, patience, min_delta):
    check_early_stop(student, losses, patience, min_delta)


@pytest.mark.part("early_stop")
def test_early_stop_random_with_min_delta(student, rng):
    for _ in range(20):
        steps = torch.randn(40, generator=rng, dtype=torch.float64) * 0.05 - 0.01
        losses = (1.0 + steps.cumsum(0)).tolist()
        patience = int(torch.randint(1, 8, (), generator=rng))
        min_delta = float(torch.rand((), generator=rng, dtype=torch.float64)) * 0.05
        check_early_stop(student, losses, patience, min_delta)


@pytest.mark.part("evaluate")
@pytest.mark.parametrize("n, batch_size", [(40, 8), (37, 100), (9, 1)])
def test_evaluate_from_eval_mode(student, rng, n, batch_size):
    state = probe_state(rng, 5, 7, 3)
    x = torch.randn(n, 5, generator=rng, dtype=torch.float64)
    y = torch.randint(0, 3, (n,), generator=rng)
    check_evaluate(student, state, x, y, batch_size, training=False)


@pytest.mark.part("evaluate")
def test_evaluate_images_float32(student, rng):
    state = probe_state(rng, 2 * 4 * 4, 16, 10, torch.float32)
    x = torch.randn(300, 2, 4, 4, generator=rng)
    y = torch.randint(0, 10, (300,), generator=rng)
    check_evaluate(student, state, x, y, 64, training=True)


@pytest.mark.part("train_classifier")
@pytest.mark.weight(3)
def test_train_classifier_test_accuracy(student):
    x_train, y_train = load_digits(TRAIN_FILE, "train")
    x_test, y_test = load_digits(TEST_FILE, "test")
    logits, seconds = train_and_predict(student, x_train, y_train, x_test, student.seed)
    award_accuracy(student, logits, y_test, seconds, "the test split")
