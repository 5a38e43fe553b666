"""The Gradescope autograder zip: run its run_autograder against fake /autograder roots."""

from __future__ import annotations

import json
import os
import re
import stat
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from grader.integrations.gradescope import VISIBILITIES, failure_results, to_gradescope
from grader.judge import results as gr

ROOT = Path(__file__).resolve().parents[2]
HW = "hw2"
FILE = "gradients.py"

CRASH = '''

def sigmoid_grad(x):
    import os
    os._exit(3)
'''

HOSTILE = '''
import torch

torch.allclose = lambda *a, **k: True
torch.testing.assert_close = lambda *a, **k: None
torch.equal = lambda *a, **k: True


def sigmoid_grad(x):
    return torch.zeros_like(x)


def tanh_grad(x):
    return torch.zeros_like(x)
'''


def _submissions() -> dict[str, str]:
    solution = (ROOT / "solutions" / HW / FILE).read_text(encoding="utf-8")
    wrong = re.sub(r"def tanh_grad\(x: torch.Tensor\) -> torch.Tensor:\n    return .*\n",
                   "def tanh_grad(x: torch.Tensor) -> torch.Tensor:\n"
                   "    return 1 - torch.tanh(x)\n", solution)
    assert wrong != solution
    return {"correct": solution, "wrong": wrong, "crash": solution + CRASH,
            "hostile": solution + HOSTILE}


def _validate(data: dict, max_score: float) -> None:
    assert isinstance(data["score"], (int, float))
    assert data["output_format"] == "md" and isinstance(data["output"], str)
    assert isinstance(data.get("execution_time", 0), int)
    numbers = set()
    for t in data["tests"]:
        assert set(t) >= {"name", "number", "score", "max_score", "status", "visibility",
                          "output", "output_format"}
        assert isinstance(t["name"], str) and t["name"]
        assert re.fullmatch(r"\d+\.\d+", t["number"]) and t["number"] not in numbers
        numbers.add(t["number"])
        assert t["status"] in ("passed", "failed")
        assert t["visibility"] in VISIBILITIES
        assert t["output_format"] == "md"
        assert 0 <= t["score"] <= t["max_score"] + 1e-9
        assert (t["status"] == "passed") == (t["score"] == t["max_score"] > 0)
    if data["tests"]:
        assert sum(t["max_score"] for t in data["tests"]) == pytest.approx(max_score, abs=1e-3)
        assert data["score"] == pytest.approx(sum(t["score"] for t in data["tests"]), abs=1e-3)


@pytest.fixture(scope="module")
def autograder(tmp_path_factory):
    out = tmp_path_factory.mktemp("zip") / "hw2-autograder.zip"
    proc = subprocess.run([sys.executable, "-m", "grader.cli", "gradescope", HW, "--out",
                           str(out), "--hidden-visibility", "after_due_date"],
                          cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    return out


def _fake_root(zip_path: Path, root: Path, files: dict[str, str]) -> Path:
    with zipfile.ZipFile(zip_path) as zf:
        zf.extractall(root / "source")
        modes = {i.filename: (i.external_attr >> 16) & 0o777 for i in zf.infolist()}
    for name, mode in modes.items():
        os.chmod(root / "source" / name, mode or 0o644)
    (root / "submission").mkdir(parents=True)
    for name, text in files.items():
        (root / "submission" / name).write_text(text, encoding="utf-8")
    return root


def _start(root: Path, python: str = sys.executable) -> subprocess.Popen:
    env = {**os.environ, "AUTOGRADER_ROOT": str(root), "AUTOGRADER_PYTHON": python}
    return subprocess.Popen([str(root / "source" / "run_autograder")], env=env, cwd=root,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def test_zip_layout(autograder):
    with zipfile.ZipFile(autograder) as zf:
        names = set(zf.namelist())
        modes = {i.filename: (i.external_attr >> 16) for i in zf.infolist()}
        config = json.loads(zf.read("gradescope.json"))
    assert {"setup.sh", "run_autograder", "requirements.txt", "pyproject.toml",
            "grader/cli.py", "course/course.toml", f"course/assignments/{HW}/{FILE}",
            f"course/solutions/{HW}/{FILE}"} <= names
    assert modes["run_autograder"] & stat.S_IXUSR and modes["setup.sh"] & stat.S_IXUSR
    assert not any("/mutants/" in n or "__pycache__" in n for n in names)
    assert any(n.startswith(f"course/reference_tests/{HW}/public/") for n in names)
    assert config == {"homework": HW, "hidden_visibility": "after_due_date"}


@pytest.mark.slow
def test_run_autograder_on_four_submissions(autograder, tmp_path):
    from grader.course.manifest import load_course

    max_score = load_course(ROOT).homework(HW).max_score
    roots = {name: _fake_root(autograder, tmp_path / name, {FILE: text})
             for name, text in _submissions().items()}
    roots["empty"] = _fake_root(autograder, tmp_path / "empty", {"notes.txt": "nothing"})
    procs = {name: _start(root) for name, root in roots.items()}
    logs = {name: p.communicate(timeout=400)[0] for name, p in procs.items()}
    data = {}
    for name, root in roots.items():
        assert procs[name].returncode == 0, logs[name][-3000:]
        path = root / "results" / "results.json"
        assert path.is_file(), logs[name][-3000:]
        data[name] = json.loads(path.read_text(encoding="utf-8"))
        _validate(data[name], max_score)

    correct = data["correct"]
    assert correct["score"] == pytest.approx(max_score, abs=1e-3), correct["output"]
    assert all(t["status"] == "passed" for t in correct["tests"])
    vis = {t["visibility"] for t in correct["tests"]}
    assert "visible" in vis
    hidden = [t for t in correct["tests"] if t["extra_data"]["id"].find("/hidden/") >= 0
              or "hidden" in t["extra_data"]["id"]]
    if hidden:  # hidden tests carry the configured visibility
        assert {t["visibility"] for t in hidden} == {"after_due_date"}

    wrong = data["wrong"]
    lost = {t["tags"][0] for t in wrong["tests"] if t["status"] == "failed"}
    assert lost == {"tanh_grad"}
    failed = next(t for t in wrong["tests"] if t["status"] == "failed")
    assert failed["score"] == 0 and failed["max_score"] > 0 and "**" in failed["output"]

    crash = data["crash"]
    crashed = [t for t in crash["tests"] if t["tags"][0] == "sigmoid_grad"]
    assert crashed and all(t["status"] == "failed" and t["max_score"] > 0 for t in crashed)
    assert all(t["status"] == "passed" for t in crash["tests"] if t["tags"][0] != "sigmoid_grad")

    hostile = data["hostile"]
    lost = {t["tags"][0] for t in hostile["tests"] if t["status"] == "failed"}
    assert lost == {"sigmoid_grad", "tanh_grad"}, hostile["tests"]

    empty = data["empty"]
    assert empty["score"] == 0 and "could not be read" in empty["output"]
    assert sum(t["max_score"] for t in empty["tests"]) == pytest.approx(max_score)


def test_results_written_when_python_cannot_start(autograder, tmp_path):
    root = _fake_root(autograder, tmp_path / "r", {FILE: "x = 1\n"})
    proc = _start(root, python=str(tmp_path / "no-such-python"))
    proc.communicate(timeout=30)
    assert proc.returncode == 0
    data = json.loads((root / "results" / "results.json").read_text(encoding="utf-8"))
    assert data["score"] == 0 and data["tests"] == [] and "course staff" in data["output"]


def test_results_written_when_the_config_is_broken(autograder, tmp_path):
    from grader.integrations.gradescope import main

    root = _fake_root(autograder, tmp_path / "r", {FILE: "x = 1\n"})
    (root / "source" / "gradescope.json").write_text("{not json", encoding="utf-8")
    assert main(["run", "--root", str(root)]) == 1
    data = json.loads((root / "results" / "results.json").read_text(encoding="utf-8"))
    assert data["score"] == 0 and "misconfigured" in data["output"]


def _result(tests):
    return gr.SubmissionResult(assignment=HW, submission={"id": "a", "path": "a.py", "sha256": ""},
                            score=sum(t.points for t in tests),
                            max_score=sum(t.max_points for t in tests), status="graded",
                            device="cpu", isolation="process", versions={}, duration_s=1.6,
                            tests=tuple(tests), parts_order=("p1", "p2"))


def test_conversion_keeps_max_score_of_skipped_and_crashed_tests():
    tests = [gr.TestResult("t.py::a", "p1", "public", 1.0, 1.0, "passed"),
             gr.TestResult("t.py::b", "p1", "hidden", 0.0, 1.0, "skipped", message="no CUDA"),
             gr.TestResult("t.py::c", "p2", "public", 0.0, 2.0, "crashed", "executor",
                        "the process was killed (SIGKILL)"),
             gr.TestResult("t.py::d", "p2", "hidden", 0.0, 2.0, "failed", "values", "a_b | *x*")]
    data = to_gradescope(_result(tests), hidden_visibility="hidden")
    _validate(data, 6.0)
    assert [t["number"] for t in data["tests"]] == ["1.1", "1.2", "2.1", "2.2"]
    assert [t["max_score"] for t in data["tests"]] == [1.0, 1.0, 2.0, 2.0]
    assert [t["visibility"] for t in data["tests"]] == ["visible", "hidden", "visible", "hidden"]
    assert data["tests"][2]["output"].startswith("**crashed the process** (stage: `executor`)")
    assert "```\na_b | *x*\n```" in data["tests"][3]["output"]
    assert data["execution_time"] == 2 and data["score"] == 1.0


def test_failure_results_keep_parts():
    data = failure_results("broken", parts=[("p1", 1.0), ("p2", 2.5)])
    _validate(data, 3.5)
    assert data["score"] == 0
