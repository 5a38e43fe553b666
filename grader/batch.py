"""Grading a whole class: ``grade batch`` and ``grade report``.

    from grader.batch import grade_batch
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
* **Grades** with a pool of judge processes (``python -m grader.batch --worker``): each
  collects the pytest suite once and keeps one template process (torch imported) from which
  a fresh sandboxed executor is forked per submission. A judge that dies is replaced and
  its submission retried; a submission that kills its judge twice is recorded with status
  ``error``. ``executor="dask"`` sends the same task to a Dask cluster
  (``grader.dask_executor``).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import re
import selectors
import shutil
import subprocess
import sys
import time
import zipfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, TextIO

import grader
from grader.errors import ConfigError, GraderError, SubmissionError, UsageError

__all__ = ["BatchSummary", "Job", "discover", "grade_batch", "job_key", "load_results",
           "render_outputs", "write_atomic"]

RESULTS = "results"
REPORT_EXT = {"html": "html", "md": "md", "text": "txt", "json": None}
MAX_ATTEMPTS = 2
_SAFE = re.compile(r"[^A-Za-z0-9._@+-]+")
_CANVAS = re.compile(r"^(?P<name>[^_]+?)_(?:LATE_)?(?P<canvasid>\d+)_(?P<subid>\d+)_(?P<file>.+)$")
_SKIP_NAMES = {"__pycache__", "__MACOSX", ".ipynb_checkpoints", "submission_metadata.yml"}


# --------------------------------------------------------------------------------------------
# discovery
# --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Entry:
    """One student's submission on disk."""

    student: str
    path: Path


def safe_id(name: str) -> str:
    """A student id usable as a file name."""
    cleaned = _SAFE.sub("_", name).strip("._") or "student"
    return cleaned[:120]


def _visible(path: Path) -> bool:
    return not path.name.startswith(".") and path.name not in _SKIP_NAMES


def _folder_entries(folder: Path) -> list[Entry]:
    entries = []
    # Every visible entry is a student's: one that is not a .py, a notebook or a folder is
    # recorded as unreadable with its message, never skipped in silence.
    for path in sorted(p for p in folder.iterdir() if _visible(p)):
        entries.append(Entry(safe_id(path.name if path.is_dir() else path.stem), path))
    return entries


def _check_unique(entries: list[Entry], where: Path) -> list[Entry]:
    seen: dict[str, Path] = {}
    for e in entries:
        if e.student in seen:
            raise UsageError(f"{where}: two submissions for student {e.student!r} "
                             f"({seen[e.student].name} and {e.path.name}); keep one")
        seen[e.student] = e.path
    return entries


def _extract(zpath: Path, dest: Path) -> None:
    """Extract a zip safely: no absolute paths, no ``..``, no links, bounded size."""
    try:
        zf = zipfile.ZipFile(zpath)
    except (zipfile.BadZipFile, OSError) as err:
        raise UsageError(f"{zpath}: not a readable zip file ({err})") from None
    total = 0
    with zf:
        for info in zf.infolist():
            name = info.filename.replace("\\", "/")
            parts = [p for p in name.split("/") if p not in ("", ".")]
            if not parts or ".." in parts or name.startswith("/"):
                continue
            if (info.external_attr >> 16) & 0o170000 == 0o120000:  # a symbolic link
                continue
            total += info.file_size
            if total > 4 << 30:
                raise UsageError(f"{zpath}: over 4 GiB uncompressed; unpack it yourself")
            target = dest.joinpath(*parts)
            if info.is_dir():
                target.mkdir(parents=True, exist_ok=True)
                continue
            target.parent.mkdir(parents=True, exist_ok=True)
            with zf.open(info) as src, open(target, "wb") as out:
                shutil.copyfileobj(src, out)


def _gradescope_ids(metadata: Path) -> dict[str, str]:
    """``submission_<id>`` folder -> student id, from Gradescope's submission_metadata.yml.

    Read with a small line parser (no YAML dependency): each top-level key is the folder name
    and the first ``:sid:``, ``:email:`` or ``:name:`` below it names the student.
    """
    ids: dict[str, str] = {}
    current = None
    found: dict[str, str] = {}
    for line in metadata.read_text(encoding="utf-8", errors="replace").splitlines():
        top = re.match(r"^(submission_\w+):\s*$", line)
        if top:
            if current and found:
                ids[current] = found.get("sid") or found.get("email") or found.get("name", "")
            current, found = top.group(1), {}
            continue
        field_ = re.match(r"^\s*-?\s*:(sid|email|name):\s*(.+?)\s*$", line)
        if current and field_ and field_.group(1) not in found:
            value = field_.group(2).strip("'\"")
            if value and value not in ("~", "null"):
                found[field_.group(1)] = value
    if current and found:
        ids[current] = found.get("sid") or found.get("email") or found.get("name", "")
    return ids


def _zip_entries(root: Path) -> tuple[list[Entry], str]:
    """Entries of an extracted LMS zip and the layout recognised."""
    meta = next(iter(sorted(root.rglob("submission_metadata.yml"))), None)
    if meta is not None:
        base = meta.parent
        ids = _gradescope_ids(meta)
        entries = []
        for sub in sorted(p for p in base.iterdir()
                          if p.is_dir() and p.name.startswith("submission_")):
            student = ids.get(sub.name) or sub.name[len("submission_"):]
            entries.append(Entry(safe_id(student), sub))
        return entries, "gradescope"
    top = [p for p in root.iterdir() if _visible(p)]
    if len(top) == 1 and top[0].is_dir():
        root = top[0]
        top = [p for p in root.iterdir() if _visible(p)]
    files = [p for p in top if p.is_file()]
    if files and all(_CANVAS.match(p.name) for p in files):
        grouped = root.parent / (root.name + "-by-student")
        shutil.rmtree(grouped, ignore_errors=True)
        for p in files:
            m = _CANVAS.match(p.name)
            assert m
            name = re.sub(r"-\d+(?=\.\w+$)", "", m.group("file"))  # Canvas's resubmission suffix
            dest = grouped / safe_id(m.group("name")) / name
            dest.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(p, dest)
        return _folder_entries(grouped), "canvas"
    return _folder_entries(root), "folder"


def discover(submissions: Path, workdir: Path) -> tuple[list[Entry], str]:
    """The students' submissions in a folder or a zip (unpacked under ``workdir``)."""
    submissions = Path(submissions)
    if not submissions.exists():
        raise UsageError(f"{submissions}: no such file or folder (expected a folder of "
                         "submissions or an LMS zip)")
    if submissions.is_dir():
        entries, layout = _folder_entries(submissions), "folder"
    elif submissions.suffix == ".zip" or zipfile.is_zipfile(submissions):
        dest = workdir / "submissions"
        shutil.rmtree(dest, ignore_errors=True)
        dest.mkdir(parents=True)
        _extract(submissions, dest)
        entries, layout = _zip_entries(dest)
    else:
        raise UsageError(f"{submissions}: expected a folder of submissions or a .zip")
    if not entries:
        raise UsageError(f"{submissions}: no submissions found (expected one subfolder, .py or "
                         ".ipynb per student)")
    return _check_unique(entries, submissions), layout


# --------------------------------------------------------------------------------------------
# keys, files
# --------------------------------------------------------------------------------------------
def job_key(sha256: str, suite: str, grader_version: str = grader.__version__) -> dict[str, str]:
    return {"sha256": sha256, "suite": suite, "grader": grader_version}


def result_key(data: dict[str, Any]) -> dict[str, str]:
    versions = data.get("versions", {})
    return {"sha256": data.get("submission", {}).get("sha256", ""),
            "suite": versions.get("suite", ""), "grader": versions.get("grader", "")}


def write_atomic(path: Path, text: str) -> None:
    """Write ``text`` so that ``path`` holds either the old or the whole new content."""
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(text)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def load_results(out: Path) -> dict[str, Any]:
    """Every result in ``out/results``, by student id (as SubmissionResult)."""
    from grader.results import SubmissionResult

    folder = Path(out) / RESULTS
    if not folder.is_dir():
        raise UsageError(f"{out}: no {RESULTS}/ folder; run `grade batch ... --out {out}` first")
    results = {}
    for path in sorted(folder.glob("*.json")):
        if path.name.startswith("."):
            continue
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            results[path.stem] = SubmissionResult.from_dict(data)
        except (ValueError, TypeError, KeyError) as err:
            raise UsageError(f"{path}: not a result file ({err})") from None
    return results


def _report_path(folder: Path, student: str, fmt: str) -> Path | None:
    ext = REPORT_EXT.get(fmt)
    return folder / f"{student}.{ext}" if ext else None


def save_result(out: Path, result: Any, log: str, fmt: str) -> None:
    """Write one student's report, log and (last, as the commit mark) result JSON."""
    from grader.report import render

    folder = out / RESULTS
    student = result.student
    report = _report_path(folder, student, fmt)
    if report is not None:
        write_atomic(report, render(result, fmt))
    if log:
        write_atomic(folder / f"{student}.log", log)
    write_atomic(folder / f"{student}.json", json.dumps(result.to_dict(), indent=2) + "\n")


# --------------------------------------------------------------------------------------------
# jobs
# --------------------------------------------------------------------------------------------
@dataclass
class Job:
    """One submission to grade: the prepared submission as plain data."""

    student: str
    prepared: dict[str, Any]
    attempts: int = 0

    @property
    def sha256(self) -> str:
        return str(self.prepared["sha256"])


def prepared_to_dict(prepared: Any) -> dict[str, Any]:
    return dataclasses.asdict(prepared)


def prepared_from_dict(data: dict[str, Any]) -> Any:
    from grader.submission import Prepared

    return Prepared(**{**data, "chunks": tuple(data["chunks"]),
                       "syntax_errors": tuple(data["syntax_errors"]),
                       "left_out": tuple(data["left_out"])})


def error_result(homework: Any, settings: Any, job: Job, message: str) -> Any:
    """The result of a submission the judges could not finish (status ``error``)."""
    from grader.runner import unreadable_result

    p = job.prepared
    base = unreadable_result(homework, student=job.student, path=p.get("path", ""),
                             message=message, settings=settings, sha256=job.sha256)
    return replace(base, status="error")


# --------------------------------------------------------------------------------------------
# the judge worker process: python -m grader.batch --worker
# --------------------------------------------------------------------------------------------
def worker_main(argv: list[str]) -> int:
    """A judge: reads jobs (JSON lines) on stdin, writes results (JSON lines) on the original
    stdout. Everything else that prints goes to stderr."""
    import argparse

    parser = argparse.ArgumentParser(prog="python -m grader.batch --worker")
    parser.add_argument("--worker", action="store_true")
    parser.add_argument("--course", required=True)
    parser.add_argument("--homework", required=True)
    parser.add_argument("--overrides", default="{}")
    parser.add_argument("--slot", type=int, default=0)
    args = parser.parse_args(argv)
    # Private copies of the job and result pipes: pytest's capture and the student's
    # output must never touch them.
    out = os.fdopen(os.dup(1), "w", encoding="utf-8", buffering=1)
    inp = os.fdopen(os.dup(0), "r", encoding="utf-8")
    os.dup2(2, 1)
    null = os.open(os.devnull, os.O_RDONLY)
    os.dup2(null, 0)
    os.close(null)
    sys.stdout = sys.stderr
    serve(Path(args.course), args.homework, json.loads(args.overrides), inp, out,
          slot=args.slot)
    return 0


def serve(course_root: Path, hw_id: str, overrides: dict[str, Any], inp: TextIO, out: TextIO,
          *, slot: int = 0) -> None:
    """Grade the jobs read from ``inp`` with one suite collection; one result line each."""
    from grader.api import homework_settings, open_template
    from grader.course import load_course
    from grader.runner import run_suite

    course = load_course(course_root)
    homework = course.homework(hw_id)
    settings = homework_settings(course, homework, overrides)
    if settings.device == "cuda":
        import torch

        if torch.cuda.is_available() and torch.cuda.device_count() > 1:
            settings = replace(settings, device=f"cuda:{slot % torch.cuda.device_count()}")
    current: dict[str, str] = {}

    def feed() -> Iterator[Any]:
        for line in inp:
            if not line.strip():
                continue
            job = json.loads(line)
            if job.get("stop"):
                return
            current["student"] = job["student"]
            yield prepared_from_dict(job["prepared"])

    def on_result(result: Any, log: str) -> None:
        if homework.hidden_pending:
            result = replace(result, hidden_pending=homework.hidden_pending)
        out.write(json.dumps({"student": current.get("student", result.student),
                              "result": result.to_dict(), "log": log[-64 * 1024:]}) + "\n")
        out.flush()

    with open_template(homework, settings) as template:
        out.write(json.dumps({"ready": True}) + "\n")
        out.flush()
        run_suite(homework, settings, template, feed(), on_result, course_root=course.root,
                  slot=slot)


class Judge:
    """One judge worker process, as seen by the driver."""

    def __init__(self, course_root: Path, hw_id: str, overrides: dict[str, Any], slot: int,
                 log_dir: Path) -> None:
        self.slot = slot
        cmd = [sys.executable, "-m", "grader.batch", "--worker", "--course", str(course_root),
               "--homework", hw_id, "--overrides", json.dumps(overrides), "--slot", str(slot)]
        log_dir.mkdir(parents=True, exist_ok=True)
        self.log_path = log_dir / f"judge-{slot}.log"
        with open(self.log_path, "ab") as log:
            self.proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                         stderr=log, text=True, bufsize=1)
        self.ready = False
        self.job: Job | None = None
        self.started = 0.0
        self.buffer = ""

    def send(self, job: Job) -> None:
        self.job = job
        self.started = time.monotonic()
        assert self.proc.stdin is not None
        self.proc.stdin.write(json.dumps({"student": job.student, "prepared": job.prepared})
                              + "\n")
        self.proc.stdin.flush()

    def stop(self) -> None:
        try:
            if self.proc.stdin:
                self.proc.stdin.write(json.dumps({"stop": True}) + "\n")
                self.proc.stdin.close()
        except OSError:
            pass

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()


def run_local(jobs: list[Job], *, course_root: Path, hw_id: str, overrides: dict[str, Any],
              workers: int, on_result: Callable[[Job, dict[str, Any] | None, str, str], None],
              submission_timeout_s: float, log_dir: Path) -> None:
    """Grade ``jobs`` with a pool of ``workers`` judge processes.

    ``on_result(job, result_dict, log, error)``: result_dict is None (and error says why)
    when the job failed ``MAX_ATTEMPTS`` times.
    """
    pending = list(reversed(jobs))  # pop() from the end: keeps the given order
    workers = max(1, min(workers, len(jobs)))
    sel = selectors.DefaultSelector()
    judges: list[Judge] = []

    def start(slot: int) -> Judge:
        judge = Judge(course_root, hw_id, overrides, slot, log_dir)
        assert judge.proc.stdout is not None
        os.set_blocking(judge.proc.stdout.fileno(), False)
        sel.register(judge.proc.stdout, selectors.EVENT_READ, judge)
        judges.append(judge)
        feed(judge)
        return judge

    def feed(judge: Judge) -> None:
        if pending:
            try:
                judge.send(pending.pop())
            except OSError:
                pass  # the process is gone; noticed as EOF
        else:
            judge.job = None
            judge.stop()

    def retire(judge: Judge, why: str) -> None:
        assert judge.proc.stdout is not None
        sel.unregister(judge.proc.stdout)
        judges.remove(judge)
        judge.kill()
        job = judge.job
        if job is not None:
            job.attempts += 1
            if job.attempts >= MAX_ATTEMPTS:
                on_result(job, None, "", f"the judge process {why} while grading this "
                          f"submission, {job.attempts} times; not graded")
            else:
                pending.append(job)
        if pending:
            start(judge.slot)

    for slot in range(workers):
        start(slot)
    try:
        while judges:
            events = sel.select(timeout=1.0)
            for key, _ in events:
                judge = key.data
                chunk = judge.proc.stdout.read()
                if not chunk:
                    if judge in judges:
                        code = judge.proc.wait()
                        if code == 2:  # a GraderError in the judge: the suite or settings
                            lines = judge.log_path.read_text(errors="replace").splitlines()
                            raise ConfigError(lines[-1] if lines else
                                              f"the judge process exited with code {code}")
                        if judge.job is None and not pending:
                            sel.unregister(judge.proc.stdout)
                            judges.remove(judge)
                            judge.kill()
                        else:
                            retire(judge, f"died (exit {code})")
                    continue
                judge.buffer += chunk
                while "\n" in judge.buffer:
                    line, judge.buffer = judge.buffer.split("\n", 1)
                    try:
                        msg = json.loads(line)
                    except ValueError:
                        continue
                    if msg.get("ready"):
                        judge.ready = True
                    if "result" in msg and judge.job is not None:
                        job = judge.job
                        judge.job = None
                        on_result(job, msg["result"], msg.get("log", ""), "")
                        feed(judge)
            now = time.monotonic()
            for judge in list(judges):
                if judge.job is not None and now - judge.started > submission_timeout_s:
                    retire(judge, f"ran past {submission_timeout_s:g} s")
    finally:
        for judge in judges:
            judge.kill()
        sel.close()


# --------------------------------------------------------------------------------------------
# progress
# --------------------------------------------------------------------------------------------
class Progress:
    """A progress bar on stderr: counts, rate, ETA (one line per 10 % when not a terminal)."""

    def __init__(self, total: int, stream: TextIO | None = None, enabled: bool = True) -> None:
        self.total = total
        self.stream = stream or sys.stderr
        self.enabled = enabled and total > 0
        self.tty = self.stream.isatty()
        self.done = 0
        self.counts: dict[str, int] = {}
        self.started = time.monotonic()
        self.last_step = -1

    def update(self, status: str) -> None:
        self.done += 1
        self.counts[status] = self.counts.get(status, 0) + 1
        if not self.enabled:
            return
        step = self.done * 10 // self.total
        if self.tty or step != self.last_step or self.done == self.total:
            self.last_step = step
            self.draw()

    def line(self) -> str:
        elapsed = time.monotonic() - self.started
        rate = self.done / elapsed if elapsed > 0 else 0.0
        left = (self.total - self.done) / rate if rate > 0 else 0.0
        width = 24
        filled = width * self.done // max(1, self.total)
        counts = ", ".join(f"{n} {s}" for s, n in sorted(self.counts.items()))
        return (f"[{'#' * filled}{'.' * (width - filled)}] {self.done}/{self.total} "
                f"({counts}) {rate:.2f}/s ETA {_clock(left)}")

    def draw(self) -> None:
        end = "\r" if self.tty and self.done < self.total else "\n"
        self.stream.write("\r" + self.line() + end if self.tty else self.line() + end)
        self.stream.flush()


def _clock(seconds: float) -> str:
    seconds = int(round(seconds))
    return f"{seconds // 60}:{seconds % 60:02d}"


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


def grade_batch(hw_id: str, submissions: str | Path, out: str | Path, *,
                course: str | Path | None = None, jobs: int | None = None,
                executor: str = "local", scheduler: str | None = None, rerun: str | None = None,
                fmt: str = "html", students: Iterable[str] = (), progress: bool = True,
                submission_timeout_s: float = 900.0, **overrides: Any) -> BatchSummary:
    """Grade every submission in ``submissions`` into ``out``; see the module docstring."""
    from grader.api import check_device, homework_settings
    from grader.course import load_course
    from grader.results import SubmissionResult
    from grader.runner import unreadable_result
    from grader.submission import prepare_submission

    if rerun not in (None, "failed", "all"):
        raise UsageError(f"--rerun must be failed or all (got {rerun!r})")
    if fmt not in REPORT_EXT:
        raise UsageError(f"--format must be one of {', '.join(REPORT_EXT)} (got {fmt!r})")
    if executor not in ("local", "dask"):
        raise UsageError(f"--executor must be local or dask (got {executor!r})")
    started = time.monotonic()
    loaded = load_course(Path(course) if course else None)
    homework = loaded.homework(hw_id)
    overrides = {k: v for k, v in overrides.items() if v is not None}
    settings = homework_settings(loaded, homework, overrides)
    if executor == "local":
        check_device(settings)
    out = Path(out)
    (out / RESULTS).mkdir(parents=True, exist_ok=True)
    for stale in (out / RESULTS).glob(".*.tmp-*"):
        stale.unlink(missing_ok=True)
    entries, layout = discover(Path(submissions), out)
    wanted = {safe_id(s) for s in students}
    if wanted:
        unknown = wanted - {e.student for e in entries}
        if unknown:
            raise UsageError(f"no submission for student(s) {', '.join(sorted(unknown))} in "
                             f"{submissions}")
        entries = [e for e in entries if e.student in wanted]
    suite = homework.suite_version()
    summary = BatchSummary(out=out, total=len(entries), layout=layout)
    todo: list[Job] = []
    bar = Progress(0)

    def record(result: Any, log: str) -> None:
        save_result(out, result, log, fmt)
        summary.graded += 1
        bar.update(result.status)

    for entry in entries:
        existing_path = out / RESULTS / f"{entry.student}.json"
        existing = None
        if existing_path.is_file():
            try:
                existing = json.loads(existing_path.read_text(encoding="utf-8"))
            except ValueError:
                existing = None
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
                from grader.report import render

                write_atomic(report, render(SubmissionResult.from_dict(existing), fmt))
            continue
        todo.append(Job(entry.student, prepared_to_dict(prepared)))

    bar = Progress(len(todo), enabled=progress)
    readable = []
    for job in todo:
        if "unreadable" in job.prepared:
            record(unreadable_result(homework, student=job.student, path=job.prepared["path"],
                                     message=job.prepared["unreadable"], settings=settings,
                                     sha256=job.sha256), "")
        else:
            readable.append(job)

    def on_result(job: Job, data: dict[str, Any] | None, log: str, error: str) -> None:
        if data is None:
            record(error_result(homework, settings, job, error), "")
            return
        result = SubmissionResult.from_dict(data)
        # the result is keyed by the student id and path the driver knows
        result = replace(result, submission={**result.submission, "id": job.student,
                                             "path": job.prepared.get("path", "")})
        record(result, log)

    if readable:
        if executor == "local":
            run_local(readable, course_root=loaded.root, hw_id=hw_id, overrides=overrides,
                      workers=jobs or os.cpu_count() or 1, on_result=on_result,
                      submission_timeout_s=submission_timeout_s, log_dir=out / "logs")
        else:
            from grader.dask_executor import run_dask

            run_dask(readable, course_root=loaded.root, hw_id=hw_id, overrides=overrides,
                     scheduler=scheduler, workers=jobs, on_result=on_result)
    summary.elapsed_s = time.monotonic() - started
    results = render_outputs(out)
    mine = [results[e.student] for e in entries if e.student in results]
    for r in mine:
        summary.statuses[r.status] = summary.statuses.get(r.status, 0) + 1
    if mine:
        summary.mean_score = sum(r.score for r in mine) / len(mine)
        summary.max_score = homework.max_score
        summary.full_marks = sum(r.full_marks for r in mine)
    return summary


def _file_sha(path: Path) -> str:
    try:
        if path.is_file():
            return hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError:
        pass
    return ""


def render_outputs(out: str | Path) -> dict[str, Any]:
    """(Re)write ``gradebook.csv`` and ``class.html`` from ``out/results``; the results."""
    from grader.classreport import render_class
    from grader.gradebook import write_gradebook

    out = Path(out)
    results = load_results(out)
    if not results:
        raise UsageError(f"{out / RESULTS}: no results to report")
    write_gradebook(out / "gradebook.csv", list(results.values()))
    write_atomic(out / "class.html", render_class(list(results.values())))
    return results


if __name__ == "__main__":
    if "--worker" in sys.argv[1:]:
        try:
            sys.exit(worker_main(sys.argv[1:]))
        except GraderError as err:
            print(f"grade batch worker: {err}", file=sys.stderr)
            sys.exit(2)
        except KeyboardInterrupt:
            sys.exit(130)
    print("usage: python -m grader.batch --worker --course DIR --homework HW", file=sys.stderr)
    sys.exit(2)
