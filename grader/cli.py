"""The ``grade`` command: parses options, calls the library, prints, exits.

Exit codes: 0 success (full marks), 1 a test did not pass (or verify found a problem),
2 a usage or configuration error, with a one-line message.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

import click

from grader.errors import GraderError, UsageError
from grader.status import SubmissionStatus

__all__ = ["main"]

COURSE_HELP = "Course folder (holds course.toml). Default: found by walking up from here."
DEVICE_HELP = "Where the student's code runs: cpu, cuda, cuda:N or mps (Apple silicon)."
FORMAT_HELP = "text (terminal), json (the result schema), html (one page) or md."


def _safe_streams() -> None:
    """Never die on a character the terminal's encoding lacks (a Windows console or a
    redirected stream in cp1252 receiving a student's message with an arrow in it)."""
    for stream in (sys.stdout, sys.stderr):
        encoding = str(getattr(stream, "encoding", "") or "").lower().replace("-", "")
        reconfigure = getattr(stream, "reconfigure", None)
        if encoding != "utf8" and reconfigure is not None:
            try:
                reconfigure(errors="replace")
            except (ValueError, OSError):  # a detached or closed stream
                pass


def _fail(err: GraderError) -> None:
    click.echo(f"grade: error: {err}", err=True)
    sys.exit(2)


def _check_writable(option: str, path: Path) -> None:
    """Fail before the work when ``path`` cannot be written (a missing folder, a folder)."""
    if path.is_dir():
        _fail(UsageError(f"{option} {path}: is a folder; give a file name"))
    if not path.parent.is_dir():
        _fail(UsageError(f"{option} {path}: the folder {path.parent} does not exist"))


def _write(option: str, path: Path, text: str, newline: str | None = None) -> None:
    try:
        path.write_text(text, encoding="utf-8", newline=newline)
    except OSError as err:
        _fail(UsageError(f"{option} {path}: cannot be written ({err.strerror or err})"))


course_option = click.option("--course", type=click.Path(file_okay=False, path_type=Path),
                              default=None, help=COURSE_HELP)
device_option = click.option("--device", default=None, help=DEVICE_HELP)
isolation_option = click.option(
    "--isolation", type=click.Choice(["auto", "namespace", "process", "portable"]), default=None,
    help="Sandbox level: auto takes the strongest this machine allows (namespace > process > "
    "portable; portable on Windows and macOS). Recorded in every result; docs/isolation.md "
    "says what each protects against.")


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="torch-grader", prog_name="grade")
def main() -> None:
    """Grade PyTorch homework: a sandboxed executor runs the student's code, a trusted judge
    compares plain tensors with PyTorch's.

    \b
    Students:     grade check hw2                 (your assignments/hw2/)
    Instructors:  grade verify                    (solutions pass, stubs fail, mutants caught)
                  grade batch hw2 SUBMISSIONS --out graded/
    """
    _safe_streams()
    from grader.compat import check_torch

    try:
        check_torch()
    except GraderError as err:
        _fail(err)


@main.command()
@click.argument("homework")
@click.argument("submission", required=False, type=click.Path(path_type=Path))
@course_option
@device_option
@isolation_option
@click.option("--format", "fmt", type=click.Choice(["text", "json", "html", "md"]),
              default="text", help=FORMAT_HELP)
@click.option("--output", "-o", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Write the report to this file instead of the terminal.")
@click.option("--show-output", is_flag=True, help="Also print what the code printed "
              "(stdout and stderr of the executor).")
@click.option("--watch", "-w", is_flag=True, help="Keep the grader warm and grade again "
              "each time the submission changes (Ctrl-C stops).")
def check(homework: str, submission: Path | None, course: Path | None, device: str | None,
          isolation: str | None, fmt: str, output: Path | None, show_output: bool,
          watch: bool) -> None:
    """Grade one SUBMISSION of HOMEWORK (default: assignments/HOMEWORK/).

    SUBMISSION is a .py file, a folder holding the homework's file, or a .ipynb notebook.
    Exit code 0 on full marks, 1 when a test did not pass, 2 on a usage error. With --watch
    the report is drawn again after every save (json: one result per line).
    """
    from grader.api import check_submission
    from grader.reports.render import render

    if output:
        _check_writable("--output", output)
    if watch:
        _watch(homework, submission, course=course, device=device, isolation=isolation,
               fmt=fmt, output=output)
        return

    try:
        outcome = check_submission(homework, submission, course=course, device=device,
                                   isolation=isolation)
    except GraderError as err:
        _fail(err)
        return
    text = render(outcome.result, fmt)
    if output:
        _write("--output", output, text)
        click.echo(f"wrote {output} (score {outcome.result.score:g}/"
                   f"{outcome.result.max_score:g})")
    else:
        click.echo(_colour(text) if fmt == "text" and sys.stdout.isatty() else text, nl=False)
    if show_output and outcome.log:
        click.echo("--- what the code printed ---\n" + outcome.log, err=True)
    _exit_now(0 if outcome.result.full_marks else 1)


def _watch(homework: str, submission: Path | None, *, fmt: str, output: Path | None,
           **options: Any) -> None:
    """grade check --watch: redraw the report in place on a terminal, else append it."""
    from grader.judge.results import SubmissionResult
    from grader.reports.render import render
    from grader.watch import watch_submission

    tty = sys.stdout.isatty() and output is None
    count = [0]

    def show(result: SubmissionResult, log: str) -> None:
        count[0] += 1
        text = render(result, fmt)
        footer = (f"watching {result.submission.get('path')} · check {count[0]} took "
                  f"{result.duration_s:.2f} s · Ctrl-C to stop")
        if output is not None:
            output.write_text(text, encoding="utf-8")
            click.echo(f"wrote {output} (score {result.score:g}/{result.max_score:g}) · {footer}")
        elif fmt == "json":
            click.echo(json.dumps(result.to_dict(), separators=(",", ":")))
        else:
            clear = "\x1b[2J\x1b[H" if tty else ""
            body = _colour(text) if tty and fmt == "text" else text
            click.echo(f"{clear}{body}{click.style(footer, dim=True) if tty else footer}")

    def problem(message: str) -> None:
        click.echo(f"grade: cannot read the submission yet: {message}", err=True)

    try:
        watch_submission(homework, submission, on_result=show, on_error=problem, **options)
    except GraderError as err:
        _fail(err)
    except KeyboardInterrupt:
        pass
    click.echo("stopped watching", err=True)
    _exit_now(0)


def _exit_now(code: int) -> None:
    """Exit without the interpreter's teardown of torch (a few hundred ms): everything the
    command owns (the template, the executors, temporary folders) is already closed."""
    sys.stdout.flush()
    sys.stderr.flush()
    try:
        sys.stdout.fileno()
    except (AttributeError, OSError, ValueError):  # click's CliRunner or a captured stdout
        sys.exit(code)
    os._exit(code)


def _colour(text: str) -> str:
    colours = {"ok ": "green", "FAIL": "red", "ERROR": "red", "TIMEOUT": "red", "CRASH": "red",
               "FORBIDDEN": "red", "todo": "yellow"}
    lines = []
    for line in text.splitlines(keepends=True):
        colour = next((c for k, c in colours.items() if line.startswith(k)), None)
        lines.append(click.style(line, fg=colour) if colour else line)
    return "".join(lines)


@main.command()
@click.argument("homeworks", nargs=-1)
@course_option
@device_option
@isolation_option
def verify(homeworks: tuple[str, ...], course: Path | None, device: str | None,
           isolation: str | None) -> None:
    """Prove the suites: solutions score full marks, stubs score 0 ("not implemented"), every
    mutant in reference_tests/HW/mutants/ loses points on its part only. Default: every
    homework of the course."""
    from grader.course.manifest import load_course
    from grader.verify import verify_course

    overrides: dict[str, Any] = {"device": device, "isolation": isolation}
    try:
        loaded = load_course(course)
        verdicts = verify_course(loaded, list(homeworks) or None, overrides)
    except GraderError as err:
        _fail(err)
        return
    for v in verdicts:
        status = click.style("ok", fg="green") if v.ok else click.style("FAIL", fg="red")
        click.echo(f"{status}  {v.homework}: {len(v.checked)} submissions checked "
                   f"(solution, stub, {len(v.checked) - 2} mutants)")
        for problem in v.problems:
            click.echo(f"      {problem}")
    sys.exit(0 if all(v.ok for v in verdicts) else 1)


# --- batch commands (grade batch, grade report) are registered below this line ---


@main.command()
@click.argument("homework")
@click.argument("submissions", type=click.Path(path_type=Path))
@click.option("--out", "-o", "out", required=True, type=click.Path(file_okay=False, path_type=Path),
              help="Folder for results/<student>.json, the reports, gradebook.csv, class.html.")
@course_option
@device_option
@isolation_option
@click.option("--jobs", "-j", type=click.IntRange(min=1), default=None,
              help="Judge processes (default: the number of cores; Dask: workers to wait for).")
@click.option("--executor", type=click.Choice(["local", "dask"]), default="local",
              help="local: a pool of judge processes here; dask: a Dask cluster (--scheduler).")
@click.option("--scheduler", default=None, help="Dask scheduler address (tcp://HOST:8786) or "
              "a scheduler file (JSON); without it a LocalCluster is started.")
@click.option("--rerun", type=click.Choice(["failed", "all"]), default=None,
              help="Regrade up-to-date results too: failed (not full marks) or all.")
@click.option("--student", "students", multiple=True,
              help="Grade only this student (repeatable).")
@click.option("--format", "fmt", type=click.Choice(["html", "md", "text", "json"]),
              default="html", help="Per-student report written beside each result.")
@click.option("--quiet", "-q", is_flag=True, help="No progress bar.")
def batch(homework: str, submissions: Path, out: Path, course: Path | None, device: str | None,
          isolation: str | None, jobs: int | None, executor: str, scheduler: str | None,
          rerun: str | None, students: tuple[str, ...], fmt: str, quiet: bool) -> None:
    """Grade every submission of HOMEWORK in SUBMISSIONS into --out DIR.

    SUBMISSIONS is a folder (one subfolder, .py or .ipynb per student; the id is the name
    without extension) or an LMS zip (Canvas or Gradescope export). Results are written as
    each submission finishes; a second run regrades only what is missing or changed.
    Exit 0 when every submission was graded, 1 when some could not be read or graded.
    """
    from grader.batch.driver import grade_batch

    try:
        summary = grade_batch(homework, submissions, out, course=course, jobs=jobs,
                              executor=executor, scheduler=scheduler, rerun=rerun, fmt=fmt,
                              students=students, progress=not quiet, device=device,
                              isolation=isolation)
    except GraderError as err:
        _fail(err)
        return
    click.echo(summary.line())
    bad = sum(n for s, n in summary.statuses.items() if s != SubmissionStatus.GRADED)
    sys.exit(1 if bad else 0)


@main.command()
@click.argument("out", type=click.Path(file_okay=False, path_type=Path))
def report(out: Path) -> None:
    """Render OUT/gradebook.csv and OUT/class.html again from OUT/results/."""
    from grader.batch.driver import render_outputs

    try:
        results = render_outputs(out)
    except GraderError as err:
        _fail(err)
        return
    click.echo(f"{len(results)} results: wrote {out / 'gradebook.csv'} and {out / 'class.html'}")


@main.command()
@click.argument("homework")
@click.argument("submissions", type=click.Path(path_type=Path))
@click.option("--out", "-o", "out", type=click.Path(file_okay=False, path_type=Path),
              default=None, help="Write similarity.html (the top pairs side by side, shared "
              "code marked) and similarity.json here; a batch's --out folder links them from "
              "class.html.")
@click.option("--top", type=click.IntRange(min=1), default=10, show_default=True,
              help="Pairs to keep, per file and per part.")
@course_option
def similarity(homework: str, submissions: Path, out: Path | None, top: int,
               course: Path | None) -> None:
    """Rank pairs of HOMEWORK's SUBMISSIONS (a folder or an LMS zip, as for batch) by code
    similarity, per file and per part, with the stub as boilerplate. Needs copydetect
    (pip install 'torch-grader[instructor]'). A hint for a person to look, not a verdict."""
    from grader.reports.similarity import render_similarity, write_similarity
    from grader.similarity.rank import find_similar

    try:
        found = find_similar(homework, submissions, course=course, top=top, workdir=out)
        written = write_similarity(found, out) if out else []
    except GraderError as err:
        _fail(err)
        return
    click.echo(render_similarity(found, "text"), nl=False)
    for path in written:
        click.echo(f"wrote {path}")

# --- integration commands (grade release, grade gradescope, grade export) below this line ---


@main.command()
@click.argument("homeworks", nargs=-1, required=True)
@click.option("--out", "out", required=True, type=click.Path(file_okay=False, path_type=Path),
              help="The bundle's folder (new or empty).")
@click.option("--force", is_flag=True, help="Replace the folder's contents if it is not empty.")
@course_option
def release(homeworks: tuple[str, ...], out: Path, force: bool, course: Path | None) -> None:
    """Write the student bundle of HOMEWORKS to --out: stubs, public tests and their helpers,
    the grader, a README, pinned requirements, and a course.toml saying how many hidden tests
    run at grading time. No solutions, hidden tests or mutants; the bundle is scanned for
    them and the release stops if one would leak."""
    from grader.integrations.release import release as do_release

    try:
        report = do_release(list(homeworks), out, course=course, force=force)
    except GraderError as err:
        _fail(err)
        return
    hidden = ", ".join(f"{h}: {n} hidden" for h, n in report.hidden_counts.items())
    click.echo(f"wrote {out}: {len(report.files)} files ({hidden}); students run "
               f"`pip install -r requirements.txt && pip install .` there, then "
               f"`grade check {report.homeworks[0]}`")


@main.command()
@click.argument("homework")
@click.option("--out", "out", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="The autograder zip to write, e.g. hw2-autograder.zip.")
@click.option("--hidden-visibility", default="after_published", show_default=True,
              type=click.Choice(["hidden", "after_due_date", "after_published", "visible"]),
              help="Gradescope visibility of the hidden tests' results.")
@course_option
def gradescope(homework: str, out: Path, hidden_visibility: str, course: Path | None) -> None:
    """Build a Gradescope autograder zip for HOMEWORK: setup.sh installs the grader and
    torch, run_autograder grades /autograder/submission with the full suite (public and
    hidden) and writes /autograder/results/results.json."""
    from grader.integrations.gradescope import build_autograder

    try:
        info = build_autograder(homework, out, course=course,
                                hidden_visibility=hidden_visibility)
    except GraderError as err:
        _fail(err)
        return
    click.echo(f"wrote {out} ({info['files']} files, {info['bytes'] // 1024} KiB): upload it "
               "as the assignment's autograder (Ubuntu 22.04 base image)")


@main.command(name="export")
@click.argument("batch_dir", type=click.Path(file_okay=False, exists=True, path_type=Path))
@click.option("--format", "fmt", type=click.Choice(["csv", "gradebook", "gradescope", "json"]),
              default="csv", show_default=True,
              help="csv: one row per student, one column per part, with tests and paths; "
              "gradebook: gradebook.csv (points per part, total, status); "
              "gradescope: a scores CSV for Gradescope's upload (SID, Total Score, parts); "
              "json: every result in one file.")
@click.option("--out", "-o", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="The file to write. Default: the terminal.")
def export_cmd(batch_dir: Path, fmt: str, out: Path | None) -> None:
    """Export a batch's grades from BATCH_DIR/results/*.json (written by grade batch)."""
    from grader.reports.export import export

    if out:
        _check_writable("--out", out)
    try:
        text, count = export(batch_dir, fmt)
    except GraderError as err:
        _fail(err)
        return
    if out:
        _write("--out", out, text, newline="")
        click.echo(f"wrote {out} ({count} submissions)")
    else:
        click.echo(text, nl=False)


if __name__ == "__main__":
    main()
