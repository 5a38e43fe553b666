"""The GPU check: CUDA verdicts equal CPU verdicts, the GPU tests, and batch cost on the GPU.

Run on a machine with a GPU (``bench/gpu.sh`` does); prints one summary table and writes it
to ``bench/results/`` with the GPU's name and the torch version.
"""

from __future__ import annotations

import datetime
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from grader.course import load_course  # noqa: E402
from grader.verify import verify_homework  # noqa: E402


def verdicts(course, hw, device):
    verdict = verify_homework(course, course.homework(hw), {"device": device})
    table = {}
    for label, result in zip(verdict.checked, verdict.results):
        table[label] = tuple((p.name, p.status, p.points) for p in result.parts())
    return verdict, table


def compare_devices(course, lines):
    ok = True
    for hw in sorted(course.homeworks):
        t0 = time.perf_counter()
        cpu_v, cpu = verdicts(course, hw, "cpu")
        t1 = time.perf_counter()
        gpu_v, gpu = verdicts(course, hw, "cuda")
        t2 = time.perf_counter()
        same = [k for k in cpu if cpu[k] == gpu.get(k)]
        differ = [k for k in cpu if cpu[k] != gpu.get(k)]
        ok &= gpu_v.ok and not differ
        lines.append(f"| verify {hw} | cpu {'ok' if cpu_v.ok else 'FAIL'} {t1 - t0:.1f} s | "
                     f"cuda {'ok' if gpu_v.ok else 'FAIL'} {t2 - t1:.1f} s | "
                     f"{len(same)}/{len(cpu)} same verdicts |")
        for problem in gpu_v.problems:
            lines.append(f"|  cuda problem | {problem} | | |")
        for k in differ:
            lines.append(f"|  differs | {hw} {k} | cpu {cpu[k]} | cuda {gpu.get(k)} |")
    return ok


def gpu_tests(lines):
    t0 = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                           str(ROOT / "tests" / "test_cuda.py")], cwd=ROOT, capture_output=True,
                          text=True)
    last = (proc.stdout.strip().splitlines() or ["(no output)"])[-1]
    lines.append(f"| GPU tests | {last} | {time.perf_counter() - t0:.1f} s | exit {proc.returncode} |")
    if proc.returncode:
        print(proc.stdout[-4000:], proc.stderr[-2000:])
    return proc.returncode == 0


def batch_cost(lines, n=20):
    """`grade batch --device cuda` against a fresh process per submission (import + CUDA)."""
    if not shutil.which("grade") and not (ROOT / "grader" / "batch.py").exists():
        lines.append("| batch | grade batch not available | | |")
        return True
    work = Path(tempfile.mkdtemp())
    subs = work / "subs"
    subs.mkdir()
    for i in range(n):
        shutil.copy(ROOT / "solutions" / "hw2" / "gradients.py", subs / f"s{i:02d}.py")
    t0 = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "grader", "batch", "hw2", str(subs), "--out",
                           str(work / "out"), "--device", "cuda", "--jobs", "1"], cwd=ROOT,
                          capture_output=True, text=True)
    batch_s = time.perf_counter() - t0
    import json

    results = [json.loads(p.read_text()) for p in (work / "out" / "results").glob("*.json")]
    compute = [sum(t["duration_s"] for t in r["tests"]) for r in results] or [0.0]
    fresh = []
    for _ in range(3):
        t = time.perf_counter()
        subprocess.run([sys.executable, "-c", "import torch; torch.zeros(1, device='cuda')"],
                       check=True)
        fresh.append(time.perf_counter() - t)
    per_sub = batch_s / n
    overhead = per_sub - statistics.mean(compute)
    lines.append(f"| batch hw2 x{n} cuda | {per_sub:.2f} s/submission (exit {proc.returncode}) | "
                 f"tests' own compute {statistics.mean(compute):.2f} s | overhead "
                 f"{overhead:.2f} s/submission |")
    lines.append(f"| fresh process | import torch + CUDA init {statistics.median(fresh):.2f} s | "
                 f"ratio {statistics.median(fresh) / max(per_sub, 1e-9):.1f}x per submission | |")
    shutil.rmtree(work, ignore_errors=True)
    return proc.returncode in (0, 1) and overhead <= 0.5


def main() -> int:
    if not torch.cuda.is_available():
        print("no CUDA GPU here: nothing to check")
        return 2
    course = load_course(ROOT)
    name = torch.cuda.get_device_name(0)
    lines = [f"GPU check {datetime.date.today()} · {name} · torch {torch.__version__} · "
             f"python {sys.version.split()[0]}", "", "| what | result | | |", "|---|---|---|---|"]
    ok = compare_devices(course, lines)
    ok &= gpu_tests(lines)
    ok &= batch_cost(lines)
    lines.append("")
    lines.append("verdict: " + ("all checks passed" if ok else "SOME CHECKS FAILED"))
    text = "\n".join(lines) + "\n"
    print(text)
    out = Path(os.environ.get("OUT", ROOT / "bench" / "results"))
    out.mkdir(parents=True, exist_ok=True)
    (out / f"gpu-{datetime.date.today()}.md").write_text(text)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
