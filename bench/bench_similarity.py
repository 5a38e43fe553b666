"""Benchmark: what ``grade similarity`` (and the similarity step of ``grade batch``) costs a class.

    python bench/bench_similarity.py [--sizes 100 1000]

Builds classes of hw2 submissions by drawing each part's implementation from the
hand-written ones in tests/submissions/similarity (five independent students) and the
reference solution, each made a student's own (names renamed; half the functions get a line
of their own), plus one planted copy (comments added) per 50 students. Prints, per class
size, side by side: the wall and CPU time to read, fold and fingerprint every submission and
rank the pairs per file and per part, the CPU time per submission, and how many planted
copies are among the top pairs.
"""

from __future__ import annotations

import argparse
import ast
import random
import re
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SOURCES = [ROOT / "tests/submissions/similarity" / name for name in
           ("ana.py", "ben/gradients.py", "chloe.py", "dev.py", "emre.py")]
SOURCES.append(ROOT / "solutions/hw2/gradients.py")


def _variants() -> tuple[dict[str, list[str]], list[str]]:
    """Each top-level definition's variants (source text) and the import lines."""
    defs: dict[str, list[str]] = {}
    imports: set[str] = set()
    for path in SOURCES:
        text = path.read_text(encoding="utf-8")
        lines = text.splitlines()
        for node in ast.parse(text).body:
            code = "\n".join(lines[node.lineno - 1:node.end_lineno])
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                imports.add(code)
            elif isinstance(node, ast.FunctionDef):
                defs.setdefault(node.name, []).append(code)
    return defs, sorted(imports)


def _personal(code: str, rng: random.Random) -> str:
    """One student's version of a function: local names renamed (which folding undoes) and,
    half the time, a line of their own (a constant, a check), as real students write."""
    tree = ast.parse(code)
    stores = sorted({n.id for n in ast.walk(tree)
                     if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)})
    for name in stores:
        if rng.random() < 0.5:
            code = re.sub(rf"\b{name}\b", f"{name}_{rng.randrange(100)}", code)
    if rng.random() < 0.5:
        head, _, body = code.partition(":\n")
        line = rng.choice([f"    tol = {rng.uniform(0, 1):.4f}",
                           f"    assert {rng.randrange(2, 99)} > {rng.randrange(0, 2)}",
                           f"    steps = [{rng.randrange(9)}, {rng.randrange(99)}]"])
        code = f"{head}:\n{line}\n{body}"
    return code


def make_class(folder: Path, n: int, seed: int = 0) -> list[tuple[str, str]]:
    """``n`` submissions in ``folder``; the planted (original, copy) pairs."""
    rng = random.Random(seed)
    defs, imports = _variants()
    helpers = {name: codes for name, codes in defs.items() if name.startswith("_")}
    parts = [name for name in defs if not name.startswith("_")]
    texts = []
    for _ in range(n):
        chunks = list(imports) + [code for codes in helpers.values() for code in codes]
        chunks += [_personal(rng.choice(defs[p]), rng) for p in parts]
        texts.append("\n\n\n".join(chunks) + "\n")
    planted = []
    for i in range(0, n - 1, 50):
        j = rng.randrange(i + 1, n)
        texts[j] = texts[i].replace("\n\n\n", "\n\n\n# my own work\n", 3)
        planted.append((f"s{i:04d}", f"s{j:04d}"))
    for i, text in enumerate(texts):
        (folder / f"s{i:04d}.py").write_text(text, encoding="utf-8")
    return planted


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[100, 1000])
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT))
    from grader.similarity.rank import find_similar, require_copydetect

    started = time.perf_counter()
    require_copydetect()
    print(f"import copydetect (once per run): {time.perf_counter() - started:.2f} s")
    print(f"{'class':>6} {'wall s':>8} {'cpu s':>7} {'cpu ms/submission':>18} {'planted in top':>15}")
    for n in args.sizes:
        with tempfile.TemporaryDirectory() as tmp:
            planted = make_class(Path(tmp), n)
            wall, cpu = time.perf_counter(), time.process_time()
            report = find_similar("hw2", tmp, course=ROOT, top=max(10, len(planted) * 2))
            wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
            top = {(m.a, m.b) for m in report.files}
            found = sum(p in top for p in planted)
            print(f"{n:>6} {wall:>8.2f} {cpu:>7.2f} {1000 * cpu / n:>18.1f} "
                  f"{found:>8}/{len(planted)}")
            shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
