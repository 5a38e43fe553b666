"""The fixtures a homework's tests get, in one table: each a function of the test item.

``student`` (a proxy whose calls become executor requests), ``reference`` (the instructor's
solution module, in process; hidden tests only), ``device``, ``rng`` (a ``torch.Generator``
seeded from the test id and the course's ``seed_salt``), ``settings``. The plugin turns every
entry into a pytest fixture, and a test it calls directly gets its arguments from the same
table, so the two can never disagree.
"""

from __future__ import annotations

import importlib.util
import types
import zlib
from collections.abc import Callable
from typing import Any

import pytest
import torch

from grader.config import Settings
from grader.course.manifest import Homework
from grader.judge.outcomes import part_of
from grader.judge.proxy import Student
from grader.judge.run import SubmissionRun

__all__ = ["FIXTURES", "Fixtures"]

FIXTURES = ("student", "reference", "device", "rng", "settings")


class Fixtures:
    """The values of the fixtures for the submission being graded."""

    def __init__(self, homework: Homework, settings: Settings,
                 current: Callable[[], SubmissionRun | None]) -> None:
        self.homework = homework
        self.settings = settings
        self.current = current
        self._reference: types.ModuleType | None = None
        self.table: dict[str, Callable[[pytest.Item], Any]] = {
            "student": self.student, "reference": self.reference,
            "device": lambda item: self.settings.device, "rng": self.rng,
            "settings": lambda item: self.settings}
        assert tuple(self.table) == FIXTURES

    def value(self, name: str, item: pytest.Item) -> Any:
        return self.table[name](item)

    def arguments(self, item: pytest.Item) -> dict[str, Any]:
        """A directly called test's arguments: its parameters and our fixtures."""
        params = item.callspec.params if hasattr(item, "callspec") else {}
        return {name: params[name] if name in params else self.value(name, item)
                for name in item._fixtureinfo.argnames}  # type: ignore[attr-defined]

    def student(self, item: pytest.Item) -> Student:
        run = self.current()
        assert run is not None, "no submission is being graded"
        return Student(run, part=part_of(item), seed=self.seed_of(item),
                       hidden=item.get_closest_marker("hidden") is not None, test_id=item.nodeid)

    def reference(self, item: pytest.Item) -> types.ModuleType:
        """The instructor's solution module, imported in the judge once (never shipped)."""
        if self._reference is None:
            path = self.homework.solution_path
            if not path.is_file():
                pytest.skip(f"the reference solution {path} is not here")
            spec = importlib.util.spec_from_file_location(f"reference_{self.homework.id}", path)
            assert spec and spec.loader
            module = importlib.util.module_from_spec(spec)
            spec.loader.exec_module(module)
            self._reference = module
        return self._reference

    def rng(self, item: pytest.Item) -> torch.Generator:
        return torch.Generator().manual_seed(self.seed_of(item))

    def seed_of(self, item: pytest.Item) -> int:
        return zlib.crc32(f"{self.settings.seed_salt}:{item.nodeid}".encode())
