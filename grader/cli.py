"""The ``grade`` command: parses options, calls the library, prints, exits.

Exit codes: 0 success (full marks), 1 a test did not pass (or verify found a problem),
2 a usage or configuration error, with a one-line message.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click

from grader.errors import GraderError

__all__ = ["main"]

COURSE_HELP = "Course folder (holds course.toml). Default: found by walking up from here."
DEVICE_HELP = "Where the student's code runs: cpu, cuda or cuda:N."
FORMAT_HELP = "text (terminal), json (the result schema), html (one page) or md."


def _fail(err: GraderError) -> None:
    click.echo(f"grade: error: {err}", err=True)
    sys.exit(2)


course_option = click.option("--course", type=click.Path(file_okay=False, path_type=Path),
                              default=None, help=COURSE_HELP)
device_option = click.option("--device", default=None, help=DEVICE_HELP)
isolation_option = click.option("--isolation", type=click.Choice(["auto", "namespace", "process"]),
                                default=None, help="Sandbox level: auto takes the strongest "
                                "this machine allows (recorded in every result).")


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
def check(homework: str, submission: Path | None, course: Path | None, device: str | None,
          isolation: str | None, fmt: str, output: Path | None, show_output: bool) -> None:
    """Grade one SUBMISSION of HOMEWORK (default: assignments/HOMEWORK/).

    SUBMISSION is a .py file, a folder holding the homework's file, or a .ipynb notebook.
    Exit code 0 on full marks, 1 when a test did not pass, 2 on a usage error.
    """
    from grader.api import check_submission
    from grader.report import render

    try:
        outcome = check_submission(homework, submission, course=course, device=device,
                                   isolation=isolation)
    except GraderError as err:
        _fail(err)
        return
    text = render(outcome.result, fmt)
    if output:
        output.write_text(text, encoding="utf-8")
        click.echo(f"wrote {output} (score {outcome.result.score:g}/"
                   f"{outcome.result.max_score:g})")
    else:
        click.echo(_colour(text) if fmt == "text" and sys.stdout.isatty() else text, nl=False)
    if show_output and outcome.log:
        click.echo("--- what the code printed ---\n" + outcome.log, err=True)
    sys.exit(0 if outcome.result.full_marks else 1)


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
    from grader.course import load_course
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

# --- integration commands (grade release, grade gradescope, grade export) below this line ---


if __name__ == "__main__":
    main()
