"""The library's entry points; the CLI is a thin shell over these.

    from grader.api import check_submission
    outcome = check_submission("hw2", "solutions/hw2")
    print(outcome.result.score, outcome.result.max_score)
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from grader.config import Settings, resolve_settings
from grader.course.manifest import Course, Homework, load_course
from grader.course.submission import Prepared, prepare_submission
from grader.errors import UsageError
from grader.judge.results import SubmissionResult
from grader.launch.executor import Launcher

__all__ = ["CheckOutcome", "check_submission", "grade_prepared", "homework_settings",
           "open_template"]


@dataclass(frozen=True)
class CheckOutcome:
    """The result of ``grade check`` and what the student's code printed (instructors only)."""

    result: SubmissionResult
    log: str


def homework_settings(course: Course, homework: Homework, overrides: dict[str, Any]) -> Settings:
    """Settings for one homework: defaults < course < homework < environment < overrides."""
    return resolve_settings(("course.toml [settings]", course.settings),
                            (f"course.toml [hw.{homework.id}.settings]", homework.settings),
                            overrides=overrides)


def check_device(settings: Settings) -> None:
    """Refuse a CUDA or MPS device that is not there, with a one-line message."""
    if settings.device == "mps":
        import torch

        if not torch.backends.mps.is_available():
            raise UsageError("--device mps: no Apple-silicon GPU is usable here "
                             "(torch.backends.mps.is_available() is False); use --device cpu")
        return
    if not settings.device.startswith("cuda"):
        return
    import torch

    if not torch.cuda.is_available():
        raise UsageError(f"--device {settings.device}: no CUDA GPU is visible on this machine "
                         "(torch.cuda.is_available() is False); use --device cpu")
    index = int(settings.device.split(":")[1]) if ":" in settings.device else 0
    if index >= torch.cuda.device_count():
        raise UsageError(f"--device {settings.device}: only {torch.cuda.device_count()} GPU(s) "
                         "are visible")


@contextmanager
def open_template(homework: Homework | None = None,
                  settings: Settings | None = None) -> Iterator[Launcher]:
    """The launcher of this run's executors for the duration of a block (torch imports there
    meanwhile): the fork-server template, or the portable spawner (``grader.launch.isolation``)."""
    from grader.launch.isolation import open_launcher

    template = open_launcher(settings or Settings(),
                             preload=homework.executor_preload if homework else ())
    try:
        yield template
    finally:
        template.close()


def grade_prepared(homework: Homework, settings: Settings, template: Launcher,
                   prepared: Sequence[Prepared], *, course_root: Path, slot: int = 0,
                   ) -> list[tuple[SubmissionResult, str]]:
    """Grade already-read submissions with one collection of the suite, in order."""
    from grader.judge.runner import run_suite

    results: list[tuple[SubmissionResult, str]] = []
    run_suite(homework, settings, template, prepared,
              lambda result, log: results.append((result, log)),
              course_root=course_root, slot=slot)
    return results


def check_submission(hw_id: str, submission: str | Path | None = None, *,
                     course: str | Path | None = None, **overrides: Any) -> CheckOutcome:
    """Grade one submission (default: the homework's folder under ``assignments/``)."""
    loaded = load_course(Path(course) if course else None)
    homework = loaded.homework(hw_id)
    settings = homework_settings(loaded, homework, overrides)
    path = Path(submission) if submission else homework.stub_path.parent
    prepared = prepare_submission(path, homework)  # bad input fails before torch starts
    check_device(settings)
    with open_template(homework, settings) as template:
        ((result, log),) = grade_prepared(homework, settings, template, [prepared],
                                          course_root=loaded.root)
    return CheckOutcome(result=result, log=log)
