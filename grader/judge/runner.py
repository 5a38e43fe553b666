"""Running a homework's suite over submissions: one pytest session, one template, results.

``run_suite`` collects the suite once and feeds it submissions; each finished submission
becomes a SubmissionResult handed to a callback as soon as it is done.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import torch

from grader.config import Settings
from grader.course.manifest import Homework
from grader.course.submission import Prepared
from grader.errors import ConfigError
from grader.judge.outcomes import weight_of
from grader.judge.plugin import GraderPlugin
from grader.judge.results import SubmissionResult, versions
from grader.judge.run import SubmissionRun
from grader.judge.scoring import score_tests, total
from grader.launch.confinement import sandbox_config
from grader.launch.executor import Launcher
from grader.launch.isolation import choose_isolation
from grader.status import SubmissionStatus

__all__ = ["choose_isolation", "run_suite", "sandbox_config"]

_AUTOLOAD = "PYTEST_DISABLE_PLUGIN_AUTOLOAD"
def _pytest_args(homework: Homework, settings: Settings) -> list[str]:
    # Only the plugins grading needs (no entry-point scan: see run_suite), and not the
    # unraisable-exception plugin, which runs gc.collect() twice at exit (0.25 s with torch).
    return [str(homework.tests_dir), "-p", "no:terminal",
            "-p", "no:cacheprovider", "-p", "no:unraisableexception", "-p", "no:logging",
            "-p", "no:randomly", "-p", "no:xdist", "-c", os.devnull,
            "--rootdir", str(homework.tests_dir), "--import-mode=importlib",
            "-W", "ignore::DeprecationWarning",
            "--ignore", str(homework.mutants_dir)]


def _forget_suite_modules(homework: Homework) -> None:
    """Drop a suite's test modules from ``sys.modules``: pytest's importlib mode names them
    by their path under the suite (``public.test_mlp``), so hw3's would stand in for hw4's when
    one process runs both (``grade verify``)."""
    roots = (str(homework.tests_dir) + os.sep, str(homework.tests_dir.resolve()) + os.sep)
    for name, module in list(sys.modules.items()):
        path = getattr(module, "__file__", None)
        if isinstance(path, str) and path.startswith(roots):
            del sys.modules[name]


@contextmanager
def _judging(homework: Homework, settings: Settings) -> Iterator[None]:
    """The judge process's state while a suite runs, given back afterwards.

    * torch threads: the executor's count. With torch's default (every core) in each judge,
      judges and executors oversubscribe the cores and a batch is several times slower.
    * no pytest plugin auto-loading: the entry-point scan and what it imports (platformdirs
      registers a plugin) cost 0.2 s. The variable works with every pytest version; the
      --disable-plugin-autoload flag needs 8.4.
    """
    _forget_suite_modules(homework)
    threads = torch.get_num_threads()
    autoload = os.environ.get(_AUTOLOAD)
    torch.set_num_threads(settings.threads)
    os.environ[_AUTOLOAD] = "1"
    try:
        yield
    finally:
        torch.set_num_threads(threads)
        if autoload is None:
            os.environ.pop(_AUTOLOAD, None)
        else:
            os.environ[_AUTOLOAD] = autoload


def run_suite(homework: Homework, settings: Settings, template: Launcher,
              feed: Iterable[Prepared], on_result: Callable[[SubmissionResult, str], None],
              *, course_root: Path, slot: int = 0) -> str:
    """Grade every submission of ``feed`` with one collection of the suite.

    Calls ``on_result(result, student_log)`` after each; returns the isolation level used.
    """
    ready: dict[str, Any] = {}

    def setup() -> dict[str, Any]:
        """Wait for the template only when the first executor is needed, so the suite is
        collected while torch is still importing there."""
        if not ready:
            info = template.ready()
            isolation = choose_isolation(settings.isolation, info.get("isolation", "process"))
            ready.update(isolation=isolation, versions=versions(homework, info, settings),
                         sandbox=sandbox_config(settings, course_root, isolation, slot))
        return ready

    def done(run: SubmissionRun, items: list[pytest.Item]) -> None:
        order = [(i.nodeid, i.get_closest_marker("part").args[0],  # type: ignore[union-attr]
                  "hidden" if i.get_closest_marker("hidden") else "public", weight_of(i))
                 for i in items]
        tests = score_tests(homework, order, run.outcomes)
        score, max_score = total(tests)
        prepared = run.prepared
        result = SubmissionResult(
            assignment=homework.id,
            submission={"id": prepared.id, "path": prepared.path, "sha256": prepared.sha256},
            score=score, max_score=max_score, status=SubmissionStatus.GRADED, device=settings.device,
            isolation=ready["isolation"], versions=ready["versions"],
            duration_s=round(time.perf_counter() - run.started, 3), tests=tests,
            left_out=prepared.left_out, warnings=run.warnings,
            parts_order=tuple(p.name for p in homework.parts),
            hidden_pending=homework.hidden_pending)
        log = run.executor.log_tail()
        if run.internal_errors:
            log += "\n--- tests that broke (a bug in the suite or the grader) ---\n" + \
                "\n".join(run.internal_errors)
        on_result(result, log)

    def relaunch() -> Launcher:
        from grader.launch.isolation import open_launcher

        return open_launcher(settings, preload=homework.executor_preload)

    plugin = GraderPlugin(homework, settings, template, feed, done, lambda: setup()["sandbox"],
                          relaunch)
    if not homework.tests_dir.is_dir():
        raise ConfigError(f"{homework.tests_dir} does not exist: the suite of {homework.id}")
    try:
        with _judging(homework, settings):
            code = pytest.main(_pytest_args(homework, settings), plugins=[plugin])
    finally:
        _forget_suite_modules(homework)
    if plugin.fatal is not None:
        raise plugin.fatal
    if len(plugin.collect_errors) == 1:
        raise ConfigError(f"the test suite of {homework.id} does not load: "
                          f"{plugin.collect_errors[0]}")
    if plugin.collect_errors:
        raise ConfigError(f"the test suite of {homework.id} does not load:\n"
                          + "\n".join(plugin.collect_errors))
    if code in (pytest.ExitCode.INTERNAL_ERROR, pytest.ExitCode.USAGE_ERROR):
        raise ConfigError(f"pytest could not run the suite of {homework.id} (exit {int(code)})")
    return str(setup()["isolation"])
