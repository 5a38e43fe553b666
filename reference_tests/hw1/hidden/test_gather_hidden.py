import pytest
import torch

from grader.judge.checks import check_function
from hw1_refs import distinct_probs, pick, topk_labels, values_hint

BIAS_HINT = values_hint("bias [C] must line up with dim 1 of x: reshape it to [C, 1, 1]")
TOPK_HINT = values_hint("return labels (not indices), most probable first")


@pytest.mark.part("add_channel_bias")
@pytest.mark.parametrize("shape", [(2, 4, 4, 3), (1, 1, 2, 2), (3, 5, 1, 5)])
def test_add_channel_bias_shapes(student, reference, rng, shape):
    x = torch.randn(*shape, generator=rng, dtype=torch.float64)
    bias = torch.randn(shape[1], generator=rng, dtype=torch.float64)
    check_function(student, "add_channel_bias", reference.add_channel_bias, x, bias, grad=True,
                   hint=BIAS_HINT)


@pytest.mark.part("add_channel_bias")
def test_add_channel_bias_large_float32(student, reference, rng):
    x = torch.randn(16, 32, 28, 28, generator=rng, dtype=torch.float32)
    bias = torch.randn(32, generator=rng, dtype=torch.float32)
    check_function(student, "add_channel_bias", reference.add_channel_bias, x, bias, grad=True,
                   hint=BIAS_HINT)


@pytest.mark.part("topk_labels")
@pytest.mark.parametrize("k", [1, 10])
def test_topk_labels_k_extremes(student, rng, k):
    prob = distinct_probs(4, 10, rng, torch.float64)
    labels = torch.arange(10) + 100
    check_function(student, "topk_labels", topk_labels, prob, labels, k, profile="exact",
                   hint=TOPK_HINT)


@pytest.mark.part("topk_labels")
def test_topk_labels_keeps_label_dtype(student, rng):
    prob = distinct_probs(6, 8, rng, torch.float64)
    labels = (torch.randperm(8, generator=rng) + 40).to(torch.int32)
    check_function(student, "topk_labels", topk_labels, prob, labels, 3, profile="exact",
                   hint=TOPK_HINT)
    flabels = torch.arange(8, dtype=torch.float64) * 0.5 - 1
    check_function(student, "topk_labels", topk_labels, prob, flabels, 4, profile="exact",
                   hint=TOPK_HINT)


@pytest.mark.part("topk_labels")
def test_topk_labels_large(student, rng):
    # A million rows: a Python loop over the rows runs past the time limit.
    prob = distinct_probs(1_000_000, 4, rng, torch.float32)
    labels = torch.randperm(4, generator=rng) + 1000
    check_function(student, "topk_labels", topk_labels, prob, labels, 2, profile="exact",
                   hint=TOPK_HINT)


@pytest.mark.part("topk_labels")
def test_topk_labels_many_classes(student, rng):
    prob = distinct_probs(300, 1000, rng, torch.float32)
    labels = torch.randperm(1000, generator=rng) - 500
    check_function(student, "topk_labels", topk_labels, prob, labels, 5, profile="exact",
                   hint=TOPK_HINT)


@pytest.mark.part("pick")
@pytest.mark.parametrize("n, c", [(1, 3), (12, 3), (4, 20)])
def test_pick_shapes(student, rng, n, c):
    logits = torch.randn(n, c, generator=rng, dtype=torch.float64)
    target = torch.randint(0, c, (n,), generator=rng)
    check_function(student, "pick", pick, logits, target, grad=True,
                   hint=values_hint("gather along dim 1 with target of shape [N, 1]"))


@pytest.mark.part("pick")
def test_pick_large_float32(student, rng):
    # A million rows: a Python loop over the rows runs past the time limit.
    logits = torch.randn(1_000_000, 3, generator=rng, dtype=torch.float32)
    target = torch.randint(0, 3, (1_000_000,), generator=rng)
    check_function(student, "pick", pick, logits, target, grad=True,
                   hint=values_hint("gather along dim 1 with target of shape [N, 1]"))
