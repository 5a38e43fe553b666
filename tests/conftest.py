"""Shared fixtures of the grader's own tests."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

pytest_plugins = ["pytester"]

COURSE_ROOT = Path(__file__).resolve().parent.parent
SUBMISSIONS = Path(__file__).resolve().parent / "submissions"


def _sandbox_uid() -> str:
    # A uid range of our own: a concurrent `grade` run on the same machine (slot uid 20000)
    # reaps every process of its slot uid when it restarts an executor.
    return str(30000 + os.getpid() % 20000)


@pytest.fixture(autouse=True, scope="session")
def _own_sandbox_uid() -> Any:
    old = os.environ.get("GRADE_SANDBOX_UID")
    os.environ["GRADE_SANDBOX_UID"] = old or _sandbox_uid()
    yield
    if old is None:
        os.environ.pop("GRADE_SANDBOX_UID", None)


@pytest.fixture(scope="session")
def course_root() -> Path:
    """The repository's course (holds course.toml, hw2's stub, solution and suite)."""
    return COURSE_ROOT


@pytest.fixture(scope="session")
def hw2_submissions() -> Path:
    """tests/submissions/hw2: real submissions run through the grader."""
    return SUBMISSIONS / "hw2"


@pytest.fixture
def cli(course_root: Path, monkeypatch: pytest.MonkeyPatch) -> Callable[..., Result]:
    """Run ``grade ARGS...`` in-process with click's CliRunner, from the course root."""
    from grader.cli import main

    monkeypatch.chdir(course_root)

    def run(*args: str) -> Result:
        return CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)

    return run


@pytest.fixture
def check_json(cli: Callable[..., Result]) -> Callable[..., tuple[int, dict[str, Any]]]:
    """``grade check ... --format json``: (exit code, parsed result)."""

    def run(*args: str) -> tuple[int, dict[str, Any]]:
        result = cli("check", *args, "--format", "json")
        return result.exit_code, json.loads(result.stdout)

    return run


def part_statuses(result: Any) -> dict[str, str]:
    """{part: status} of a SubmissionResult."""
    return {p.name: p.status for p in result.parts()}
