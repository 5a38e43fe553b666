"""Benchmark: ``grade batch`` at course scale, against a fresh ``python -m pytest`` per submission.

    python bench/bench_batch.py [--n 40] [--jobs 2] [--copies 5] [--class-size 1000] [--dask]

Generates N mixed hw2 submissions (60 % correct, 20 % wrong, 10 % raising, 10 % with a
hanging function; every third one a notebook: 24/8/4/4 for N = 40), then measures, side by
side in one run:

1. the **whole run**: ``grade batch`` on all N (``--jobs`` judges), hanging ones included;
2. one ``python -c "import torch"`` (the median of three), the yardstick of start-up;
3. the **fixed start-up** and the **marginal cost** per non-hanging submission, from two set
   sizes: ``grade batch`` on the non-hanging ones (A) and on ``--copies`` times as many (B,
   each copy a distinct file): marginal = (wall B - wall A) / (n B - n A), start-up =
   wall A - n A x marginal;
4. the **suite's own compute** per submission: the grader's hw2 suite on the solution with the
   student's functions called in process and nothing of the isolation
   (``bench/own_compute.py``), ``--jobs`` copies at once so the cores are as busy;
5. the **naive way**: per submission a fresh ``python -m pytest`` on a tiny test file that
   imports the submission and compares each function with torch (``--jobs`` in parallel);
6. a **class** of ``--class-size`` distinct non-hanging submissions (0 to skip);
7. with ``--dask``: ``grade batch --executor dask`` (a LocalCluster) on all N, and whether
   every score is the local pool's.

It prints the table, the targets (start-up within 1.5 torch imports, marginal cost within
0.05 s, the class of 1,000 within 60 s with 2 jobs) and whether each was met.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SOLUTION = ROOT / "solutions" / "hw2" / "gradients.py"

KINDS = {
    "correct": lambda src: src,
    "wrong": lambda src: src.replace("return s * (1 - s)", "return s * (1 + s)"),
    "raising": lambda src: src.replace(
        "def softmax(a: torch.Tensor, dim: int = -1) -> torch.Tensor:\n",
        "def softmax(a: torch.Tensor, dim: int = -1) -> torch.Tensor:\n"
        "    raise ValueError('shapes do not match')\n"),
    "hanging": lambda src: src.replace(
        "def tanh_grad(x: torch.Tensor) -> torch.Tensor:\n",
        "def tanh_grad(x: torch.Tensor) -> torch.Tensor:\n"
        "    import time\n    time.sleep(1000)\n"),
}


def write_submission(folder: Path, name: str, kind: str, notebook: bool) -> Path:
    """One hw2 submission of ``kind`` as ``name.py`` or ``name.ipynb``; returns its path."""
    source = KINDS[kind](SOLUTION.read_text(encoding="utf-8"))
    assert kind == "correct" or source != SOLUTION.read_text(encoding="utf-8"), kind
    if not notebook:
        path = folder / f"{name}.py"
        path.write_text(source, encoding="utf-8")
        return path
    import nbformat

    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell("# hw2"), nbformat.v4.new_code_cell(source),
                nbformat.v4.new_code_cell("print(sigmoid_grad(torch.zeros(3)))")]
    path = folder / f"{name}.ipynb"
    path.write_text(nbformat.writes(nb), encoding="utf-8")
    return path


def mix(n: int) -> list[str]:
    """60 % correct, 20 % wrong, 10 % raising, 10 % hanging (spread through the set)."""
    counts = {"correct": round(0.6 * n), "wrong": round(0.2 * n), "raising": round(0.1 * n)}
    counts["hanging"] = n - sum(counts.values())
    kinds = [k for k, c in counts.items() for _ in range(c)]
    return [kinds[(i * 7) % n] for i in range(n)] if n % 7 else kinds


def make_set(folder: Path, n: int) -> dict[str, str]:
    """Write N submissions into ``folder``; returns student -> kind."""
    folder.mkdir(parents=True, exist_ok=True)
    kinds = {}
    for i, kind in enumerate(mix(n)):
        name = f"s{i:02d}_{kind}"
        write_submission(folder, name, kind, notebook=(i % 3 == 2))
        kinds[name] = kind
    return kinds


NAIVE_TEST = '''
import importlib.util, os, torch, torch.nn.functional as F
spec = importlib.util.spec_from_file_location("gradients", os.environ["SUBMISSION"])
m = importlib.util.module_from_spec(spec); spec.loader.exec_module(m)
g = torch.Generator().manual_seed(0)
x = torch.randn(6, 5, dtype=torch.float64, generator=g)

def _grad(f, x):
    x = x.clone().requires_grad_(True)
    (gx,) = torch.autograd.grad(f(x).sum(), x)
    return gx

def test_sigmoid_grad(): torch.testing.assert_close(m.sigmoid_grad(x), _grad(torch.sigmoid, x))
def test_tanh_grad(): torch.testing.assert_close(m.tanh_grad(x), _grad(torch.tanh, x))
def test_relu_grad(): torch.testing.assert_close(m.relu_grad(x), (x > 0).double())
def test_softmax(): torch.testing.assert_close(m.softmax(x), torch.softmax(x, -1))
def test_softmax_jacobian():
    a = x[0]
    expected = torch.autograd.functional.jacobian(lambda v: torch.softmax(v, -1), a)
    torch.testing.assert_close(m.softmax_jacobian(a), expected)
def test_softmax_backward():
    p = torch.softmax(x, -1); gp = torch.randn(6, 5, dtype=torch.float64, generator=g)
    a = x.clone().requires_grad_(True); (ga,) = torch.autograd.grad(torch.softmax(a, -1), a, gp)
    torch.testing.assert_close(m.softmax_backward(p, gp), ga)
def test_linear_mse_grad():
    w = torch.randn(5, 2, dtype=torch.float64, generator=g); b = torch.randn(2, dtype=torch.float64, generator=g)
    y = torch.randn(6, 2, dtype=torch.float64, generator=g)
    w_, b_ = w.clone().requires_grad_(True), b.clone().requires_grad_(True)
    gw, gb = torch.autograd.grad(F.mse_loss(x @ w_ + b_, y, reduction="sum") / 6, (w_, b_))
    rw, rb = m.linear_mse_grad(x, y, w, b)
    torch.testing.assert_close(rw, gw); torch.testing.assert_close(torch.as_tensor(rb).sum(), gb.sum())
def test_cross_entropy():
    t = torch.tensor([0, 1, 2, 3, 4, 0])
    torch.testing.assert_close(m.cross_entropy(x, t), F.cross_entropy(x, t))
def test_cross_entropy_grad():
    t = torch.tensor([0, 1, 2, 3, 4, 0]); a = x.clone().requires_grad_(True)
    (ga,) = torch.autograd.grad(F.cross_entropy(a, t), a)
    torch.testing.assert_close(m.cross_entropy_grad(x, t), ga)
'''


def as_py(path: Path, folder: Path) -> Path:
    """The naive way needs a .py: a notebook's code cells joined (done before timing)."""
    if path.suffix == ".py":
        return path
    import nbformat

    nb = nbformat.read(path, as_version=4)
    code = "\n\n".join(c.source for c in nb.cells if c.cell_type == "code"
                       and not c.source.startswith("print("))
    out = folder / (path.stem + ".py")
    out.write_text(code, encoding="utf-8")
    return out


def run_naive(paths: list[Path], work: Path, jobs: int) -> tuple[float, dict[str, float]]:
    test = work / "test_naive.py"
    test.write_text(NAIVE_TEST, encoding="utf-8")
    durations: dict[str, float] = {}

    def one(path: Path) -> None:
        t = time.perf_counter()
        subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                        "--timeout", "10", str(test)], cwd=work, capture_output=True,
                       env={**_env(), "SUBMISSION": str(path)})
        durations[path.stem] = time.perf_counter() - t

    t0 = time.perf_counter()
    with ThreadPoolExecutor(jobs) as pool:
        list(pool.map(one, paths))
    return time.perf_counter() - t0, durations


def own_compute(jobs: int, reps: int = 15) -> float:
    """Median seconds per submission of the suite's own work on the solution (in process,
    no isolation), with ``jobs`` copies running at once like the batch's judges."""
    cmd = [sys.executable, str(ROOT / "bench" / "own_compute.py"), "hw2", str(SOLUTION),
           "--reps", str(reps)]
    procs = [subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True) for _ in range(jobs)]
    medians = []
    for proc in procs:
        out, _ = proc.communicate()
        data = json.loads(out.strip().splitlines()[-1])
        assert data["scores"] == ["15/15"], f"the in-process run did not grade: {data}"
        medians.append(data["median_s"])
    return statistics.median(medians)


def _env() -> dict[str, str]:
    import os

    return dict(os.environ)


def run_batch(folder: Path, out: Path, jobs: int, executor: str = "local",
              ) -> tuple[float, list[dict]]:
    t = time.perf_counter()
    subprocess.run([sys.executable, "-m", "grader", "batch", "hw2", str(folder), "--out",
                    str(out), "--jobs", str(jobs), "--format", "json", "-q",
                    "--executor", executor], cwd=ROOT, check=False)
    wall = time.perf_counter() - t
    results = [json.loads(p.read_text()) for p in sorted((out / "results").glob("*.json"))]
    return wall, results


def copies_of(folder: Path, dest: Path, count: int) -> int:
    """``count`` submissions made from those in ``folder``, each a distinct file (a comment
    naming its copy, which grading and the similarity fold both ignore)."""
    dest.mkdir(parents=True)
    files = sorted(folder.iterdir())
    for i in range(count):
        src = files[i % len(files)]
        text = src.read_text(encoding="utf-8")
        if src.suffix == ".py":
            text = f"# copy {i}\n{text}"
        else:  # a notebook: a JSON string; its first cell is markdown
            text = text.replace('"# hw2"', f'"# hw2, copy {i}"', 1)
        (dest / f"c{i:04d}_{src.name}").write_text(text, encoding="utf-8")
    return count


def import_torch_s() -> float:
    """The median wall time of a fresh ``python -c "import torch"``, of three."""
    times = []
    for _ in range(3):
        t = time.perf_counter()
        subprocess.run([sys.executable, "-c", "import torch"], check=True)
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--n", type=int, default=40)
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--copies", type=int, default=5, metavar="K",
                    help="set B is K times the non-hanging set A (default 5)")
    ap.add_argument("--class-size", type=int, default=1000, metavar="N",
                    help="also grade a class of N distinct submissions (0: skip)")
    ap.add_argument("--dask", action="store_true",
                    help="also grade all N with --executor dask and compare the scores")
    ap.add_argument("--keep", type=Path, default=None, help="keep the files in this folder")
    args = ap.parse_args()
    work = Path(args.keep or tempfile.mkdtemp(prefix="bench-batch-"))
    if work.exists():
        shutil.rmtree(work)
    allsubs = work / "all"
    kinds = make_set(allsubs, args.n)
    fast, hang = work / "fast", work / "hanging"
    fast.mkdir()
    hang.mkdir()
    for p in allsubs.iterdir():
        shutil.copy(p, (hang if kinds[p.stem] == "hanging" else fast) / p.name)
    n_fast = len(list(fast.iterdir()))
    print(f"{args.n} submissions: " + ", ".join(
        f"{k} {sum(v == k for v in kinds.values())}" for k in KINDS) + f"; jobs={args.jobs}")

    whole, all_results = run_batch(allsubs, work / "out-all", args.jobs)
    torch_s = import_torch_s()
    a_wall, a_results = run_batch(fast, work / "out-a", args.jobs)
    n_b = copies_of(fast, work / "set-b", n_fast * args.copies)
    b_wall, b_results = run_batch(work / "set-b", work / "out-b", args.jobs)
    assert len(b_results) == n_b, f"{len(b_results)} results for {n_b} submissions"
    marginal = (b_wall - a_wall) / (n_b - n_fast)
    startup = a_wall - n_fast * marginal
    compute = own_compute(args.jobs)
    naive_dir = work / "naive"
    naive_dir.mkdir()
    n_wall, n_dur = run_naive([as_py(p, naive_dir) for p in sorted(fast.iterdir())],
                              naive_dir, args.jobs)
    naive_per = n_wall / n_fast
    hanging = [r["duration_s"] for r in all_results if kinds.get(r["submission"]["id"]) == "hanging"]

    print(f"\n{'':46}{'seconds':>10}{'':4}target")
    print(f"{'whole run, all ' + str(args.n) + ' (hanging included)':46}{whole:10.2f}")
    print(f"{'one import torch':46}{torch_s:10.2f}")
    print(f"{'fixed start-up':46}{startup:10.2f}    <= {1.5 * torch_s:.2f} (1.5 imports): "
          f"{_met(startup <= 1.5 * torch_s)} ({startup / torch_s:.2f} imports)")
    print(f"{'marginal per submission (' + f'{n_fast} vs {n_b})':46}{marginal:10.3f}    "
          f"<= 0.050: {_met(marginal <= 0.05)}")
    print(f"{'own compute per submission':46}{compute:10.3f}    (marginal is "
          f"{marginal / compute:.1f}x, {1000 * (marginal - compute):+.0f} ms)")
    print(f"{'naive: fresh pytest per submission':46}{naive_per:10.3f}    (wall / n; one "
          f"alone {statistics.median(n_dur.values()):.2f}; {naive_per / marginal:.0f}x the "
          "marginal cost)")
    if hanging:
        print(f"{'a hanging submission, judge time (median)':46}"
              f"{statistics.median(hanging):10.2f}    (request timeout {_request_timeout():g} s)")
    if args.class_size:
        n_c = copies_of(fast, work / "class", args.class_size)
        c_wall, c_results = run_batch(work / "class", work / "out-class", args.jobs)
        assert len(c_results) == n_c, f"{len(c_results)} results for {n_c} submissions"
        print(f"{'class of ' + str(n_c):46}{c_wall:10.1f}    <= 60 with 2 jobs: "
              f"{_met(c_wall <= 60) if args.jobs == 2 else 'n/a'} ({n_c / c_wall:.1f} subs/s; "
              f"the naive way {n_c * naive_per:.0f} s)")
    scores = {r["submission"]["id"]: r["score"] for r in all_results}
    by_kind: dict[str, list[float]] = {}
    for sid, score in scores.items():
        by_kind.setdefault(kinds.get(sid, "?"), []).append(score)
    print("scores by kind: " + ", ".join(f"{k} {sorted(set(v))}" for k, v in by_kind.items()))
    same = all(r["score"] == scores[r["submission"]["id"]] for r in a_results)
    print(f"set A graded like the whole run: {same}")
    if args.dask:
        compare_dask(allsubs, work, args.jobs, scores)
    print(f"files kept in {work}" if args.keep else "")
    if not args.keep:
        shutil.rmtree(work, ignore_errors=True)


def _met(ok: bool) -> str:
    return "met" if ok else "NOT MET"


def compare_dask(allsubs: Path, work: Path, jobs: int, local: dict[str, float]) -> None:
    """Grade every submission on a Dask LocalCluster and compare scores with the local pool."""
    d_wall, d_results = run_batch(allsubs, work / "out-dask", jobs, executor="dask")
    dask_scores = {r["submission"]["id"]: r["score"] for r in d_results}
    differ = sorted(s for s in local.keys() | dask_scores.keys()
                    if local.get(s) != dask_scores.get(s))
    print(f"dask: {len(dask_scores)} graded in {d_wall:.1f} s wall; scores identical to the "
          f"local pool for {len(local) - len(differ)} of {len(local)}"
          + (f"; DIFFERENT: {', '.join(differ)}" if differ else ""))


def _request_timeout() -> float:
    from grader.api import homework_settings
    from grader.course.manifest import load_course

    course = load_course(ROOT)
    return homework_settings(course, course.homework("hw2"), {}).request_timeout_s


if __name__ == "__main__":
    main()
