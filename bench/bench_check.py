"""Benchmark of `grade check`, measured side by side in one run.

    python bench/bench_check.py [--repeat 5] [--calls 200] [--timeout 2]

Prints a table: `grade check hw2 solutions/hw2` wall time at the default level and at the
portable level (a spawned interpreter per executor, as on Windows and macOS) against
`python -c "import torch"` (medians, interleaved), the grader's overhead per request (a round
trip to an executor calling a tiny function), and what a hung function costs (3 tests of one
hanging function: one timeout).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from table import print_table

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent


def wall(cmd: list[str], repeat: int, env: dict[str, str] | None = None) -> list[float]:
    """Wall times of ``cmd`` run ``repeat`` times."""
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        subprocess.run(cmd, cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL, check=False)
        times.append(time.perf_counter() - start)
    return times


def side_by_side(repeat: int) -> tuple[list[float], list[float], list[float]]:
    """(default level, portable level, import torch) wall times, interleaved so that all
    three see the same machine load."""
    grade = [str(BIN / "grade"), "check", "hw2", "solutions/hw2"]
    portable = [*grade, "--isolation", "portable"]
    torch_only = [sys.executable, "-c", "import torch"]
    # As on a student's laptop: no root, so no drop to a slot uid (as root the executor also
    # imports what torch loads lazily, which a uid drop would make unreadable: +0.7 s here).
    laptop = {**os.environ, "GRADE_SANDBOX_UID": "0"}
    g, p, t = [], [], []
    for _ in range(repeat):
        g += wall(grade, 1)
        p += wall(portable, 1, env=laptop)
        t += wall(torch_only, 1)
    return g, p, t


def request_overhead(calls: int) -> list[float]:
    import torch

    from grader.config import Settings
    from grader.launch.confinement import sandbox_config
    from grader.launch.executor import Executor, ExecutorSpec
    from grader.launch.isolation import choose_isolation
    from grader.launch.template import Template
    from grader.wire import values

    source = "def f(x):\n    return x\n"
    template = Template()
    try:
        info = template.ready()
        isolation = choose_isolation("auto", info.get("isolation", "process"))
        sandbox = sandbox_config(Settings(), ROOT, isolation)
        spec = ExecutorSpec(submission={"filename": "bench.py", "module": "bench",
                                        "source": source,
                                        "chunks": [{"lineno": 1, "code": source,
                                                    "defines": ["f"]}]},
                            harness=None, sandbox=sandbox, import_timeout_s=30,
                            max_reply_bytes=64 << 20)
        executor = Executor(template, spec)
        try:
            executor.start()
            times = []
            for i in range(calls):
                tensors: dict[str, torch.Tensor] = {}
                header = {"op": "call", "name": "f", "seed": i, "device": "cpu", "forbidden": [],
                          "args": values.encode_value([torch.ones(4)], tensors, {}),
                          "kwargs": values.encode_value({}, tensors, {}),
                          "grad": False, "return_inputs": False}
                start = time.perf_counter()
                reply, _ = executor.request(header, tensors, timeout_s=10, label="f")
                times.append(time.perf_counter() - start)
                assert reply.get("ok"), reply
            return times
        finally:
            executor.close()
    finally:
        template.close()


def hung_function(timeout_s: float) -> tuple[int, float, int, float]:
    """(tests of relu_grad, their total time, how many waited for the deadline, run wall)."""
    from grader.api import check_submission

    start = time.perf_counter()
    result = check_submission("hw2", ROOT / "tests/submissions/hw2/hostile_infinite_loop.py",
                              course=ROOT, request_timeout_s=timeout_s).result
    run = time.perf_counter() - start
    tests = [t for t in result.tests if t.part == "relu_grad"]
    waited = sum(t.duration_s >= 0.9 * timeout_s for t in tests)
    return len(tests), sum(t.duration_s for t in tests), waited, run


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--calls", type=int, default=200)
    parser.add_argument("--timeout", type=float, default=2.0)
    args = parser.parse_args()
    os.chdir(ROOT)
    tempfile.tempdir = None

    grade, portable, torch_only = side_by_side(args.repeat)
    from grader.launch.isolation import fork_server_available

    level = "namespace or process" if fork_server_available() else "portable"
    per_request = request_overhead(args.calls)
    n_tests, hung_total, waited, hung_run = hung_function(args.timeout)

    med = statistics.median
    rows = [
        ("grade check hw2 solutions/hw2", f"{med(grade):.2f} s",
         f"median of {args.repeat}; min {min(grade):.2f} s; isolation auto ({level})"),
        ("  ... --isolation portable (no uid drop)", f"{med(portable):.2f} s",
         f"median of {args.repeat}; min {min(portable):.2f} s; "
         f"{med(portable) / med(torch_only):.2f}x one torch import (target: 1.5x)"),
        ('python -c "import torch"', f"{med(torch_only):.2f} s",
         f"median of {args.repeat}; min {min(torch_only):.2f} s"),
        ("grade check minus torch import", f"{med(grade) - med(torch_only):.2f} s", ""),
        ("overhead per request (round trip)", f"{med(per_request) * 1e3:.2f} ms",
         f"median of {args.calls} calls of `def f(x): return x`; p90 "
         f"{sorted(per_request)[int(0.9 * len(per_request))] * 1e3:.2f} ms"),
        (f"hung function, {n_tests} tests, timeout {args.timeout:g} s", f"{hung_total:.2f} s",
         f"{waited} waited for the deadline (target: 1); whole check {hung_run:.1f} s"),
    ]
    print_table(rows, "target: grade check within 2.5 s wall")

if __name__ == "__main__":
    main()
