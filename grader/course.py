"""The course: its manifest (``course.toml``), homeworks, parts, points and forbidden APIs.

The course root is found by walking up from the current directory to the first folder with a
``course.toml`` (or given with ``--course``). Layout under it::

    assignments/hwN/FILE     the stub students edit
    solutions/hwN/FILE       the reference solution (never shipped)
    reference_tests/hwN/     public/ and hidden/ pytest suites, harness.py, mutants/
"""

from __future__ import annotations

import hashlib
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from grader.errors import ConfigError, UsageError
from grader.forbidden_rules import check_pattern

__all__ = ["MANIFEST", "Course", "Homework", "Part", "find_course", "load_course"]

MANIFEST = "course.toml"


@dataclass(frozen=True)
class Part:
    """One graded function or class of a homework."""

    name: str
    points: float
    kind: str = "function"  # or "class"
    forbidden: tuple[str, ...] = ()


@dataclass(frozen=True)
class Homework:
    """One homework: its file, its parts and where its stub, solution and tests live."""

    id: str
    title: str
    file: str
    parts: tuple[Part, ...]
    root: Path
    forbidden: tuple[str, ...] = ()
    settings: dict[str, Any] = field(default_factory=dict)
    hidden_pending: int = 0
    """Hidden tests that exist at grading time but not here (set in a student bundle)."""
    preload: tuple[str, ...] = ()
    """Modules the executor template imports before forking (e.g. ``torch._dynamo``)."""

    @property
    def stub_path(self) -> Path:
        return self.root / "assignments" / self.id / self.file

    @property
    def solution_path(self) -> Path:
        return self.root / "solutions" / self.id / self.file

    @property
    def tests_dir(self) -> Path:
        return self.root / "reference_tests" / self.id

    @property
    def harness_path(self) -> Path:
        return self.tests_dir / "harness.py"

    @property
    def mutants_dir(self) -> Path:
        return self.tests_dir / "mutants"

    @property
    def module_name(self) -> str:
        return Path(self.file).stem

    @property
    def max_score(self) -> float:
        return sum(p.points for p in self.parts)

    def part(self, name: str) -> Part:
        for part in self.parts:
            if part.name == name:
                return part
        raise ConfigError(f"{self.id} has no part {name!r} in {MANIFEST}; "
                          f"its parts are {', '.join(p.name for p in self.parts)}")

    def suite_version(self) -> str:
        """A hash of the tests, the harness and this homework's manifest entry."""
        digest = hashlib.sha256(repr((self.parts, self.forbidden, self.settings)).encode())
        for path in sorted(self.tests_dir.rglob("*.py")):
            if "mutants" in path.parts or "__pycache__" in path.parts:
                continue
            digest.update(str(path.relative_to(self.tests_dir)).encode())
            digest.update(path.read_bytes())
        return f"{self.id}@{digest.hexdigest()[:12]}"


@dataclass(frozen=True)
class Course:
    """A course manifest, loaded."""

    root: Path
    name: str
    homeworks: dict[str, Homework]
    settings: dict[str, Any]

    def homework(self, hw_id: str) -> Homework:
        try:
            return self.homeworks[hw_id]
        except KeyError:
            known = ", ".join(sorted(self.homeworks)) or "none"
            raise UsageError(f"unknown homework {hw_id!r}: {self.root / MANIFEST} lists {known}") from None


def find_course(start: Path | None = None) -> Path:
    """The nearest folder at or above ``start`` that holds a course manifest."""
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if (folder / MANIFEST).is_file():
            return folder
    raise UsageError(f"no {MANIFEST} found in {here} or any folder above it; "
                     "run grade inside a course folder or pass --course DIR")


def _part(hw_id: str, name: str, raw: Any, hw_forbidden: tuple[str, ...]) -> Part:
    if isinstance(raw, (int, float)):
        raw = {"points": raw}
    if not isinstance(raw, dict) or "points" not in raw:
        raise ConfigError(f"{MANIFEST}: [hw.{hw_id}.parts] {name} must be a number of points or "
                          f"a table with `points` (got {raw!r})")
    points = raw["points"]
    if not isinstance(points, (int, float)) or points < 0:
        raise ConfigError(f"{MANIFEST}: {hw_id}.{name}.points must be a number >= 0 (got {points!r})")
    forbidden = _forbidden(f"[hw.{hw_id}.parts] {name}", raw.get("forbidden", ())) + hw_forbidden
    return Part(name=name, points=float(points), kind=str(raw.get("kind", "function")),
                forbidden=forbidden)


def _forbidden(where: str, raw: Any) -> tuple[str, ...]:
    """A forbidden list of the manifest, each pattern checked (see grader.forbidden_rules)."""
    if not isinstance(raw, (list, tuple)):
        raise ConfigError(f"{MANIFEST}: {where}: `forbidden` must be a list of patterns "
                          f"(got {raw!r})")
    for pattern in raw:
        why = check_pattern(pattern)
        if why:
            raise ConfigError(f"{MANIFEST}: {where}: forbidden pattern {why}; see "
                              "docs/authoring.md, 'Forbidden APIs'")
    return tuple(raw)


def load_course(root: Path | None = None) -> Course:
    """Read and check the manifest of the course at ``root`` (or found from the cwd)."""
    root = Path(root).resolve() if root else find_course()
    path = root / MANIFEST
    if not path.is_file():
        raise UsageError(f"{path} does not exist; pass --course with a folder holding {MANIFEST}")
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as err:
        raise ConfigError(f"{path} is not valid TOML: {err}") from None
    settings = dict(data.get("settings", {}))
    homeworks = {}
    for hw_id, raw in data.get("hw", {}).items():
        if "file" not in raw or "parts" not in raw:
            raise ConfigError(f"{path}: [hw.{hw_id}] needs `file` and a [hw.{hw_id}.parts] table")
        hw_forbidden = _forbidden(f"[hw.{hw_id}]", raw.get("forbidden", ()))
        parts = tuple(_part(hw_id, n, p, hw_forbidden) for n, p in raw["parts"].items())
        homeworks[hw_id] = Homework(id=hw_id, title=str(raw.get("title", hw_id)), file=raw["file"],
                                    parts=parts, root=root, forbidden=hw_forbidden,
                                    settings=dict(raw.get("settings", {})),
                                    hidden_pending=int(raw.get("hidden_tests", 0)),
                                    preload=tuple(raw.get("preload", ())))
    return Course(root=root, name=str(data.get("course", {}).get("name", root.name)),
                  homeworks=homeworks, settings=settings)

