"""The Dask path's pieces that need no cluster: the worker's judge, the Slurm recipe's text.

The real runs are in test_batch.py (a local Dask cluster) and test_slurm.py (Slurm jobs).
"""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

import pytest

from grader.batch.dask import grade_task

ROOT = Path(__file__).resolve().parents[2]
RECIPE = ROOT / "docs" / "slurm_workers.py"


def test_batch_md_quotes_the_recipe_the_slurm_test_runs() -> None:
    doc = (ROOT / "docs" / "batch.md").read_text(encoding="utf-8")
    blocks = re.findall(r"```python\n(.*?)```", doc, flags=re.S)
    quoted = [b for b in blocks if b.startswith("# slurm_workers.py:")]
    assert quoted == [RECIPE.read_text(encoding="utf-8")]


def test_a_judge_that_cannot_start_says_why(tmp_path: Path) -> None:
    """A worker without the course folder at the driver's path: the judge's own message, not
    only its exit code, reaches the result."""
    with pytest.raises(RuntimeError) as err:
        grade_task(str(tmp_path / "elsewhere"), "hw2", {}, "ana", {}, timeout_s=60)
    message = str(err.value)
    assert "judge process died (exit 2) while grading ana on " in message
    assert f"{tmp_path / 'elsewhere' / 'course.toml'} does not exist" in message
    assert "workers need the course folder at the driver's path" in message


@pytest.mark.parametrize(("walltime", "seconds"), [("00:01:00", 60), ("02:00:00", 7200),
                                                   ("1-00:30:05", 88205)])
def test_recipe_reads_slurm_walltimes(walltime: str, seconds: int) -> None:
    pytest.importorskip("dask_jobqueue")
    spec = importlib.util.spec_from_file_location("slurm_workers", RECIPE)
    assert spec and spec.loader
    recipe = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(recipe)
    assert recipe.seconds(walltime) == seconds
