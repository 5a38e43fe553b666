"""Correct solutions written differently from the reference score full marks: tolerances
follow the design's profiles, not bit equality (float32 tests included)."""

from __future__ import annotations

from pathlib import Path

import pytest

from grader.api import check_submission

ROOT = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.slow


@pytest.mark.parametrize("hw, path", [
    ("hw2", "tests/submissions/hw2/correct_alt.py"),
    ("hw5", "tests/submissions/alt/hw5_conv_unfold_matmul.py"),
    ("hw5", "tests/submissions/alt/hw5_batch_norm_detached.py"),
])
def test_a_correct_alternative_scores_full_marks(hw, path):
    result = check_submission(hw, ROOT / path, course=ROOT).result
    failing = [(t.id, t.message) for t in result.tests if t.status != "passed"]
    assert not failing
    assert result.score == result.max_score
