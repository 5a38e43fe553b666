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
from typing import TYPE_CHECKING, Any

from grader.errors import ConfigError, UsageError
from grader.wire.rules import check_pattern, warm_argument

if TYPE_CHECKING:
    from grader.config import Settings

__all__ = ["MANIFEST", "Course", "Homework", "Part", "find_course", "load_course"]

MANIFEST = "course.toml"


@dataclass(frozen=True)
class Part:
    """One graded function or class of a homework."""

    name: str
    points: float
    kind: str = "function"  # or "class"
    forbidden: tuple[str, ...] = ()
    request_timeout_s: float | None = None
    """The deadline of this part's requests, where it needs its own (a training run)."""


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
    course_settings: dict[str, Any] = field(default_factory=dict)
    """The course-level ``[settings]`` (``seed_salt``...), which change grades too."""

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
    def executor_preload(self) -> tuple[str, ...]:
        """What an executor's interpreter prepares before it forks or answers: the modules of
        ``preload`` and the parts' forbidden lists (public, like this manifest), so that no
        executor pays for a list's first window."""
        return (*self.preload, *warm_argument(p.forbidden for p in self.parts))

    @property
    def max_score(self) -> float:
        return sum(p.points for p in self.parts)

    def part(self, name: str) -> Part:
        for part in self.parts:
            if part.name == name:
                return part
        raise ConfigError(f"{self.id} has no part {name!r} in {MANIFEST}; "
                          f"its parts are {', '.join(p.name for p in self.parts)}")

    def suite_version(self, settings: Settings | None = None) -> str:
        """A hash of everything that can change a grade: this homework's manifest entry and
        the course's ``[settings]``, every file of its suite (tests, harness, helpers, data;
        not the mutants), its solution (the ``reference`` fixture) and stub (signatures in
        messages), the grader's own judging code, and the run's ``settings`` when given
        (the environment and the command line can change a seed or a limit)."""
        digest = hashlib.sha256(repr((self.file, self.parts, self.forbidden, self.settings,
                                      self.preload, sorted(self.course_settings.items()))
                                     ).encode())
        files = [(f"tests/{rel}", path) for rel, path in _tree(self.tests_dir, skip="mutants")]
        files += [(f"solution/{rel}", path) for rel, path in _tree(self.solution_path.parent)]
        files += [("stub", self.stub_path)] if self.stub_path.is_file() else []
        files += [(f"grader/{rel}", path) for rel, path in _tree(_GRADER, skip=_PRESENTATION)]
        for name, path in files:
            digest.update(f"\0{name}\0".encode())
            try:
                digest.update(path.read_bytes())
            except OSError as err:
                raise ConfigError(f"{path}: cannot be read ({err.strerror})") from None
        if settings is not None:
            digest.update(settings.grading_key().encode())
        return f"{self.id}@{digest.hexdigest()[:12]}"


_GRADER = Path(__file__).resolve().parent
_PRESENTATION = ("cli.py", "__main__.py", "report.py", "classreport.py", "gradebook.py",
                 "export.py", "gradescope.py", "release.py", "templates")
"""The grader's modules that only present or export results: changing them changes no grade."""


def _tree(folder: Path, skip: str | tuple[str, ...] = ()) -> list[tuple[str, Path]]:
    """The files under ``folder`` by relative path, in order, without caches and ``skip``."""
    if not folder.is_dir():
        return []
    skipped = {skip} if isinstance(skip, str) else set(skip)
    out = []
    for path in folder.rglob("*"):
        rel = path.relative_to(folder)
        if path.is_file() and not skipped & set(rel.parts) and "__pycache__" not in rel.parts \
                and path.suffix not in (".pyc", ".pyo"):
            out.append((rel.as_posix(), path))
    return sorted(out)


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


_TOP_KEYS = ("course", "settings", "hw")
_HW_KEYS = ("title", "file", "parts", "forbidden", "settings", "preload", "hidden_tests")
_PART_KEYS = ("points", "kind", "forbidden", "request_timeout_s")
_KINDS = ("function", "class")


def _bad(path: Path, key: str, expected: str, got: Any) -> ConfigError:
    """A manifest error, on one line: the file, the key, what was expected and what came."""
    shown = f"a string {got!r}" if isinstance(got, str) else \
        f"a table with keys {', '.join(got) or 'none'}" if isinstance(got, dict) else repr(got)
    return ConfigError(f"{path}: {key} must be {expected} (got {shown})")


def _table(path: Path, key: str, raw: Any, known: tuple[str, ...] | None = None,
           ) -> dict[str, Any]:
    if not isinstance(raw, dict):
        raise _bad(path, key, "a table", raw)
    unknown = [k for k in raw if known is not None and k not in known]
    if unknown:
        where = f"{key}.{unknown[0]}" if key else unknown[0]
        raise ConfigError(f"{path}: {where} is not a known key (known: "
                          f"{', '.join(known or ())}); is it misspelt?")
    return raw


def _strings(path: Path, key: str, raw: Any) -> tuple[str, ...]:
    if not isinstance(raw, list) or not all(isinstance(v, str) for v in raw):
        raise _bad(path, key, 'a list of strings like ["torch.softmax"]', raw)
    return tuple(raw)


def _number(path: Path, key: str, raw: Any, *, integer: bool = False) -> Any:
    types = (int,) if integer else (int, float)
    if isinstance(raw, bool) or not isinstance(raw, types) or raw < 0:
        raise _bad(path, key, "an integer >= 0" if integer else "a number >= 0", raw)
    return raw


def _part(path: Path, hw_id: str, name: str, raw: Any, hw_forbidden: tuple[str, ...]) -> Part:
    key = f"hw.{hw_id}.parts.{name}"
    if isinstance(raw, (int, float)) and not isinstance(raw, bool):
        raw = {"points": raw}
    raw = _table(path, key, raw, _PART_KEYS)
    if "points" not in raw:
        raise ConfigError(f"{path}: {key} has no `points`; write {name} = {{ points = 1 }}")
    points = _number(path, f"{key}.points", raw["points"])
    kind = raw.get("kind", "function")
    if kind not in _KINDS:
        raise _bad(path, f"{key}.kind", " or ".join(f'"{k}"' for k in _KINDS), kind)
    forbidden = _forbidden(path, f"{key}.forbidden", raw.get("forbidden", [])) + hw_forbidden
    timeout = raw.get("request_timeout_s")
    if timeout is not None and (isinstance(timeout, bool) or not isinstance(timeout, (int, float))
                                or timeout <= 0):
        raise _bad(path, f"{key}.request_timeout_s", "a number of seconds > 0", timeout)
    return Part(name=name, points=float(points), kind=kind, forbidden=forbidden,
                request_timeout_s=float(timeout) if timeout is not None else None)


def _homework(path: Path, root: Path, hw_id: str, raw: Any,
              course_settings: dict[str, Any]) -> Homework:
    key = f"hw.{hw_id}"
    raw = _table(path, key, raw, _HW_KEYS)
    for needed in ("file", "parts"):
        if needed not in raw:
            raise ConfigError(f"{path}: [{key}] has no `{needed}`; a homework needs `file` "
                              f"(its stub's name) and a [{key}.parts] table")
    file, title = raw["file"], raw.get("title", hw_id)
    if not isinstance(file, str) or not file.endswith(".py") or "/" in file or "\\" in file:
        raise _bad(path, f"{key}.file", 'a file name like "gradients.py"', file)
    if not isinstance(title, str):
        raise _bad(path, f"{key}.title", "a string", title)
    parts_raw = _table(path, f"{key}.parts", raw["parts"])
    if not parts_raw:
        raise _bad(path, f"{key}.parts", "a table of at least one part", parts_raw)
    hw_forbidden = _forbidden(path, f"{key}.forbidden", raw.get("forbidden", []))
    parts = tuple(_part(path, hw_id, n, p, hw_forbidden) for n, p in parts_raw.items())
    return Homework(id=hw_id, title=title, file=file, parts=parts, root=root,
                    forbidden=hw_forbidden,
                    settings=dict(_table(path, f"{key}.settings", raw.get("settings", {}))),
                    hidden_pending=_number(path, f"{key}.hidden_tests",
                                           raw.get("hidden_tests", 0), integer=True),
                    preload=_strings(path, f"{key}.preload", raw.get("preload", [])),
                    course_settings=course_settings)


def _forbidden(path: Path, key: str, raw: Any) -> tuple[str, ...]:
    """A forbidden list of the manifest, each pattern checked (see grader.wire.rules)."""
    patterns = _strings(path, key, raw)
    for pattern in patterns:
        why = check_pattern(pattern)
        if why:
            raise ConfigError(f"{path}: {key}: forbidden pattern {why}; see "
                              "docs/authoring.md, 'Forbidden APIs'")
    return patterns


def load_course(root: Path | None = None) -> Course:
    """Read and check the manifest of the course at ``root`` (or found from the cwd).

    Every manifest error is a ConfigError of one line naming the file and the key."""
    root = Path(root).resolve() if root else find_course()
    path = root / MANIFEST
    if not path.is_file():
        raise UsageError(f"{path} does not exist; pass --course with a folder holding {MANIFEST}")
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as err:
        raise ConfigError(f"{path}: cannot be read ({err.strerror or err})") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as err:
        raise ConfigError(f"{path} is not valid TOML: {err}") from None
    _table(path, "", data, _TOP_KEYS)
    settings = dict(_table(path, "settings", data.get("settings", {})))
    info = _table(path, "course", data.get("course", {}), ("name",))
    name = info.get("name", root.name)
    if not isinstance(name, str):
        raise _bad(path, "course.name", "a string", name)
    homeworks = {hw_id: _homework(path, root, hw_id, raw, settings)
                 for hw_id, raw in _table(path, "hw", data.get("hw", {})).items()}
    return Course(root=root, name=name, homeworks=homeworks, settings=settings)
