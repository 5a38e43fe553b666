"""The student's side on a platform without POSIX: ``grade check`` in an interpreter that
has no fork, Unix sockets, ``resource``, ``fcntl``, SIGALRM/setitimer, process groups, uids or
/proc (tests/platform/sitecustomize.py removes them, as Windows lacks them). ``auto`` must pick
the portable level, and the verdicts must be the ones a Linux namespace run gives."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from grader.launch.executor import template_env

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
SIMULATION = Path(__file__).resolve().parents[1] / "platform"


def _grade(*args: str, timeout_s: float = 2.0) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(SIMULATION), "GRADE_REQUEST_TIMEOUT_S": str(timeout_s)}
    return subprocess.run([sys.executable, "-m", "grader.cli", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=600)


def _json(proc: subprocess.CompletedProcess[str]) -> dict[str, Any]:
    assert proc.stdout.strip(), proc.stderr[-3000:]
    return dict(json.loads(proc.stdout))


def test_the_simulation_really_removes_posix() -> None:
    code = ("import os, socket, signal, sys\n"
            "missing = [not hasattr(os, 'fork'), not hasattr(socket, 'AF_UNIX'),\n"
            "           not hasattr(signal, 'SIGALRM'), not hasattr(os, 'killpg'),\n"
            "           not hasattr(os, 'geteuid')]\n"
            "try:\n    import resource\nexcept ImportError:\n    missing.append(True)\n"
            "try:\n    open('/proc/self/status')\nexcept OSError:\n    missing.append(True)\n"
            "import grader.cli, grader.api, grader.integrations.notebook, grader.launch.isolation\n"
            "print(all(missing), len(missing), grader.launch.isolation.fork_server_available())")
    out = subprocess.run([sys.executable, "-c", code], env={**os.environ,
                         "PYTHONPATH": str(SIMULATION)}, capture_output=True, text=True)
    assert out.stdout.split() == ["True", "7", "False"], out.stderr[-2000:]


def test_auto_picks_portable_and_the_solution_scores_full_marks() -> None:
    proc = _grade("check", "hw2", "solutions/hw2", "--format", "json")
    result = _json(proc)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert result["isolation"] == "portable"
    assert result["score"] == result["max_score"] > 0


def test_a_hang_and_an_exit_each_fail_only_their_part() -> None:
    proc = _grade("check", "hw2", "tests/submissions/platform/hang_and_exit.py",
                  "--format", "json")
    result = _json(proc)
    assert proc.returncode == 1 and result["isolation"] == "portable"
    parts = {p["name"]: p for p in result["parts"]}
    assert parts["relu_grad"]["status"] == "timeout" and parts["relu_grad"]["points"] == 0
    assert parts["tanh_grad"]["status"] == "crashed" and parts["tanh_grad"]["points"] == 0
    assert "exited with code 3" in parts["tanh_grad"]["message"]
    for name, part in parts.items():
        if name not in ("relu_grad", "tanh_grad"):
            assert part["status"] == "passed" and part["points"] == part["max_points"], name


def test_batch_refuses_the_portable_level_unless_asked(tmp_path: Path) -> None:
    subs = tmp_path / "subs"
    subs.mkdir()
    (subs / "alice.py").write_text((ROOT / "solutions/hw2/gradients.py").read_text())
    refused = _grade("batch", "hw2", str(subs), "--out", str(tmp_path / "out"), "-q")
    assert refused.returncode == 2
    assert "only the portable isolation level" in refused.stderr
    assert "--isolation portable" in refused.stderr and "Traceback" not in refused.stderr
    asked = _grade("batch", "hw2", str(subs), "--out", str(tmp_path / "out"), "-q", "--jobs",
                   "1", "--isolation", "portable")
    assert asked.returncode == 0, asked.stderr[-2000:]
    graded = json.loads((tmp_path / "out/results/alice.json").read_text())
    assert graded["isolation"] == "portable" and graded["score"] == graded["max_score"]


def test_namespace_or_process_is_refused_in_one_line() -> None:
    proc = _grade("check", "hw2", "solutions/hw2", "--isolation", "process")
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert "only --isolation portable" in proc.stderr


def test_the_executor_environment_keeps_what_windows_needs() -> None:
    env = template_env({"SYSTEMROOT": "C:\\Windows", "TEMP": "C:\\T", "TMP": "C:\\T",
                        "PATH": "C:\\Python", "GITHUB_TOKEN": "secret", "USERPROFILE": "C:\\U"})
    assert env["SYSTEMROOT"] == "C:\\Windows" and env["TEMP"] == env["TMP"] == "C:\\T"
    assert "GITHUB_TOKEN" not in env and "USERPROFILE" not in env
    assert env["HOME"] == "C:\\T"


def test_paths_in_messages_are_relative_to_the_submission() -> None:
    proc = _grade("check", "hw2", "tests/submissions/platform/raises_with_its_path.py",
                  "--format", "json")
    result = _json(proc)
    message = next(p for p in result["parts"] if p["name"] == "sigmoid_grad")["message"]
    assert "cannot open gradients.py" in message and "(gradients.py line 4" in message, message
    assert "grader-exec-" not in json.dumps(result)
