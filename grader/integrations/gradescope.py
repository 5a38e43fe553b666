"""``grade gradescope``: a Gradescope autograder zip, and the code its ``run_autograder`` runs.

The zip (Gradescope unpacks it into ``/autograder/source``)::

    setup.sh            installs Python, the pinned torch (CPU wheels) and the grader
    run_autograder      grades /autograder/submission, writes /autograder/results/results.json
    requirements.txt    the pinned versions
    pyproject.toml, grader/     the grader, installed by setup.sh
    course/             course.toml (this homework only), the stub, the solution (hidden
                        tests compare with it), reference_tests/HW/ with public and hidden
                        tests; never the mutants
    gradescope.json     the homework and the visibility of hidden tests

``run_autograder`` calls ``python3 -m grader.integrations.gradescope run``; the Python side traps every
error into a results.json with score 0 and an explanation, and the shell script writes one
itself if Python could not even start. ``AUTOGRADER_ROOT`` (default ``/autograder``) moves the
whole layout, so tests run the script against a fake root; ``AUTOGRADER_PYTHON`` picks the
interpreter (default ``python3``).

Every test becomes a Gradescope test with ``name``, ``number``, ``score``, ``max_score``,
``status``, ``visibility`` (hidden tests: ``after_published`` unless configured) and a Markdown
``output``; skipped and crashed tests keep their ``max_score`` (gradescope-utils drops skipped
tests, which changes the total).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import stat
import sys
import tempfile
import time
import traceback
import zipfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from grader.judge.results import SubmissionResult, json_safe
from grader.status import Status, SubmissionStatus

__all__ = ["VISIBILITIES", "build_autograder", "failure_results", "main", "run_autograder",
           "to_gradescope"]

VISIBILITIES = ("hidden", "after_due_date", "after_published", "visible")
CONFIG = "gradescope.json"

RUN_AUTOGRADER = """\
#!/usr/bin/env bash
# Gradescope runs this as root, with the zip unpacked in $ROOT/source and the student's
# files in $ROOT/submission; it must write $ROOT/results/results.json.
ROOT="${AUTOGRADER_ROOT:-/autograder}"
PY="${AUTOGRADER_PYTHON:-python3}"
RESULTS="$ROOT/results/results.json"
mkdir -p "$ROOT/results"
rm -f "$RESULTS"
cd "$ROOT" || exit 0
"$PY" -m grader.integrations.gradescope run --root "$ROOT" --config "$ROOT/source/gradescope.json"
code=$?
if [ ! -s "$RESULTS" ]; then
  # Python could not start or died before writing: still give Gradescope a result.
  MSG="The autograder could not grade this submission (exit code $code). Your submission \\
was received; please tell the course staff."
  printf '{"score": 0, "output": "%s", "output_format": "md", "tests": [], %s}\\n' \\
    "$MSG" "\\"extra_data\\": {\\"error\\": \\"run_autograder exit $code\\"}" > "$RESULTS"
fi
exit 0
"""

SETUP_SH = """\
#!/usr/bin/env bash
# Runs once while Gradescope builds the image (Ubuntu 22.04): Python, torch, the grader.
set -euxo pipefail
export DEBIAN_FRONTEND=noninteractive
apt-get update
apt-get install -y --no-install-recommends python3 python3-pip python3-venv
python3 -m pip install --upgrade pip
python3 -m pip install {torch} --index-url https://download.pytorch.org/whl/cpu
python3 -m pip install -r /autograder/source/requirements.txt
python3 -m pip install /autograder/source
python3 -c "import grader, torch; print('grader', grader.__version__, 'torch', torch.__version__)"
"""


# -- building the zip ----------------------------------------------------------------------------

def _stage_course(course: Any, hw: Any, dst: Path) -> None:
    import tomllib

    from grader.integrations.release import _copy_tree, toml_dumps  # shared helpers

    written: list[Path] = []
    _copy_tree(hw.stub_path.parent, dst / "assignments" / hw.id, written)
    if not hw.solution_path.is_file():
        from grader.errors import ConfigError

        raise ConfigError(f"{hw.solution_path}: the solution of {hw.id} is missing; the hidden "
                          "tests compare with it")
    _copy_tree(hw.solution_path.parent, dst / "solutions" / hw.id, written)
    tests = dst / "reference_tests" / hw.id
    for path in sorted(hw.tests_dir.iterdir()):
        if path.name in ("mutants", "__pycache__", ".pytest_cache"):
            continue
        if path.is_dir():
            _copy_tree(path, tests / path.name, written)
        elif path.is_file() and path.suffix not in (".pyc",):
            tests.mkdir(parents=True, exist_ok=True)
            shutil.copy2(path, tests / path.name)
    data = tomllib.loads((course.root / "course.toml").read_text(encoding="utf-8"))
    entry = dict(data.get("hw", {})[hw.id])
    entry.pop("hidden_tests", None)
    data["hw"] = {hw.id: entry}
    (dst / "course.toml").write_text("# Written by `grade gradescope`.\n\n" + toml_dumps(data),
                                     encoding="utf-8")


def build_autograder(hw_id: str, out: Path, *, course: Any = None,
                     hidden_visibility: str = "after_published") -> dict[str, int]:
    """Write the autograder zip of ``hw_id`` to ``out``; returns the number of files and bytes."""
    from grader.course.manifest import Course, load_course
    from grader.errors import UsageError
    from grader.integrations.release import _requirements, _torch_pin, _write_grader

    if hidden_visibility not in VISIBILITIES:
        raise UsageError(f"--hidden-visibility {hidden_visibility!r}: expected one of "
                         f"{', '.join(VISIBILITIES)}")
    loaded = course if isinstance(course, Course) else load_course(course)
    hw = loaded.homework(hw_id)
    out = Path(out)
    with tempfile.TemporaryDirectory() as tmp:
        stage = Path(tmp) / "source"
        stage.mkdir()
        _stage_course(loaded, hw, stage / "course")
        _write_grader(loaded, stage)
        (stage / "requirements.txt").write_text(_requirements(), encoding="utf-8")
        (stage / "setup.sh").write_text(SETUP_SH.format(torch=_torch_pin()), encoding="utf-8")
        (stage / "run_autograder").write_text(RUN_AUTOGRADER, encoding="utf-8")
        (stage / CONFIG).write_text(json.dumps({"homework": hw.id,
                                                "hidden_visibility": hidden_visibility},
                                               indent=2) + "\n", encoding="utf-8")
        load_course(stage / "course").homework(hw.id)  # the staged course must load
        out.parent.mkdir(parents=True, exist_ok=True)
        files = 0
        with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
            for path in sorted(stage.rglob("*")):
                if not path.is_file() or "__pycache__" in path.parts:
                    continue
                rel = path.relative_to(stage).as_posix()
                info = zipfile.ZipInfo(rel, date_time=(2020, 1, 1, 0, 0, 0))
                executable = rel in ("setup.sh", "run_autograder")
                info.external_attr = ((0o755 if executable else 0o644) | stat.S_IFREG) << 16
                info.compress_type = zipfile.ZIP_DEFLATED
                zf.writestr(info, path.read_bytes())
                files += 1
    return {"files": files, "bytes": out.stat().st_size}


# -- results.json --------------------------------------------------------------------------------

def _fence(text: str) -> str:
    fence = "````" if "```" in text else "```"
    return f"{fence}\n{text}\n{fence}"


_STATUS_WORDS = {"passed": "passed", "failed": "failed", "error": "raised an error",
                 "timeout": "ran out of time", "crashed": "crashed the process",
                 "forbidden": "used a forbidden API", "not_implemented": "not implemented",
                 "skipped": "skipped"}


def _test_output(t: Any) -> str:
    if t.status == Status.PASSED:
        return "passed"
    head = f"**{_STATUS_WORDS.get(t.status, t.status)}**"
    if t.stage:
        head += f" (stage: `{t.stage}`)"
    return head + ("\n\n" + _fence(t.message) if t.message else "")


def to_gradescope(result: SubmissionResult, *, hidden_visibility: str = "after_published",
                  ) -> dict[str, Any]:
    """A graded submission as Gradescope's results.json."""
    order = list(result.parts_order) or list(dict.fromkeys(t.part for t in result.tests))
    order += [p for p in dict.fromkeys(t.part for t in result.tests) if p not in order]
    tests = []
    for i, part in enumerate(order, start=1):
        for j, t in enumerate((t for t in result.tests if t.part == part), start=1):
            short = t.id.split("::", 1)[-1]
            tests.append({
                "name": f"{part}: {short}",
                "number": f"{i}.{j}",
                "score": round(t.points, 4),
                "max_score": round(t.max_points, 4),
                "status": "passed" if t.status == Status.PASSED else "failed",
                "visibility": hidden_visibility if t.visibility == "hidden" else "visible",
                "output": _test_output(t),
                "output_format": "md",
                "tags": [part],
                "extra_data": {"id": t.id, "part": part, "grader_status": t.status,
                               "stage": t.stage, "duration_s": t.duration_s},
            })
    public = sum(t.visibility != "hidden" for t in result.tests)
    hidden = len(result.tests) - public
    lines = [f"**{result.assignment}**: {public} public test{'s' * (public != 1)}"
             + (f" and {hidden} hidden test{'s' * (hidden != 1)}" if hidden else "")
             + f" ran on {result.device} (isolation {result.isolation})."]
    if result.status != SubmissionStatus.GRADED:
        lines.append(f"\nYour submission could not be graded: {result.message}")
    if result.left_out:
        lines.append("\nLeft out of the graded module (top-level code is not graded):")
        lines += [f"- {line}" for line in result.left_out]
    return {
        "score": round(result.score, 4),
        "execution_time": int(round(result.duration_s)),
        "output": "\n".join(lines),
        "output_format": "md",
        "test_output_format": "md",
        "stdout_visibility": "hidden",
        "tests": tests,
        "extra_data": {"grader": {"schema": result.schema, "status": result.status,
                                  "max_score": result.max_score, "versions": result.versions,
                                  "device": result.device, "isolation": result.isolation,
                                  "submission": result.submission}},
    }


def failure_results(message: str, *, parts: Sequence[tuple[str, float]] = (),
                    detail: str = "") -> dict[str, Any]:
    """A results.json for a submission that could not be graded: score 0, the reason, and
    (when the parts are known) one failed test per part so the maximum stays visible."""
    tests = [{"name": f"{name}: not graded", "number": f"{i}.1", "score": 0.0,
              "max_score": points, "status": "failed", "visibility": "visible",
              "output": message, "output_format": "md"}
             for i, (name, points) in enumerate(parts, start=1)]
    return {"score": 0.0, "output": message, "output_format": "md", "test_output_format": "md",
            "stdout_visibility": "hidden", "tests": tests,
            "extra_data": {"error": detail or message}}


def _write_json(path: Path, data: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(json_safe(data), indent=2, ensure_ascii=False, allow_nan=False)
                   + "\n", encoding="utf-8")
    os.replace(tmp, path)


def run_autograder(root: Path, config: dict[str, Any]) -> dict[str, Any]:
    """Grade ``root/submission`` with the course in ``root/source/course``; write and return
    ``root/results/results.json``. Never raises for a grading failure."""
    started = time.perf_counter()
    results_path = Path(root) / "results" / "results.json"
    parts: list[tuple[str, float]] = []
    hw_id = str(config.get("homework", ""))
    visibility = str(config.get("hidden_visibility", "after_published"))
    try:
        from grader.api import check_submission
        from grader.course.manifest import load_course
        from grader.errors import SubmissionError

        course_dir = Path(root) / "source" / "course"
        homework = load_course(course_dir).homework(hw_id)
        parts = [(p.name, p.points) for p in homework.parts]
        try:
            outcome = check_submission(hw_id, Path(root) / "submission", course=course_dir)
        except SubmissionError as err:
            data = failure_results(
                f"Your submission could not be read: {err}\n\nSubmit `{homework.file}` (or a "
                "notebook) defining the homework's functions.", parts=parts)
        else:
            data = to_gradescope(outcome.result, hidden_visibility=visibility)
            if outcome.log:
                print("--- what the submission printed ---\n" + outcome.log[-20000:])
    except BaseException as err:  # noqa: BLE001 - a results file must be written regardless
        if isinstance(err, KeyboardInterrupt):
            raise
        traceback.print_exc()
        data = failure_results(
            "The autograder failed while grading this submission (this is not your fault); "
            "the course staff has been told through the autograder log. You may resubmit.",
            parts=parts, detail=f"{type(err).__name__}: {err}")
    data.setdefault("execution_time", int(round(time.perf_counter() - started)))
    _write_json(results_path, data)
    return data


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m grader.integrations.gradescope")
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="grade ROOT/submission (what run_autograder calls)")
    run.add_argument("--root", type=Path, default=Path(os.environ.get("AUTOGRADER_ROOT",
                                                                      "/autograder")))
    run.add_argument("--config", type=Path, default=None)
    args = parser.parse_args(argv)
    config_path = args.config or args.root / "source" / CONFIG
    try:
        config = json.loads(config_path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as err:
        _write_json(args.root / "results" / "results.json", failure_results(
            "The autograder is misconfigured (this is not your fault); please tell the course "
            "staff.", detail=f"{config_path}: {err}"))
        return 1
    run_autograder(args.root, config)
    return 0


if __name__ == "__main__":
    sys.exit(main())
