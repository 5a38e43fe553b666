"""What the grader needs of its environment: the oldest torch it runs on, and output that
survives a console without UTF-8."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from grader import compat
from grader.cli import main
from grader.errors import UsageError

ROOT = Path(__file__).resolve().parent.parent


def test_an_older_torch_is_refused_in_one_line(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(compat.metadata, "version", lambda name: "2.1.2+cpu")
    result = CliRunner().invoke(main, ["check", "hw2", "solutions/hw2"])
    assert result.exit_code == 2
    assert "torch 2.1.2+cpu is installed; the grader needs torch >= 2.4" in result.stderr
    assert "Traceback" not in result.output


@pytest.mark.parametrize(("version", "ok"), [("2.4.0", True), ("2.13.0+cpu", True),
                                              ("2.3.1", False), ("1.13.1", False),
                                              ("2.10.0a0+git", True)])
def test_versions_compare_as_numbers(version: str, ok: bool) -> None:
    if ok:
        compat.check_torch(version)
    else:
        with pytest.raises(UsageError, match=f"torch {version} is installed"):
            compat.check_torch(version)


def test_a_student_message_outside_the_console_encoding_does_not_crash(tmp_path: Path) -> None:
    sub = tmp_path / "gradients.py"
    sub.write_text('def sigmoid_grad(x):\n    raise ValueError("shape \u2192 wrong \u2713")\n',
                   encoding="utf-8")
    proc = subprocess.run([sys.executable, "-m", "grader.cli", "check", "hw2", str(sub)],
                          cwd=ROOT, capture_output=True, env={"PYTHONIOENCODING": "cp1252",
                                                              "PATH": "/usr/bin:/bin"})
    assert proc.returncode == 1, proc.stderr[-2000:]
    assert b"Traceback" not in proc.stderr
    assert b"sigmoid_grad" in proc.stdout and b"shape ? wrong ?" in proc.stdout


def test_mps_without_apple_silicon_is_one_line(monkeypatch: pytest.MonkeyPatch) -> None:
    import torch

    monkeypatch.setattr(torch.backends.mps, "is_available", lambda: False)
    result = CliRunner().invoke(main, ["check", "hw2", "solutions/hw2", "--device", "mps"])
    assert result.exit_code == 2
    assert result.stderr.startswith("grade: error: --device mps: no Apple-silicon GPU")
    assert result.stderr.count("\n") == 1


def test_on_mps_float64_requests_run_on_the_cpu() -> None:
    """MPS has no float64: those requests (the curriculum's float64 tests) go to the CPU, and
    the comparison expects their results there."""
    from types import SimpleNamespace

    import torch

    from grader.judge.proxy import Student

    run = SimpleNamespace(settings=SimpleNamespace(device="mps"))
    student = Student(run, part="softmax", seed=0, hidden=False)  # type: ignore[arg-type]
    assert student.device_for(torch.float64) == "cpu"
    assert student.device_for(torch.float32) == "mps"
    assert student._device_of({"t0": torch.ones(2, dtype=torch.float64)}) == "cpu"
    assert student._device_of({"t0": torch.ones(2)}) == "mps"
    assert student._device_of({}, "float64") == "cpu"
    cpu = Student(SimpleNamespace(settings=SimpleNamespace(device="cuda")),  # type: ignore[arg-type]
                  part="softmax", seed=0, hidden=False)
    assert cpu.device_for(torch.float64) == "cuda"


def test_an_operator_missing_on_mps_is_not_an_unwritten_part() -> None:
    from grader.executor.failures import error_record

    gap = NotImplementedError("The operator 'aten::_foo' is not currently implemented for the "
                              "MPS device. As a temporary fix, you can set "
                              "PYTORCH_ENABLE_MPS_FALLBACK=1")
    assert error_record(gap, set())["kind"] == "exception"
    assert error_record(NotImplementedError(), set())["kind"] == "not_implemented"
