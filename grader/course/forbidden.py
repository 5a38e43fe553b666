"""Early warnings of forbidden APIs in a submission's source (AST, in the judge).

The scan only warns: the executor's recorders decide at run time (``grader.executor.recorder``),
since a name in the source may never run and a route around every name leaves none. A warning
names a forbidden Python name that the source reaches through its imports and that resolves to
a real object (``F.softmax`` after ``import torch.nn.functional as F`` is
``torch.nn.functional.softmax``); a method call alone (``layer.backward(...)``) never warns,
since the receiver may be the student's own object.

A part's code is its function or class plus every top-level function it calls by name,
transitively. Patterns are the Python names of the part's list, with shell wildcards
(``torch.autograd.*``); ATen and autograd patterns are for the run time only.
"""

from __future__ import annotations

import ast
import fnmatch
from collections.abc import Iterable
from dataclasses import dataclass

from grader.wire.rules import kind_of, resolve

__all__ = ["SourceHit", "scan_forbidden"]


@dataclass(frozen=True)
class SourceHit:
    """A forbidden Python name in a part's source, at a line of the submission."""

    name: str
    line: int

_GRAD_MODE = {"no_grad", "enable_grad", "set_grad_enabled", "inference_mode"}


class _Walks:
    """Every node under each top-level definition, listed once: parts share helpers, and
    walking the same trees again for each part was most of the scan's time."""

    def __init__(self) -> None:
        self.cache: dict[int, list[ast.AST]] = {}

    def __call__(self, node: ast.AST) -> list[ast.AST]:
        found = self.cache.get(id(node))
        if found is None:
            found = self.cache[id(node)] = list(ast.walk(node))
        return found


def _aliases(nodes: Iterable[ast.AST], walk: _Walks) -> dict[str, str]:
    names: dict[str, str] = {}
    for node in nodes:
        for sub in walk(node):
            if isinstance(sub, ast.Import):
                for alias in sub.names:
                    if alias.asname:
                        names[alias.asname] = alias.name
                    else:
                        root = alias.name.split(".")[0]
                        names[root] = root
            elif isinstance(sub, ast.ImportFrom) and sub.module and not sub.level:
                for alias in sub.names:
                    names[alias.asname or alias.name] = f"{sub.module}.{alias.name}"
    return names


def _dotted(node: ast.AST, aliases: dict[str, str]) -> str | None:
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name) and node.id in aliases:
        return ".".join([aliases[node.id], *reversed(parts)])
    return None


def _matches(name: str, patterns: list[str]) -> str | None:
    if name.rsplit(".", 1)[-1] in _GRAD_MODE:
        return None
    for pattern in patterns:
        if fnmatch.fnmatchcase(name, pattern):
            return pattern
        if pattern.endswith(".*") and name == pattern[:-2]:
            return pattern
    return None


def _top_level(tree: ast.Module) -> dict[str, ast.AST]:
    found: dict[str, ast.AST] = {}
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            found[node.name] = node
        elif isinstance(node, ast.Assign):
            for target in node.targets:
                if isinstance(target, ast.Name):
                    found[target.id] = node
    return found


def _reachable(start: str, defs: dict[str, ast.AST], walk: _Walks) -> list[ast.AST]:
    seen: set[str] = set()
    todo = [start]
    nodes = []
    while todo:
        name = todo.pop()
        if name in seen or name not in defs:
            continue
        seen.add(name)
        nodes.append(defs[name])
        for sub in walk(defs[name]):
            if isinstance(sub, ast.Name) and sub.id in defs:
                todo.append(sub.id)
    return nodes


def _scan_nodes(nodes: list[ast.AST], aliases: dict[str, str], patterns: list[str],
                walk: _Walks) -> list[SourceHit]:
    hits: list[SourceHit] = []
    for node in nodes:
        # Only whole dotted chains: `torch.autograd` inside `torch.autograd.no_grad` is no hit.
        subs = walk(node)
        inner = {id(sub.value) for sub in subs if isinstance(sub, ast.Attribute)}
        for sub in subs:
            if isinstance(sub, (ast.Attribute, ast.Name)) and id(sub) not in inner:
                name = _dotted(sub, aliases)
                if name and _matches(name, patterns) and all(h.name != name for h in hits) \
                        and resolve(name) is not None:
                    hits.append(SourceHit(name, getattr(sub, "lineno", 0)))
    return sorted(hits, key=lambda h: (h.line, h.name))


def scan_forbidden(source: str, parts: dict[str, list[str]]) -> dict[str, list[SourceHit]]:
    """For each part with forbidden Python names, those its code reaches through imports.

    ``parts`` maps a part's name to its forbidden list (ATen and autograd patterns are
    ignored here). A source that does not parse yields nothing: the loader reports it.
    """
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError):
        return {}
    defs = _top_level(tree)
    walk = _Walks()
    module_aliases = _aliases((n for n in tree.body if isinstance(n, (ast.Import, ast.ImportFrom))),
                              walk)
    found: dict[str, list[SourceHit]] = {}
    for part, patterns in parts.items():
        python = [p for p in patterns if kind_of(p) == "python"]
        if not python or part not in defs:
            continue
        nodes = _reachable(part, defs, walk)
        aliases = {**module_aliases, **_aliases(nodes, walk)}
        hits = _scan_nodes(nodes, aliases, python, walk)
        if hits:
            found[part] = hits
    return found
