"""``grade check HW --watch``: grade the submission again each time it changes, with the judge
kept warm: one pytest session (the suite collected once, the reference imported once) and one
launcher (the template, or the portable spare), so a re-check pays neither torch's import nor
pytest's collection, at every isolation level.

Changes are watched with ``watchfiles`` when it is installed (``pip install watchfiles``) and
by polling the files' modification times otherwise. The submission's folder is watched, not
the file, since editors save by writing a new file and renaming it over the old one.
"""

from __future__ import annotations

import importlib.util
import os
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from grader.course.manifest import load_course
from grader.course.submission import Prepared, prepare_submission
from grader.errors import SubmissionError
from grader.judge.results import SubmissionResult

__all__ = ["changes", "watch_submission"]

POLL_S = 0.1


def _stamp(paths: list[Path]) -> tuple[tuple[int, int], ...]:
    out = []
    for path in paths:
        try:
            st = os.stat(path)
            out.append((st.st_mtime_ns, st.st_size))
        except OSError:
            out.append((0, -1))
    return tuple(out)


def changes(paths: list[Path], *, stop: threading.Event | None = None,
            force_polling: bool = False) -> Iterator[str]:
    """Yield (``"watchfiles"`` or ``"polling"``) once per change of any of ``paths``."""
    stop = stop or threading.Event()
    if not force_polling and importlib.util.find_spec("watchfiles") is not None:
        import watchfiles

        wanted = {str(p.resolve()) for p in paths}
        folders = sorted({str(p.resolve().parent) for p in paths})
        for _ in watchfiles.watch(*folders, watch_filter=lambda _c, f: f in wanted,
                                  recursive=False, stop_event=stop, step=30, debounce=400):
            yield "watchfiles"
        return
    seen = _stamp(paths)
    while not stop.is_set():
        time.sleep(POLL_S)
        now = _stamp(paths)
        if now != seen:
            seen = now
            yield "polling"


def watch_submission(hw_id: str, submission: str | Path | None = None, *,
                     on_result: Callable[[SubmissionResult, str], None],
                     on_error: Callable[[str], None], course: str | Path | None = None,
                     stop: threading.Event | None = None, force_polling: bool = False,
                     **overrides: Any) -> None:
    """Grade ``submission`` now and after every change until ``stop`` is set (or Ctrl-C).

    ``on_result(result, log)`` after each grading; ``on_error(message)`` when the file cannot
    be read (a half-saved notebook): the next change is graded again.
    """
    from grader.api import check_device, homework_settings, open_template
    from grader.judge.runner import run_suite

    loaded = load_course(Path(course) if course else None)
    homework = loaded.homework(hw_id)
    settings = homework_settings(loaded, homework, overrides)
    path = Path(submission) if submission else homework.stub_path.parent
    target = prepare_submission(path, homework)  # bad input fails at once, before torch
    check_device(settings)
    watched = [Path(target.path)] if Path(target.path).is_file() else \
        sorted(p for p in Path(target.path).rglob("*") if p.suffix in (".py", ".ipynb"))

    stop = stop or threading.Event()
    changed = threading.Event()

    def watcher() -> None:  # watching from the start: a save during a grading is not missed
        for _ in changes(watched, stop=stop, force_polling=force_polling):
            changed.set()

    def feed() -> Iterator[Prepared]:
        yield target
        while not stop.is_set():
            if not changed.wait(0.2):
                continue
            changed.clear()
            try:
                yield prepare_submission(path, homework)
            except SubmissionError as err:
                on_error(str(err))

    threading.Thread(target=watcher, daemon=True, name="grader-watch").start()

    with open_template(homework, settings) as template:
        run_suite(homework, settings, template, feed(), on_result, course_root=loaded.root)
