"""Correct solutions written differently from the reference score full marks: tolerances
follow the design's profiles, not bit equality (float32 tests included), and the forbidden
lists catch no legitimate alternative (softmax through logsumexp, conv2d through unfold or
as_strided, pooling through unfold, vmap where torch.func is not forbidden, the student's
own helpers and layer classes with methods named forward and backward...)."""

from __future__ import annotations

from pathlib import Path

import pytest

from grader.api import check_submission

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.slow


@pytest.mark.parametrize("hw, path", [
    ("hw2", "tests/submissions/hw2/correct_alt.py"),
    ("hw5", "tests/submissions/alt/hw5_conv_unfold_matmul.py"),
    ("hw5", "tests/submissions/alt/hw5_batch_norm_detached.py"),
    ("hw1", "tests/submissions/alt/hw1_views_and_vmap.py"),
    ("hw2", "tests/submissions/alt/hw2_vmap_and_shared_helper.py"),
    ("hw3", "tests/submissions/alt/hw3_layer_objects.py"),
    ("hw4", "tests/submissions/alt/hw4_foreach_and_where.py"),
    ("hw5", "tests/submissions/alt/hw5_strided_einsum_var_mean.py"),
])
def test_a_correct_alternative_scores_full_marks(hw, path):
    result = check_submission(hw, ROOT / path, course=ROOT).result
    failing = [(t.id, t.message) for t in result.tests if t.status != "passed"]
    assert not failing
    assert result.score == result.max_score
    assert result.warnings == ()
