"""The homework notebooks of the student bundle: built from the stub, graded exactly like the
``.py``: untouched, every part is "not implemented"; with the solution pasted into its cells,
full marks. And the bundle's CI workflow runs the student's journey on three platforms."""

from __future__ import annotations

import ast
from pathlib import Path

import nbformat
import pytest
import yaml

from grader.api import grade_prepared, homework_settings, open_template
from grader.course.manifest import Homework, load_course
from grader.course.submission import prepare_submission
from grader.integrations.release import release
from grader.integrations.release_notebook import homework_notebook

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
COURSE = load_course(ROOT)


def _paste_solution(notebook: nbformat.NotebookNode, hw: Homework) -> nbformat.NotebookNode:
    """The notebook as a student who wrote the solution would leave it: each part's cell holds
    the solution's definition, the first code cell its imports and helpers."""
    source = hw.solution_path.read_text(encoding="utf-8")
    tree = ast.parse(source)
    lines = source.splitlines()
    defs, given = {}, []
    for node in tree.body:
        start = min([node.lineno, *(d.lineno for d in getattr(node, "decorator_list", []))])
        text = "\n".join(lines[start - 1:node.end_lineno])
        name = getattr(node, "name", None)
        if isinstance(node, ast.ImportFrom) and node.module == "__future__":
            continue
        if name in {p.name for p in hw.parts}:
            defs[name] = text
        elif not (isinstance(node, ast.Expr) and node is tree.body[0]):
            given.append(text)
    pasted = nbformat.from_dict(notebook)
    code = [c for c in pasted.cells if c.cell_type == "code"]
    code[0].source += "\n" + "\n".join(given)
    for cell in code[1:]:
        name = getattr(next(iter(ast.parse(cell.source).body), None), "name", None)
        if name in defs:
            cell.source = defs[name]
    return pasted


@pytest.mark.parametrize("hw_id", sorted(COURSE.homeworks))
def test_the_notebook_is_graded_like_the_stub_and_the_solution(hw_id: str, tmp_path: Path,
                                                                ) -> None:
    hw = COURSE.homework(hw_id)
    notebook = homework_notebook(hw)
    parts = [p.name for p in hw.parts]
    titles = [c.source for c in notebook.cells if c.cell_type == "markdown"][1:]
    assert [t.split("`")[1] for t in titles] == parts  # one section per part, in order
    checks = [c for c in notebook.cells if c.source == f'check("{hw_id}")']
    assert len(checks) == len(parts)
    untouched, solved = tmp_path / f"{hw_id}.ipynb", tmp_path / f"{hw_id}-solved.ipynb"
    nbformat.write(notebook, str(untouched))
    nbformat.write(_paste_solution(notebook, hw), str(solved))
    settings = homework_settings(COURSE, hw, {})
    with open_template(hw, settings) as template:
        prepared = [prepare_submission(p, hw) for p in (untouched, solved)]
        (stub, _), (full, _) = grade_prepared(hw, settings, template, prepared,
                                              course_root=COURSE.root)
    assert stub.score == 0
    assert {p.name: p.status for p in stub.parts()} == {n: "not_implemented" for n in parts}
    assert full.full_marks, [(t.id, t.message) for t in full.tests if t.status != "passed"]
    assert not full.left_out  # the check cells are not listed as left out


def test_the_bundle_holds_the_notebook_and_a_three_platform_workflow(tmp_path: Path) -> None:
    out = tmp_path / "bundle"
    release(["hw2", "hw3"], out, course=ROOT)
    for hw_id in ("hw2", "hw3"):
        nbformat.validate(nbformat.read(str(out / f"{hw_id}.ipynb"), as_version=4))
    workflow = yaml.safe_load((out / ".github/workflows/grade-check.yml").read_text())
    job = workflow["jobs"]["check"]
    assert set(job["strategy"]["matrix"]["os"]) == {"ubuntu-latest", "windows-latest",
                                                    "macos-latest"}
    runs = "\n".join(step.get("run", "") for step in job["steps"])
    assert "pip install -r requirements.txt && pip install ." in runs
    assert "grade check hw2" in runs and "grade check hw3" in runs
    readme = (out / "README.md").read_text()
    for system in ("Linux and macOS", "Windows", "Google Colab"):
        assert system in readme
    assert "Python 3.11" in readme and ".venv\\Scripts\\activate" in readme
    assert 'requires-python = ">=3.11"' in (out / "pyproject.toml").read_text()


def test_the_course_workflow_runs_the_journey_script_on_three_platforms(tmp_path: Path) -> None:
    workflow = yaml.safe_load((ROOT / ".github/workflows/student-journey.yml").read_text())
    job = workflow["jobs"]["journey"]
    assert set(job["strategy"]["matrix"]["os"]) == {"ubuntu-latest", "windows-latest",
                                                    "macos-latest"}
    assert any(step.get("run") == "bash .ci/student-journey" for step in job["steps"])
    import os
    import subprocess
    import sys

    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    proc = subprocess.run(["bash", str(ROOT / ".ci/student-journey"), "hw2"], env=env,
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    assert "hw2: stub ok (0/15, every part not implemented" in proc.stdout
    assert "score 15/15" in proc.stdout
