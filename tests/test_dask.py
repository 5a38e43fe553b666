"""The Dask path's pieces that need no cluster: the worker's judge.

The real runs are in test_batch.py (a local Dask cluster) and test_slurm.py (Slurm jobs).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from grader.dask_executor import grade_task


def test_a_judge_that_cannot_start_says_why(tmp_path: Path) -> None:
    """A worker without the course folder at the driver's path: the judge's own message, not
    only its exit code, reaches the result."""
    with pytest.raises(RuntimeError) as err:
        grade_task(str(tmp_path / "elsewhere"), "hw2", {}, "ana", {}, timeout_s=60)
    message = str(err.value)
    assert "judge process died (exit 2) while grading ana on " in message
    assert f"{tmp_path / 'elsewhere' / 'course.toml'} does not exist" in message
    assert "workers need the course folder at the driver's path" in message
