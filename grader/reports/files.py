"""Result files on disk: written atomically, read back by one loader.

A batch folder holds ``results/<student>.json`` (schema ``grader.result/1``) beside the
reports; ``grade report``, ``grade export`` and a resumed ``grade batch`` all read them here.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from grader.errors import UsageError
from grader.judge.results import SubmissionResult

__all__ = ["RESULTS", "load_results", "write_atomic"]

RESULTS = "results"


def write_atomic(path: Path, text: str) -> None:
    """Write ``text`` so that ``path`` holds either the old or the whole new content (and no
    temporary file is left behind when it cannot be written)."""
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    try:
        with open(tmp, "w", encoding="utf-8") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except OSError as err:
        tmp.unlink(missing_ok=True)
        what = "it is a folder" if path.is_dir() else err.strerror or str(err)
        raise UsageError(f"{path}: cannot be written ({what})") from None


def load_results(folder: Path) -> dict[str, SubmissionResult]:
    """Every result of a batch folder (``DIR/results/*.json``, or the results folder itself),
    by student id, sorted; a file that is not a result is a one-line UsageError."""
    folder = Path(folder)
    where = folder / RESULTS if (folder / RESULTS).is_dir() else folder
    paths = sorted(p for p in where.glob("*.json") if not p.name.startswith("."))
    if not paths:
        raise UsageError(f"{folder}: no {RESULTS}/*.json; run `grade batch HW SUBMISSIONS "
                         f"--out {folder}` first")
    results = {}
    for path in paths:
        try:
            results[path.stem] = SubmissionResult.from_dict(
                json.loads(path.read_text(encoding="utf-8")))
        except IsADirectoryError:
            raise UsageError(f"{path}: not a result file (it is a folder)") from None
        except (OSError, ValueError, TypeError, KeyError) as err:
            raise UsageError(f"{path}: not a result file ({type(err).__name__}: {err})") from None
    return results
