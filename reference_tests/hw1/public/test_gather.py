import pytest
import torch

from grader.judge.checks import check_function
from hw1_refs import add_channel_bias, distinct_probs, pick, topk_labels, values_hint

BIAS_HINT = values_hint("bias [C] must line up with dim 1 of x: reshape it to [C, 1, 1]")


@pytest.mark.part("add_channel_bias")
def test_add_channel_bias_grad(student, rng):
    x = torch.randn(2, 3, 4, 5, generator=rng, dtype=torch.float64)
    bias = torch.randn(3, generator=rng, dtype=torch.float64)
    check_function(student, "add_channel_bias", add_channel_bias, x, bias, grad=True,
                   hint=BIAS_HINT)


@pytest.mark.part("add_channel_bias")
def test_add_channel_bias_float32(student, rng):
    x = torch.randn(4, 6, 3, 3, generator=rng, dtype=torch.float32)
    bias = torch.randn(6, generator=rng, dtype=torch.float32)
    check_function(student, "add_channel_bias", add_channel_bias, x, bias, grad=True,
                   hint=BIAS_HINT)


@pytest.mark.part("topk_labels")
def test_topk_labels_notes_example(student, rng):
    prob = distinct_probs(6, 10, rng, torch.float64)
    labels = torch.arange(10) + 100
    check_function(student, "topk_labels", topk_labels, prob, labels, 3, profile="exact",
                   hint=values_hint("return labels (not indices), most probable first"))


@pytest.mark.part("topk_labels")
def test_topk_labels_float32(student, rng):
    prob = distinct_probs(5, 7, rng, torch.float32)
    labels = torch.randperm(7, generator=rng) * 3 - 5
    check_function(student, "topk_labels", topk_labels, prob, labels, 2, profile="exact",
                   hint=values_hint("return labels (not indices), most probable first"))


@pytest.mark.part("pick")
def test_pick_grad(student, rng):
    logits = torch.randn(7, 4, generator=rng, dtype=torch.float64)
    target = torch.randint(0, 4, (7,), generator=rng)
    check_function(student, "pick", pick, logits, target, grad=True,
                   hint=values_hint("gather along dim 1 with target of shape [N, 1]"))


@pytest.mark.part("pick")
def test_pick_float32(student, rng):
    logits = torch.randn(5, 9, generator=rng, dtype=torch.float32)
    target = torch.randint(0, 9, (5,), generator=rng)
    check_function(student, "pick", pick, logits, target, grad=True,
                   hint=values_hint("gather along dim 1 with target of shape [N, 1]"))
