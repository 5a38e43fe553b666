"""The architecture, held against the code: the trust boundary and the layers (the
import-linter contracts of pyproject.toml, as `make lint` runs them), no circle of imports
between modules (lazy and TYPE_CHECKING imports included), and no module that reads its
version from the package root."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import grimp
import pytest

ROOT = Path(__file__).resolve().parents[1]


def test_the_import_contracts_hold() -> None:
    lint = Path(sys.executable).parent / "lint-imports"
    if not lint.exists():
        pytest.skip("import-linter is not installed (pip install import-linter)")
    proc = subprocess.run([str(lint), "--no-cache"], cwd=ROOT, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-2000:]
    assert "0 broken" in proc.stdout


def _cycles(graph: grimp.ImportGraph) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan)."""
    modules = sorted(m for m in graph.modules if m.startswith("grader"))
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in sorted(graph.find_modules_directly_imported_by(node)):
            if not nxt.startswith("grader"):
                continue
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                top = stack.pop()
                on_stack.discard(top)
                component.append(top)
                if top == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    sys.setrecursionlimit(10_000)
    for module in modules:
        if module not in index:
            visit(module)
    return found


def test_no_module_imports_another_that_imports_it_back() -> None:
    graph = grimp.build_graph("grader", include_external_packages=False)
    assert _cycles(graph) == []


def test_a_planted_circle_is_found() -> None:
    """The check itself can fail: a graph with a circle of two modules."""
    graph = grimp.ImportGraph()
    for name in ("grader.a", "grader.b", "grader.c"):
        graph.add_module(name)
    graph.add_import(importer="grader.a", imported="grader.b")
    graph.add_import(importer="grader.b", imported="grader.a")
    graph.add_import(importer="grader.c", imported="grader.a")
    assert _cycles(graph) == [["grader.a", "grader.b"]]


def test_no_module_reads_its_version_from_the_package_root() -> None:
    """``import grader`` in a module of grader imports the package root, which imports the
    public API lazily: a cycle in waiting. The version lives in grader.version."""
    import ast

    offenders = []
    for path in sorted((ROOT / "grader").rglob("*.py")):
        if path.name == "__init__.py":
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import) and any(a.name == "grader" for a in node.names) or \
                    isinstance(node, ast.ImportFrom) and node.module == "grader" and \
                    any(a.name == "__version__" for a in node.names):
                offenders.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert offenders == []


def test_a_broken_contract_fails_the_lint(tmp_path: Path) -> None:
    """The contracts are checked, not just read: one the code breaks (the judge does import
    the wire) makes lint-imports fail."""
    lint = Path(sys.executable).parent / "lint-imports"
    if not lint.exists():
        pytest.skip("import-linter is not installed (pip install import-linter)")
    config = tmp_path / "broken.toml"
    config.write_text('[tool.importlinter]\nroot_package = "grader"\n\n'
                      '[[tool.importlinter.contracts]]\nname = "planted"\ntype = "forbidden"\n'
                      'source_modules = ["grader.judge"]\nforbidden_modules = ["grader.wire"]\n')
    proc = subprocess.run([str(lint), "--no-cache", "--config", str(config)], cwd=ROOT,
                          capture_output=True, text=True)
    assert proc.returncode != 0 and "BROKEN" in proc.stdout
