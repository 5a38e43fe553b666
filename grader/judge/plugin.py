"""The judge's pytest plugin: fixtures, markers, and a test loop over submissions.

Fixtures: ``student`` (a proxy whose calls become executor requests), ``reference`` (the
instructor's solution module, in process; hidden tests only), ``device``, ``rng`` (a
``torch.Generator`` seeded from the test id), ``settings``. Markers: ``part(name)``,
``weight(w)``; visibility comes from the folder (``public/`` or ``hidden/``) and is added as
a ``public`` or ``hidden`` marker.

The suite is collected once; ``pytest_runtestloop`` then runs every collected test for each
submission fed to the plugin, so a pool of judges grades many submissions per collection.
"""

from __future__ import annotations

import ast
import importlib.util
import time
import traceback
import types
import zlib
from collections.abc import Callable, Generator, Iterable
from pathlib import Path
from typing import Any, Literal, cast

import pytest
import torch
from _pytest.reports import TestReport

from grader.config import Settings
from grader.course.forbidden import scan_forbidden
from grader.course.manifest import MANIFEST, Homework
from grader.course.submission import Prepared
from grader.errors import GraderError, StudentFailure
from grader.judge.compare import Mismatch
from grader.judge.proxy import Student
from grader.judge.results import TestResult
from grader.judge.scoring import Award
from grader.judge.timelimit import OuterTimeout, time_limit
from grader.launch.executor import Executor, ExecutorSpec, Launcher

__all__ = ["GraderPlugin", "SubmissionRun"]


class SubmissionRun:
    """One submission being graded: its executor and the outcomes of its tests."""

    def __init__(self, prepared: Prepared, homework: Homework, settings: Settings,
                 executor: Executor, signatures: dict[str, str]) -> None:
        self.prepared = prepared
        self.homework = homework
        self.settings = settings
        self.executor = executor
        self.signatures = signatures
        self.outcomes: dict[str, TestResult] = {}
        self.internal_errors: list[str] = []  # tracebacks of broken tests, for instructors
        self.started = time.perf_counter()
        patterns = {p.name: list(p.forbidden) for p in homework.parts}
        self.forbidden_in_source = scan_forbidden(prepared.source, patterns)
        # token -> (executor restarts when it was made, the name that made it): a handle dies
        # when the executor restarts; and test id -> its student.award verdict, until recorded
        self.handles: dict[str, tuple[int, str]] = {}
        self.awards: dict[str, Award] = {}
        self.part_timeouts = {p.name: p.request_timeout_s for p in homework.parts
                              if p.request_timeout_s is not None}
        self.warnings = tuple(
            f"{part}: line {hit.line} names {hit.name}, which is forbidden in this part (the "
            "part scores 0 if the code runs it)"
            for part, hits in scan_forbidden(prepared.source, patterns).items() for hit in hits)

    def forbidden_patterns(self, part: str) -> tuple[str, ...]:
        return next((p.forbidden for p in self.homework.parts if p.name == part), ())

    def expected_signature(self, name: str) -> str | None:
        return self.signatures.get(name)

    def load_errors(self) -> list[dict[str, Any]]:
        return list(self.executor.start().get("errors", []))

    def request(self, header: dict[str, Any], tensors: dict[str, torch.Tensor], *,
                label: str, part: str = "") -> tuple[dict[str, Any], dict[str, torch.Tensor]]:
        """Send a request with the deadline of its part."""
        return self.executor.request(header, tensors, timeout_s=self.timeout_for(part),
                                     label=label)

    def timeout_for(self, part: str) -> float:
        """The deadline of a part's requests: its own ``request_timeout_s`` where the manifest
        sets one (a training run), else the run's."""
        return self.part_timeouts.get(part) or self.settings.request_timeout_s


def stub_signatures(path: Path) -> dict[str, str]:
    """The signatures of the stub's functions and classes (``(a, dim=-1)``), for messages."""
    try:
        tree = ast.parse(path.read_text(encoding="utf-8"))
    except (OSError, SyntaxError):
        return {}
    out = {}
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            out[node.name] = f"({ast.unparse(node.args)})"
        elif isinstance(node, ast.ClassDef):
            init = next((n for n in node.body if isinstance(n, ast.FunctionDef)
                         and n.name == "__init__"), None)
            if init is not None:
                args = ast.unparse(init.args).split(", ", 1)
                out[node.name] = f"({args[1] if len(args) > 1 else ''})"
    return out


_PUBLIC_DETAILS = ("mismatched", "total", "max_abs", "max_rel", "rtol", "atol", "nonfinite",
                   "nonfinite_reference")


def mismatch_details(exc: BaseException, hidden: bool) -> dict[str, Any]:
    """The numbers of a mismatch for reports; hidden tests keep only summary numbers."""
    if not isinstance(exc, Mismatch):
        return {}
    details = {k: v for k, v in exc.details.items() if isinstance(v, (int, float, list))}
    if hidden:
        details = {k: v for k, v in details.items() if k in _PUBLIC_DETAILS}
    return details


def _classify(exc: BaseException | None, hidden: bool) -> tuple[str, str, str]:
    """(status, stage, message) for a test that raised ``exc``."""
    if exc is None:
        return "passed", "", ""
    if isinstance(exc, StudentFailure):
        return exc.status, exc.stage, exc.public_message if hidden else exc.message
    if isinstance(exc, Mismatch):
        return "failed", exc.stage, exc.public_message if hidden else exc.message
    if isinstance(exc, pytest.skip.Exception):
        return "skipped", "", str(exc.msg) if not hidden else "skipped"
    text = str(exc)
    if isinstance(exc, OuterTimeout):
        return "timeout", "call", str(exc)
    if isinstance(exc, AssertionError):
        return "failed", "values", "an assertion about the result failed" if hidden else \
            (text.splitlines()[0] if text else "an assertion about the result failed")
    return "error", "internal", ("the test itself failed (an error in the grader or the test, "
                                 f"not in your code: {type(exc).__name__}); tell your instructor")


class GraderPlugin:
    """Runs the collected suite once per submission and reports a result for each."""

    def __init__(self, homework: Homework, settings: Settings, template: Launcher,
                 feed: Iterable[Prepared], on_done: Callable[[SubmissionRun, list[Any]], None],
                 sandbox: Callable[[], dict[str, Any]],
                 relaunch: Callable[[], Launcher] | None = None) -> None:
        self.homework = homework
        self.run_settings = settings
        self.template = template
        self.relaunch = relaunch  # a fresh template after one died under a submission
        self.relaunched: list[Launcher] = []
        self.feed = feed
        self.on_done = on_done
        self.sandbox = sandbox  # called at the first executor: it waits for the template
        self.fatal: GraderError | None = None
        self.current: SubmissionRun | None = None
        self.items: list[pytest.Item] = []
        self.collect_errors: list[str] = []
        self.signatures = stub_signatures(homework.stub_path)
        self._reference: types.ModuleType | None = None
        harness = homework.harness_path
        self.harness = ({"filename": harness.name, "source": harness.read_text(encoding="utf-8")}
                        if harness.is_file() else None)

    # -- collection -------------------------------------------------------------------------
    def pytest_configure(self, config: pytest.Config) -> None:
        for line in ("part(name): the curriculum part a test grades",
                     "weight(w): the test's share of its part's points (default 1)",
                     "public: shipped to students", "hidden: run only at grading time"):
            config.addinivalue_line("markers", line)

    def pytest_collectreport(self, report: pytest.CollectReport) -> None:
        if report.failed:
            self.collect_errors.append(f"{report.nodeid}: {report.longreprtext[-2000:]}")

    def pytest_collection_modifyitems(self, session: pytest.Session, config: pytest.Config,
                                      items: list[pytest.Item]) -> None:
        parts = {p.name for p in self.homework.parts}
        for item in items:
            marker = item.get_closest_marker("part")
            if marker is None or not marker.args or marker.args[0] not in parts:
                got = marker.args[0] if marker and marker.args else None
                self.collect_errors.append(f"{item.nodeid}: needs @pytest.mark.part(NAME) with "
                                           f"one of {', '.join(sorted(parts))} (got {got!r})")
                continue
            hidden = "hidden" in Path(str(item.path)).relative_to(self.homework.tests_dir).parts
            item.add_marker("hidden" if hidden else "public")
            if not hidden and "reference" in getattr(item, "fixturenames", ()):
                self.collect_errors.append(f"{item.nodeid}: a public test may not use the "
                                           "`reference` fixture (public tests ship to students "
                                           "without solutions)")
            weight = item.get_closest_marker("weight")
            if weight is not None and not _is_positive(weight.args[0] if weight.args else None):
                self.collect_errors.append(f"{item.nodeid}: @pytest.mark.weight(w) needs a "
                                           f"number w > 0 (got {weight.args!r})")
        self._check_every_part_has_tests(items)
        self.items = list(items)
        self.direct = {item.nodeid for item in items if self._can_call_directly(item)}

    def _check_every_part_has_tests(self, items: list[pytest.Item]) -> None:
        """A part without tests would be worth 0 points in silence. (A student bundle lacks
        the hidden tests, so a part may have none there.)"""
        if self.homework.hidden_pending:
            return
        tested = {_part_of(item) for item in items}
        for part in self.homework.parts:
            if part.name not in tested:
                self.collect_errors.append(
                    f"{self.homework.root / MANIFEST}: hw.{self.homework.id}.parts.{part.name} "
                    f"has no tests in {self.homework.tests_dir}; mark one with "
                    f"@pytest.mark.part({part.name!r}) or remove the part")

    def _can_call_directly(self, item: pytest.Item) -> bool:
        """Whether a test needs nothing of pytest's run protocol: a plain function whose
        arguments are this plugin's fixtures or direct parameters, with no marks that act at
        run time (skip, xfail, usefixtures, timeout...). Such a test is called directly, which
        saves most of a millisecond per test; any other runs through pytest as usual."""
        if not isinstance(item, pytest.Function) or item.cls is not None:
            return False
        info = getattr(item, "_fixtureinfo", None)
        if info is None or "request" in info.argnames or \
                set(info.names_closure) - {"request"} != set(info.argnames):
            return False  # an autouse fixture, or one our fixtures do not provide
        for name in info.argnames:
            defs = info.name2fixturedefs.get(name) or ()
            func = defs[-1].func if defs else None
            if getattr(func, "__self__", None) is not self and \
                    getattr(func, "__name__", "") != "get_direct_param_fixture_func":
                return False  # a conftest fixture, or one that overrides ours
        return all(m.name in _PASSIVE_MARKS for m in item.iter_markers())

    # -- fixtures ---------------------------------------------------------------------------
    @pytest.fixture
    def student(self, request: pytest.FixtureRequest) -> Student:
        """The submission being graded, as a proxy to its sandboxed executor."""
        return self._student(request.node)

    def _student(self, item: pytest.Item) -> Student:
        assert self.current is not None, "no submission is being graded"
        return Student(self.current, part=_part_of(item), seed=self.seed_of(item),
                       hidden=item.get_closest_marker("hidden") is not None, test_id=item.nodeid)

    @pytest.fixture
    def reference(self) -> types.ModuleType:
        """The instructor's solution module, imported in the judge (never shipped)."""
        return self._reference_module()

    def _reference_module(self) -> types.ModuleType:
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

    @pytest.fixture
    def device(self) -> str:
        """Where the student's code runs (``cpu`` or ``cuda:N``)."""
        return self.run_settings.device

    @pytest.fixture
    def rng(self, request: pytest.FixtureRequest) -> torch.Generator:
        """A CPU generator seeded from the test id (and the course's salt)."""
        return torch.Generator().manual_seed(self.seed_of(request.node))

    def _fixture_values(self, item: pytest.Item) -> dict[str, Any]:
        """The arguments of a test that ``direct`` accepted: our fixtures and its params."""
        params = item.callspec.params if hasattr(item, "callspec") else {}
        own: dict[str, Callable[[], Any]] = {
            "student": lambda: self._student(item), "reference": self._reference_module,
            "device": lambda: self.run_settings.device, "settings": lambda: self.run_settings,
            "rng": lambda: torch.Generator().manual_seed(self.seed_of(item))}
        return {name: params[name] if name in params else own[name]()
                for name in item._fixtureinfo.argnames}  # type: ignore[attr-defined]

    @pytest.fixture
    def settings(self) -> Settings:
        """The run's settings (memory budget, timeouts), for tests that size inputs by them."""
        return self.run_settings

    def seed_of(self, item: pytest.Item) -> int:
        return zlib.crc32(f"{self.run_settings.seed_salt}:{item.nodeid}".encode())

    # -- the loop ---------------------------------------------------------------------------
    def pytest_runtestloop(self, session: pytest.Session) -> bool:
        if self.collect_errors:
            return True  # reported by the runner, which raises ConfigError
        # What the homework's code imports late (the first optimizer imports torch._dynamo,
        # 1.2 s), imported here while the template imports it too, not in the first test.
        for name in self.homework.preload:
            try:
                importlib.import_module(name)
            except ImportError:
                pass
        try:
            for prepared in self.feed:
                self.run_one(session, prepared)
        except GraderError as err:  # reported by the runner once pytest has finished
            self.fatal = err
        finally:
            for launcher in self.relaunched:
                launcher.close()
        return True

    def run_one(self, session: pytest.Session, prepared: Prepared) -> None:
        spec = ExecutorSpec(submission=prepared.executor_spec(), harness=self.harness,
                            sandbox=self.sandbox(), import_timeout_s=self.run_settings.import_timeout_s,
                            max_reply_bytes=self.run_settings.max_reply_mb << 20)
        executor = Executor(self.template, spec)
        self.current = SubmissionRun(prepared, self.homework, self.run_settings, executor,
                                     self.signatures)
        try:
            for i, item in enumerate(self.items):
                if item.nodeid in self.direct:
                    self._call_directly(item)
                    continue
                nxt = self.items[i + 1] if i + 1 < len(self.items) else None
                item.config.hook.pytest_runtest_protocol(item=item, nextitem=nxt)
            self.on_done(self.current, self.items)
        finally:
            executor.close()
            self.current = None
            if executor.launcher_lost and self.relaunch is not None:
                self.template = self.relaunch()
                self.relaunched.append(self.template)

    def _call_directly(self, item: pytest.Item) -> None:
        """Run one test without pytest's protocol, under the same outer time limit."""
        started = time.perf_counter()
        when, error = "setup", None
        try:
            kwargs = self._fixture_values(item)
            when = "call"
            with time_limit(self.run_settings.test_timeout_s):
                item.obj(**kwargs)  # type: ignore[attr-defined]
        except (Exception, pytest.skip.Exception, pytest.fail.Exception) as exc:
            error = exc
        self._record(item, when, error, time.perf_counter() - started)

    def _record(self, item: pytest.Item, when: str, exc: BaseException | None,
                duration: float) -> tuple[str, str]:
        """Store a test's outcome in the current run; returns (status, message)."""
        run = self.current
        assert run is not None
        hidden = item.get_closest_marker("hidden") is not None
        status, stage, message = _classify(exc, hidden)
        details = mismatch_details(exc, hidden) if exc is not None else {}
        award = run.awards.pop(item.nodeid, None) if when == "call" else None
        credit = None
        if award is not None and status == "passed":
            message, details = award.message, dict(award.details)
            if award.credit < 1.0:
                status, stage, credit = "failed", "outcome", award.credit
        if when == "call" or (when == "setup" and exc is not None):
            run.outcomes[item.nodeid] = TestResult(
                id=item.nodeid, part=_part_of(item), visibility="hidden" if hidden else "public",
                points=0.0, max_points=0.0, status=status, stage=stage, message=message,
                duration_s=round(duration, 4), details=details, credit=credit)
            if stage == "internal" and exc is not None:
                run.internal_errors.append(f"{item.nodeid}:\n" + "".join(
                    traceback.format_exception(exc, limit=-6)))
        return status, message

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_call(self, item: pytest.Item) -> Generator[None, None, None]:
        """The same outer time limit for a test run through pytest's protocol."""
        with time_limit(self.run_settings.test_timeout_s):
            return (yield)

    @pytest.hookimpl(tryfirst=True)
    def pytest_runtest_makereport(self, item: pytest.Item,
                                  call: pytest.CallInfo[None]) -> TestReport | None:
        """Record the outcome and build the report ourselves: pytest's own report formats a
        long traceback with source for every failure, which costs more than the test."""
        if self.current is None:
            return None
        excinfo = call.excinfo
        status, message = self._record(item, call.when, excinfo.value if excinfo else None,
                                       call.duration)
        longrepr: Any = None
        outcome: Literal["passed", "failed", "skipped"] = "passed"
        if excinfo is not None:
            if isinstance(excinfo.value, pytest.skip.Exception):
                outcome = "skipped"
                longrepr = (str(item.path), item.location[1] or 0, str(excinfo.value.msg))
            else:
                outcome = "failed"
                longrepr = f"{status}: {message}"
        when = cast(Literal["setup", "call", "teardown"], call.when)
        return TestReport(item.nodeid, item.location, {k: 1 for k in item.keywords}, outcome,
                          longrepr, when, duration=call.duration, start=call.start,
                          stop=call.stop, user_properties=item.user_properties)


_PASSIVE_MARKS = frozenset({"part", "weight", "parametrize", "public", "hidden"})


def _is_positive(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and value > 0


def _part_of(item: pytest.Item) -> str:
    marker = item.get_closest_marker("part")
    return str(marker.args[0]) if marker else ""


def weight_of(item: pytest.Item) -> float:
    marker = item.get_closest_marker("weight")
    return float(marker.args[0]) if marker and marker.args else 1.0
