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

import importlib.util
import time
from collections.abc import Callable, Generator, Iterable
from pathlib import Path
from typing import Any, Literal, cast

import pytest
from _pytest.reports import TestReport

from grader.config import Settings
from grader.course.manifest import MANIFEST, Homework
from grader.course.submission import Prepared
from grader.errors import GraderError
from grader.judge.fixtures import FIXTURES, Fixtures
from grader.judge.outcomes import part_of, record
from grader.judge.run import SubmissionRun, stub_signatures
from grader.judge.timelimit import time_limit
from grader.launch.executor import Executor, ExecutorSpec, Launcher

__all__ = ["GraderPlugin"]


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
        self.fixtures = Fixtures(homework, settings, lambda: self.current)
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
        tested = {part_of(item) for item in items}
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

    # -- fixtures: one table (grader.judge.fixtures), one pytest fixture per entry -----------
    def _fixture(self, name: str, request: pytest.FixtureRequest) -> Any:
        return self.fixtures.value(name, request.node)

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
            kwargs = self.fixtures.arguments(item)
            when = "call"
            with time_limit(self.run_settings.test_timeout_s):
                item.obj(**kwargs)  # type: ignore[attr-defined]
        except (Exception, pytest.skip.Exception, pytest.fail.Exception) as exc:
            error = exc
        self._record(item, when, error, time.perf_counter() - started)

    def _record(self, item: pytest.Item, when: str, exc: BaseException | None,
                duration: float) -> tuple[str, str]:
        assert self.current is not None
        return record(self.current, item, when, exc, duration)

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


def _fixture_method(name: str) -> Any:
    def fixture(self: GraderPlugin, request: pytest.FixtureRequest) -> Any:
        return self._fixture(name, request)

    fixture.__name__ = name
    fixture.__doc__ = f"The ``{name}`` fixture (grader.judge.fixtures)."
    return pytest.fixture(name=name)(fixture)


for _name in FIXTURES:
    setattr(GraderPlugin, _name, _fixture_method(_name))
