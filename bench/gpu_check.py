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

from grader.course.manifest import load_course  # noqa: E402
from grader.verify import verify_homework  # noqa: E402


def verdicts(course, hw, device):
    verdict = verify_homework(course, course.homework(hw), {"device": device})
    table = {}
    for label, result in zip(verdict.checked, verdict.results):
        table[label] = [[p.name, p.status, p.points] for p in result.parts()]
    return verdict, table


def one_verdict(hw: str, device: str, out: str) -> int:
    """Child mode: verify one homework on one device and write the verdicts as JSON."""
    import json

    t0 = time.perf_counter()
    course = load_course(ROOT)
    verdict, table = verdicts(course, hw, device)
    Path(out).write_text(json.dumps({"ok": verdict.ok, "problems": list(verdict.problems),
                                     "table": table, "seconds": time.perf_counter() - t0}))
    return 0


def compare_devices(course, lines):
    """Verify every homework on CPU and CUDA, all at once (one process each), and compare."""
    import json

    work = Path(tempfile.mkdtemp())
    procs = {}
    for hw in sorted(course.homeworks):
        for device in ("cpu", "cuda"):
            out = work / f"{hw}-{device}.json"
            log = open(work / f"{hw}-{device}.log", "w")
            procs[(hw, device)] = (subprocess.Popen(
                [sys.executable, __file__, "--verdict", hw, device, str(out)], cwd=ROOT,
                stdout=log, stderr=subprocess.STDOUT), out)
    ok = True
    for hw in sorted(course.homeworks):
        got = {}
        for device in ("cpu", "cuda"):
            proc, out = procs[(hw, device)]
            proc.wait()
            if out.exists():
                got[device] = json.loads(out.read_text())
            else:
                got[device] = {"ok": False, "problems": ["crashed: " + (work / f"{hw}-{device}.log")
                                                         .read_text()[-1500:]], "table": {},
                               "seconds": 0}
        cpu, gpu = got["cpu"], got["cuda"]
        same = [k for k in cpu["table"] if cpu["table"][k] == gpu["table"].get(k)]
        differ = [k for k in cpu["table"] if cpu["table"][k] != gpu["table"].get(k)]
        ok &= gpu["ok"] and cpu["ok"] and not differ
        lines.append(f"| verify {hw} | cpu {'ok' if cpu['ok'] else 'FAIL'} {cpu['seconds']:.1f} s"
                     f" | cuda {'ok' if gpu['ok'] else 'FAIL'} {gpu['seconds']:.1f} s | "
                     f"{len(same)}/{len(cpu['table'])} same verdicts |")
        for device in ("cpu", "cuda"):
            for problem in got[device]["problems"][:5]:
                lines.append(f"|  {device} problem | {problem[:1500]} | | |")
        for k in differ[:5]:
            lines.append(f"|  differs | {hw} {k} | cpu {cpu['table'][k]} | "
                         f"cuda {gpu['table'].get(k)} |")
    return ok


def gpu_tests(lines):
    t0 = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                           str(ROOT / "tests" / "e2e" / "test_cuda.py")], cwd=ROOT, capture_output=True,
                          text=True)
    last = (proc.stdout.strip().splitlines() or ["(no output)"])[-1]
    lines.append(f"| GPU tests | {last} | {time.perf_counter() - t0:.1f} s | exit {proc.returncode} |")
    if proc.returncode:
        print(proc.stdout[-4000:], proc.stderr[-2000:])
    return proc.returncode == 0


def batch_cost(lines, n=30):
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
    from concurrent.futures import ThreadPoolExecutor

    parts: list[list[str]] = [[], [], []]
    with ThreadPoolExecutor(3) as pool:  # the three checks at once: the machine has the cores
        futures = [pool.submit(compare_devices, course, parts[0]),
                   pool.submit(gpu_tests, parts[1]), pool.submit(batch_cost, parts[2])]
        ok = all(f.result() for f in futures)
    for chunk in parts:
        lines.extend(chunk)
    lines.append("")
    lines.append("verdict: " + ("all checks passed" if ok else "SOME CHECKS FAILED"))
    text = "\n".join(lines) + "\n"
    print(text)
    out = Path(os.environ.get("OUT", ROOT / "bench" / "results"))
    out.mkdir(parents=True, exist_ok=True)
    (out / f"gpu-{datetime.date.today()}.md").write_text(text)
    return 0 if ok else 1


if __name__ == "__main__":
    if len(sys.argv) == 5 and sys.argv[1] == "--verdict":
        sys.exit(one_verdict(sys.argv[2], sys.argv[3], sys.argv[4]))
    sys.exit(main())
