"""The CUDA path: every homework's solution on the GPU, device mistakes, GPU memory.

Without a GPU the CUDA tests skip with the reason; the device hints that can be seen on a
CPU-only machine (a hard-coded ``.cuda()``) are checked there instead.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from grader.api import check_submission

ROOT = Path(__file__).resolve().parents[2]
SUBS = ROOT / "tests" / "submissions" / "gpu"
needs_cuda = pytest.mark.skipif(not torch.cuda.is_available(),
                                reason="needs a CUDA GPU (torch.cuda.is_available() is False)")
pytestmark = pytest.mark.slow


def _parts(result):
    return {p.name: p for p in result.parts()}


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the CPU-only message")
def test_hard_coded_cuda_on_a_cpu_machine_says_so():
    result = check_submission("hw2", SUBS / "hard_coded_cuda.py", course=ROOT).result
    parts = _parts(result)
    assert parts["sigmoid_grad"].points == 0
    assert "hard-coded .cuda()" in parts["sigmoid_grad"].message
    assert all(p.status == "passed" for n, p in parts.items() if n != "sigmoid_grad")


@needs_cuda
@pytest.mark.cuda
@pytest.mark.parametrize("hw", ["hw1", "hw2", "hw3", "hw4", "hw5", "hw6"])
def test_solutions_score_full_marks_on_cuda(hw):
    if not (ROOT / "solutions" / hw).is_dir():
        pytest.skip(f"{hw} is not in this course")
    result = check_submission(hw, ROOT / "solutions" / hw, course=ROOT, device="cuda").result
    assert result.device == "cuda"
    failing = [(p.name, p.message) for p in result.parts() if p.status != "passed"]
    assert not failing
    assert result.score == result.max_score


@needs_cuda
@pytest.mark.cuda
def test_a_cpu_tensor_inside_the_function_gets_a_device_hint():
    parts = _parts(check_submission("hw2", SUBS / "cpu_tensor_inside.py", course=ROOT,
                                    device="cuda").result)
    assert parts["relu_grad"].points == 0
    assert "device" in parts["relu_grad"].message
    assert all(p.status == "passed" for n, p in parts.items() if n != "relu_grad")


@needs_cuda
@pytest.mark.cuda
def test_a_result_moved_to_the_cpu_fails_the_device_stage():
    result = check_submission("hw2", SUBS / "hard_coded_cpu.py", course=ROOT, device="cuda").result
    tanh = [t for t in result.tests if t.part == "tanh_grad"]
    assert tanh and all(t.status == "failed" and t.stage == "device" for t in tanh)
    assert "is on cpu, expected cuda" in tanh[0].message


@needs_cuda
@pytest.mark.cuda
def test_a_cuda_oom_fails_that_part_only_and_frees_the_device():
    parts = _parts(check_submission("hw2", SUBS / "cuda_oom.py", course=ROOT, device="cuda",
                                    gpu_memory_mb=4096).result)
    assert parts["tanh_grad"].points == 0
    assert "out of memory" in parts["tanh_grad"].message
    assert all(p.status == "passed" for n, p in parts.items() if n != "tanh_grad")
