"""Grading a whole class: ``grade batch`` and ``grade report``.

    from grader.batch.driver import grade_batch
    summary = grade_batch("hw2", "submissions.zip", "graded/", jobs=2)

What it does:

* **Discovers** the submissions in a folder (one entry per student: a subfolder, a ``.py`` or
  an ``.ipynb``; the student id is the entry's name without its extension) or an LMS zip:
  - *Canvas* "Download Submissions": flat files named
    ``<name>_<canvasid>_<subid>_<filename>`` (``<name>_LATE_<canvasid>_...`` for late ones;
    Canvas may add ``-1``, ``-2`` to the file name of a resubmission). The student id is
    ``<name>`` (Canvas's lower-case "lastfirst"); a student's files go together in a folder.
  - *Gradescope* "Export Submissions": ``submission_metadata.yml`` at the top and one folder
    ``submission_<id>/`` per submission. The student id is the submitter's ``:sid:`` (or
    e-mail, or name) from the metadata, else ``<id>``.
  - Any other zip: its top level (or the single folder it holds) is read like a folder.
* **Keys** each result by the submission's sha256, the suite's version and the grader's
  version: a second run regrades only what is missing or changed (``--rerun`` forces).
* **Writes** ``DIR/results/<student>.json`` and the report beside it atomically (a temporary
  file, then ``os.replace``) as soon as each submission is done, so a run killed at any
  moment loses nothing that finished. Then ``DIR/gradebook.csv`` and ``DIR/class.html``.
* **Grades** with a pool of judge processes (``grader.batch.pool``, ``python -m grader.batch.pool --worker``): each
  collects the pytest suite once and keeps one template process (torch imported) from which
  a fresh sandboxed executor is forked per submission. A judge that dies is replaced and
  its submission retried; a submission that kills its judge twice is recorded with status
  ``error``. ``executor="dask"`` sends the same task to a Dask cluster
  (``grader.batch.dask``).
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
import time
from collections.abc import Callable, Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from grader.batch.judges import start_zygote
from grader.batch.pool import Job, error_result, prepared_to_dict, run_local
from grader.batch.progress import Progress
from grader.course.lms import Entry, discover, safe_id
from grader.errors import SubmissionError, UsageError
from grader.reports.files import RESULTS, load_results, write_atomic
from grader.version import __version__

__all__ = ["BatchSummary", "Job", "discover", "grade_batch", "job_key", "render_outputs"]
REPORT_EXT = {"html": "html", "md": "md", "text": "txt", "json": None}


# --------------------------------------------------------------------------------------------
# keys, files
# --------------------------------------------------------------------------------------------
def job_key(sha256: str, suite: str, grader_version: str = __version__) -> dict[str, str]:
    return {"sha256": sha256, "suite": suite, "grader": grader_version}


def result_key(data: dict[str, Any]) -> dict[str, str]:
    versions = data.get("versions", {})
    return {"sha256": data.get("submission", {}).get("sha256", ""),
            "suite": versions.get("suite", ""), "grader": versions.get("grader", "")}


def _report_path(folder: Path, student: str, fmt: str) -> Path | None:
    ext = REPORT_EXT.get(fmt)
    return folder / f"{student}.{ext}" if ext else None


def save_result(out: Path, data: dict[str, Any], log: str, fmt: str) -> None:
    """Write one student's report, log and (last, as the commit mark) result JSON, from the
    result as data (``SubmissionResult.to_dict``)."""
    from grader.judge.results import SubmissionResult
    from grader.reports.render import render

    folder = out / RESULTS
    student = data["submission"]["id"]
    report = _report_path(folder, student, fmt)
    if report is not None:
        write_atomic(report, render(SubmissionResult.from_dict(data), fmt))
    if log:
        write_atomic(folder / f"{student}.log", log)
    write_atomic(folder / f"{student}.json", json.dumps(data, indent=2, allow_nan=False) + "\n")


class ResultWriter:
    """Writes results on a thread of its own, in the order they come, so the pool hands a judge
    its next submission without waiting for the disk. The first failure (a full disk) stops
    the batch at the next result and at the end; what was written before stays."""

    def __init__(self, out: Path, fmt: str, done: Callable[[str], None]) -> None:
        self.out, self.fmt, self.done = out, fmt, done
        self.pool = ThreadPoolExecutor(1, thread_name_prefix="grade-results")
        self.futures: list[Future[None]] = []

    def write(self, data: dict[str, Any], log: str) -> None:
        self._raise_first()
        self.futures.append(self.pool.submit(self._save, data, log))

    def _save(self, data: dict[str, Any], log: str) -> None:
        save_result(self.out, data, log, self.fmt)
        self.done(str(data.get("status", "")))

    def _raise_first(self) -> None:
        while self.futures and self.futures[0].done():
            self.futures.pop(0).result()

    def close(self) -> None:
        """Wait for every result to be written; raise the first failure."""
        self.pool.shutdown(wait=True)
        for future in self.futures:
            future.result()
        self.futures.clear()


# --------------------------------------------------------------------------------------------
# the batch
# --------------------------------------------------------------------------------------------
@dataclass
class BatchSummary:
    out: Path
    total: int = 0
    graded: int = 0
    skipped: int = 0
    statuses: dict[str, int] = field(default_factory=dict)
    elapsed_s: float = 0.0
    mean_score: float = 0.0
    max_score: float = 0.0
    full_marks: int = 0
    layout: str = "folder"

    def line(self) -> str:
        counts = ", ".join(f"{n} {s}" for s, n in sorted(self.statuses.items())) or "none"
        rate = self.graded / self.elapsed_s if self.elapsed_s > 0 else 0.0
        return (f"{self.total} submissions: {self.graded} graded now, {self.skipped} up to date "
                f"({counts}) in {self.elapsed_s:.1f} s ({rate:.2f}/s); mean "
                f"{self.mean_score:.4g}/{self.max_score:g}, {self.full_marks} full marks; "
                f"{self.out / 'gradebook.csv'}, {self.out / 'class.html'}")


def _needs_grading(existing: dict[str, Any] | None, key: dict[str, str], rerun: str | None,
                   ) -> bool:
    if existing is None or rerun == "all":
        return True
    if result_key(existing) != key:
        return True
    if rerun == "failed":
        tests = existing.get("tests", [])
        return existing.get("status") != "graded" or not tests or \
            any(t.get("status") != "passed" for t in tests)
    return False


def _check_options(rerun: str | None, fmt: str, executor: str) -> None:
    if rerun not in (None, "failed", "all"):
        raise UsageError(f"--rerun must be failed or all (got {rerun!r})")
    if fmt not in REPORT_EXT:
        raise UsageError(f"--format must be one of {', '.join(REPORT_EXT)} (got {fmt!r})")
    if executor not in ("local", "dask"):
        raise UsageError(f"--executor must be local or dask (got {executor!r})")


def _check_isolation(settings: Any, executor: str) -> None:
    """A class is graded at the portable level only when asked for by name: it does not hide
    the course (hidden tests, solutions, other students' work) from a submission."""
    from grader.launch.isolation import fork_server_available

    if executor == "local" and settings.isolation == "auto" and not fork_server_available():
        raise UsageError(
            f"grade batch: this machine ({sys.platform}) offers only the portable isolation "
            "level, which does not hide the course's hidden tests, solutions or other "
            "students' files from a submission; grade on Linux (namespace or process level), "
            "or pass --isolation portable to grade here anyway")


def _existing(out: Path, student: str) -> dict[str, Any] | None:
    path = out / RESULTS / f"{student}.json"
    try:
        return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else None
    except ValueError:
        return None


def _plan(entries: list[Entry], homework: Any, out: Path, suite: str, rerun: str | None,
          fmt: str, summary: BatchSummary) -> list[Job]:
    """The submissions to grade now: new, changed, or asked for by ``rerun``.

    Up-to-date ones are skipped (their report rewritten if it went missing); unreadable ones
    become jobs that carry their message.
    """
    from grader.course.submission import prepare_submission
    from grader.judge.results import SubmissionResult
    from grader.reports.render import render

    todo: list[Job] = []
    for entry in entries:
        existing = _existing(out, entry.student)
        try:
            prepared = prepare_submission(entry.path, homework, student_id=entry.student)
        except SubmissionError as err:
            sha = _file_sha(entry.path)
            if not _needs_grading(existing, job_key(sha, suite), rerun):
                summary.skipped += 1
                continue
            todo.append(Job(entry.student, {"path": str(entry.path), "sha256": sha,
                                            "unreadable": str(err)}))
            continue
        if not _needs_grading(existing, job_key(prepared.sha256, suite), rerun):
            summary.skipped += 1
            report = _report_path(out / RESULTS, entry.student, fmt)
            if report is not None and not report.exists() and existing is not None:
                write_atomic(report, render(SubmissionResult.from_dict(existing), fmt))
            continue
        todo.append(Job(entry.student, prepared_to_dict(prepared)))
    return todo


def grade_batch(hw_id: str, submissions: str | Path, out: str | Path, *,
                course: str | Path | None = None, jobs: int | None = None,
                executor: str = "local", scheduler: str | None = None, rerun: str | None = None,
                fmt: str = "html", students: Iterable[str] = (), progress: bool = True,
                submission_timeout_s: float = 900.0, **overrides: Any) -> BatchSummary:
    """Grade every submission in ``submissions`` into ``out``; see the module docstring."""
    from grader.api import check_device, homework_settings
    from grader.course.manifest import load_course

    _check_options(rerun, fmt, executor)
    started = time.monotonic()
    loaded = load_course(Path(course) if course else None)
    homework = loaded.homework(hw_id)
    overrides = {k: v for k, v in overrides.items() if v is not None}
    settings = homework_settings(loaded, homework, overrides)
    _check_isolation(settings, executor)
    if executor == "local":
        check_device(settings)
    out = Path(out)
    # torch imports in the zygote while the submissions are read and planned
    zygote = start_zygote(settings, homework.executor_preload) if executor == "local" else None
    try:
        return _grade(loaded, homework, settings, overrides, submissions, out, zygote=zygote,
                      jobs=jobs, executor=executor, scheduler=scheduler, rerun=rerun, fmt=fmt,
                      students=students, progress=progress, started=started,
                      submission_timeout_s=submission_timeout_s)
    finally:
        if zygote is not None:
            zygote.close()


def _grade(loaded: Any, homework: Any, settings: Any, overrides: dict[str, Any],
           submissions: str | Path, out: Path, *, zygote: Any, jobs: int | None, executor: str,
           scheduler: str | None, rerun: str | None, fmt: str, students: Iterable[str],
           progress: bool, started: float, submission_timeout_s: float) -> BatchSummary:
    from grader.judge.results import unreadable_result
    from grader.reports.similarity import batch_similarity

    hw_id = homework.id
    _prepare_out(out)
    everyone, layout = discover(Path(submissions), out)
    # similarity compares the whole class, even when --student picks some
    entries = _chosen(everyone, students, submissions)
    suite = homework.suite_version(settings)  # the settings too: a seed_salt changes grades
    summary = BatchSummary(out=out, total=len(entries), layout=layout)
    todo = _plan(entries, homework, out, suite, rerun, fmt, summary)
    # similarity reads only the submissions: it runs beside the grading (its import and
    # fingerprints overlap the zygote's torch import), never costing the batch its outputs
    hints = ThreadPoolExecutor(1, thread_name_prefix="grade-similarity")
    similarity = hints.submit(batch_similarity, homework, everyone, out)
    hints.shutdown(wait=False)
    bar = Progress(len(todo), enabled=progress)

    def done(status: str) -> None:
        summary.graded += 1
        bar.update(status)

    writer = ResultWriter(out, fmt, done)
    readable = []
    for job in todo:
        if "unreadable" in job.prepared:
            writer.write(unreadable_result(homework, student=job.student,
                                           path=job.prepared["path"],
                                           message=job.prepared["unreadable"],
                                           settings=settings, sha256=job.sha256).to_dict(), "")
        else:
            readable.append(job)

    def on_result(job: Job, data: dict[str, Any] | None, log: str, error: str) -> None:
        if data is None:
            writer.write(error_result(homework, settings, job, error).to_dict(), "")
            return
        # the result is keyed by the student id and path the driver knows
        data["submission"] = {**data.get("submission", {}), "id": job.student,
                              "path": job.prepared.get("path", "")}
        writer.write(data, log)

    try:
        _run(readable, loaded, hw_id, overrides, on_result, zygote=zygote, jobs=jobs,
             executor=executor, scheduler=scheduler, submission_timeout_s=submission_timeout_s,
             log_dir=out / "logs")
    finally:
        writer.close()
        similarity.result()
    summary.elapsed_s = time.monotonic() - started
    _summarise(summary, render_outputs(out), entries, homework.max_score)
    return summary


def _prepare_out(out: Path) -> None:
    """Make ``out/results``, without the temporary files an interrupted run left there."""
    try:
        (out / RESULTS).mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise UsageError(f"--out {out}: cannot make {out / RESULTS} ({err.strerror})") from None
    for stale in (out / RESULTS).glob(".*.tmp-*"):
        stale.unlink(missing_ok=True)


def _chosen(entries: list[Entry], students: Iterable[str],
            submissions: str | Path) -> list[Entry]:
    """The entries ``--student`` picks (all of them without it); unknown students refused."""
    wanted = {safe_id(s) for s in students}
    if not wanted:
        return entries
    unknown = wanted - {e.student for e in entries}
    if unknown:
        raise UsageError(f"no submission for student(s) {', '.join(sorted(unknown))} in "
                         f"{submissions}")
    return [e for e in entries if e.student in wanted]


def _summarise(summary: BatchSummary, results: dict[str, Any], entries: list[Entry],
               max_score: float) -> None:
    """The statuses, mean score and full marks of the chosen students' results."""
    mine = [results[e.student] for e in entries if e.student in results]
    for r in mine:
        summary.statuses[r.status] = summary.statuses.get(r.status, 0) + 1
    if mine:
        summary.mean_score = sum(r.score for r in mine) / len(mine)
        summary.max_score = max_score
        summary.full_marks = sum(r.full_marks for r in mine)


def _run(readable: list[Job], loaded: Any, hw_id: str, overrides: dict[str, Any],
         on_result: Callable[[Job, dict[str, Any] | None, str, str], None], *, zygote: Any,
         jobs: int | None, executor: str, scheduler: str | None, submission_timeout_s: float,
         log_dir: Path) -> None:
    """Grade the readable submissions on the local pool or on Dask."""
    if not readable:
        return
    if executor == "local":
        run_local(readable, course_root=loaded.root, hw_id=hw_id, overrides=overrides,
                  workers=jobs or os.cpu_count() or 1, on_result=on_result,
                  submission_timeout_s=submission_timeout_s, log_dir=log_dir, zygote=zygote)
    else:
        from grader.batch.dask import run_dask

        run_dask(readable, course_root=loaded.root, hw_id=hw_id, overrides=overrides,
                 scheduler=scheduler, workers=jobs, on_result=on_result)


def _file_sha(path: Path) -> str:
    try:
        if path.is_file():
            return hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError:
        pass
    return ""


def render_outputs(out: str | Path) -> dict[str, Any]:
    """(Re)write ``gradebook.csv`` and ``class.html`` from ``out/results``; the results."""
    from grader.reports.classreport import render_class
    from grader.reports.export import to_gradebook_csv
    from grader.reports.similarity import class_section

    out = Path(out)
    results = load_results(out)
    if not results:
        raise UsageError(f"{out / RESULTS}: no results to report")
    write_atomic(out / "gradebook.csv", to_gradebook_csv(list(results.values())))
    write_atomic(out / "class.html", render_class(list(results.values()),
                                                  similarity=class_section(out)))
    return results
