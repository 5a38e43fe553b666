"""Mutants as overlays: a mutant is the solution with a few definitions replaced.

A mutant file (``reference_tests/hwN/mutants/NAME.py``) holds its header, the part it breaks
and the bug it plants::

    # part: rnn_cell
    # bug: sigmoid where the cell takes tanh

    def rnn_cell(x, h, w_ih, w_hh):
        return torch.sigmoid(x @ w_ih.T + h @ w_hh.T)

then only the definitions it replaces (several, for a bug in a helper that two parts call).
``overlay`` puts each in place of the solution's definition of the same name; the rest of the
solution (its imports, helpers, other parts) is the mutant's too. A mutant that defines a name
the solution lacks, or holds anything but definitions (and a docstring), is refused with the
file and the line, so a mutant cannot drift from the solution it claims to break.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from pathlib import Path

from grader.errors import ConfigError

__all__ = ["Mutant", "overlay", "read_mutant", "write_overlay"]

_HEADER = re.compile(r"^#\s*(part|bug):\s*(.+?)\s*$", re.M)
_DEFINITION = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)


@dataclass(frozen=True)
class Mutant:
    """One mutant: the part it breaks, its bug, and the definitions it replaces (by name)."""

    path: Path
    part: str
    bug: str
    definitions: dict[str, str]

    @property
    def name(self) -> str:
        return self.path.stem


def _segments(tree: ast.Module, text: str) -> dict[str, tuple[int, int, str]]:
    """Each top-level definition's name -> (first line, last line, source), decorators
    included; lines counted from 1."""
    lines = text.splitlines()
    out = {}
    for node in tree.body:
        if isinstance(node, _DEFINITION):
            start = min([node.lineno, *(d.lineno for d in node.decorator_list)])
            end = node.end_lineno or node.lineno
            out[node.name] = (start, end, "\n".join(lines[start - 1:end]))
    return out


def _parse(path: Path, text: str) -> ast.Module:
    try:
        return ast.parse(text)
    except SyntaxError as err:
        raise ConfigError(f"{path}:{err.lineno}: the mutant does not parse ({err.msg})") from None


def read_mutant(path: Path, solution: str) -> Mutant:
    """Read and check a mutant against the solution's source; ConfigError when it is not an
    overlay of it."""
    text = path.read_text(encoding="utf-8")
    header = dict(_HEADER.findall(text))
    if "part" not in header:
        raise ConfigError(f"{path}: a mutant must name the part it breaks on a line "
                          "`# part: NAME` (and its bug on `# bug: ...`)")
    tree = _parse(path, text)
    for i, node in enumerate(tree.body):
        docstring = i == 0 and isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant)
        if not (isinstance(node, _DEFINITION) or docstring):
            raise ConfigError(f"{path}:{node.lineno}: a mutant holds only the definitions it "
                              f"replaces in the solution; this is {type(node).__name__} code "
                              "(its imports and helpers come from the solution)")
    known = _segments(_parse(path, solution), solution)
    definitions = {name: source for name, (_, _, source) in _segments(tree, text).items()}
    if not definitions:
        raise ConfigError(f"{path}: the mutant replaces no definition of the solution")
    unknown = sorted(set(definitions) - set(known))
    if unknown:
        raise ConfigError(f"{path}: the mutant defines {', '.join(unknown)}, which the solution "
                          f"does not (it defines {', '.join(sorted(known))})")
    return Mutant(path=path, part=header["part"], bug=header.get("bug", ""),
                  definitions=definitions)


def overlay(solution: str, mutant: Mutant) -> str:
    """The solution's source with the mutant's definitions in place of its own."""
    segments = _segments(ast.parse(solution), solution)
    lines = solution.splitlines()
    for name in sorted(mutant.definitions, key=lambda n: segments[n][0], reverse=True):
        start, end, _ = segments[name]
        lines[start - 1:end] = mutant.definitions[name].splitlines()
    return "\n".join(lines) + "\n"


def write_overlay(path: Path, solution: str, target: Path) -> Mutant:
    """Read the overlay at ``path`` against ``solution`` (its source), write the solution with
    the overlay's definitions in place to ``target`` (its folder made), and return it."""
    mutant = read_mutant(path, solution)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(overlay(solution, mutant), encoding="utf-8")
    return mutant
