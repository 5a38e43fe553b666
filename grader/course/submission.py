"""Turning a submission (a ``.py`` file, a folder or a notebook) into the module the executor runs.

The judge never imports a submission: it reads the text, splits it into top-level chunks the
executor runs one by one (so a chunk that fails to compile or raises costs only the names it
defines), and for notebooks leaves out top-level code that is not an import, a definition or
a literal constant, listing what it left out.
"""

from __future__ import annotations

import ast
import hashlib
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from grader.course.manifest import Homework
from grader.errors import SubmissionError

__all__ = ["Prepared", "is_check_call", "prepare_submission", "split_chunks"]

MAX_BYTES = 2 << 20
_DEF = re.compile(r"^(?:async\s+def|def|class)\s+([A-Za-z_]\w*)", re.M)
_CHUNK_START = re.compile(r"^(?:@|def\s|async\s+def\s|class\s|import\s|from\s|[A-Za-z_]\w*\s*[:=(\[.])")


@dataclass(frozen=True)
class Prepared:
    """A submission ready for the executor."""

    id: str
    path: str
    sha256: str
    kind: str
    filename: str
    module: str
    source: str
    chunks: tuple[dict[str, Any], ...]
    syntax_errors: tuple[dict[str, Any], ...] = ()
    left_out: tuple[str, ...] = ()

    def executor_spec(self) -> dict[str, Any]:
        return {"filename": self.filename, "module": self.module, "source": self.source,
                "chunks": list(self.chunks)}

    def failed_names(self) -> dict[str, dict[str, Any]]:
        """Names whose definition did not compile, with the error that hid them."""
        return {name: err for err in self.syntax_errors for name in err["defines"]}


def _statement_chunks(tree: ast.Module, lines: list[str]) -> list[dict[str, Any]]:
    chunks = []
    for node in tree.body:
        start = min([node.lineno, *(d.lineno for d in getattr(node, "decorator_list", []))])
        end = node.end_lineno or node.lineno
        defines = [node.name] if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef,
                                                   ast.ClassDef)) else []
        chunks.append({"lineno": start, "code": "\n".join(lines[start - 1:end]) + "\n",
                       "defines": defines})
    return chunks


def split_chunks(source: str) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Top-level statements to run one by one, and the pieces that do not compile.

    A file with a syntax error is cut at lines that start a top-level statement; each piece is
    compiled alone, so one broken function does not hide the others.
    """
    lines = source.splitlines()
    try:
        return _statement_chunks(ast.parse(source), lines), []
    except (SyntaxError, ValueError):
        pass
    starts = [i for i, line in enumerate(lines) if _CHUNK_START.match(line)]
    if not starts or starts[0] != 0:
        starts.insert(0, 0)
    chunks, errors = [], []
    for a, b in zip(starts, [*starts[1:], len(lines)]):
        text = "\n".join(lines[a:b]) + "\n"
        defines = _DEF.findall(text)
        try:
            ast.parse(text)
        except (SyntaxError, ValueError) as err:
            lineno = a + (getattr(err, "lineno", None) or 1)
            errors.append({"lineno": lineno, "message": f"{type(err).__name__}: "
                           f"{getattr(err, 'msg', str(err))} (line {lineno})", "defines": defines})
            continue
        if text.strip():
            chunks.append({"lineno": a + 1, "code": text, "defines": defines})
    return chunks, errors


def _read_text(path: Path) -> tuple[bytes, str]:
    try:
        data = path.read_bytes()
    except OSError as err:
        raise SubmissionError(f"{path}: cannot be read ({err.strerror})") from None
    if len(data) > MAX_BYTES:
        raise SubmissionError(f"{path}: {len(data)} bytes, over the limit of {MAX_BYTES} bytes "
                              "for a submission file")
    if not data.strip():
        raise SubmissionError(f"{path}: the file is empty; expected Python code defining the "
                              "homework's functions")
    if b"\x00" in data:
        raise SubmissionError(f"{path}: a binary file; expected Python source (.py) or a Jupyter notebook (.ipynb)")
    try:
        return data, data.decode("utf-8")
    except UnicodeDecodeError as err:
        raise SubmissionError(f"{path}: not UTF-8 text (byte {err.start}); save the file as "
                              "UTF-8") from None


def _is_constant(node: ast.expr) -> bool:
    try:
        ast.literal_eval(node)
        return True
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        return False


def is_check_call(node: ast.stmt) -> bool:
    """A ``check("hwN")`` (or ``grader.check(...)``) statement: how a notebook grades itself,
    never part of the graded module and not worth listing as left out."""
    value = getattr(node, "value", None)
    if not isinstance(node, (ast.Expr, ast.Assign, ast.AnnAssign)) or \
            not isinstance(value, ast.Call):
        return False
    func = value.func
    return (isinstance(func, ast.Name) and func.id == "check") or \
        (isinstance(func, ast.Attribute) and func.attr == "check")


def _keep_in_notebook(node: ast.stmt) -> bool:
    if isinstance(node, (ast.Import, ast.ImportFrom, ast.FunctionDef, ast.AsyncFunctionDef,
                         ast.ClassDef)):
        return True
    if isinstance(node, (ast.Assign, ast.AnnAssign)) and node.value is not None:
        return _is_constant(node.value)
    return False


_KIND = {ast.For: "a for loop", ast.While: "a while loop", ast.Expr: "an expression",
         ast.Assign: "an assignment of a computed value", ast.If: "an if block",
         ast.With: "a with block", ast.Try: "a try block", ast.AugAssign: "an assignment"}


def _notebook_source(path: Path, text: str) -> tuple[str, list[str]]:
    import nbformat

    try:
        version = json.loads(text).get("nbformat")
    except (ValueError, AttributeError, RecursionError):
        raise SubmissionError(f"{path}: not a valid notebook (the JSON is invalid or truncated); "
                              "expected a notebook saved by Jupyter (nbformat 4)") from None
    if not isinstance(version, int) or version < 3:
        raise SubmissionError(f"{path}: notebook format {version!r} is too old; open and save it "
                              "in Jupyter (format 4) and submit again")
    try:
        nb = nbformat.reads(text, as_version=4)
    except Exception as err:  # nbformat raises several unrelated types
        raise SubmissionError(f"{path}: not a valid notebook ({type(err).__name__})") from None
    out: list[str] = []
    left_out: list[str] = []
    for index, cell in enumerate(nb.cells, start=1):
        if cell.get("cell_type") != "code":
            continue
        lines = [ln for ln in str(cell.source).splitlines()
                 if not ln.lstrip().startswith(("%", "!")) and "get_ipython()" not in ln]
        code = "\n".join(lines)
        try:
            tree = ast.parse(code)
        except SyntaxError:
            out.append(f"# cell {index}\n{code}\n")  # reported by the loader, chunk by chunk
            continue
        kept = []
        for node in tree.body:
            if is_check_call(node):
                continue
            if _keep_in_notebook(node):
                start = min([node.lineno, *(d.lineno for d in getattr(node, "decorator_list", []))])
                kept.append("\n".join(lines[start - 1:node.end_lineno]))
            else:
                kind = _KIND.get(type(node), "a statement")
                left_out.append(f"cell {index}, line {node.lineno}: {kind} at top level")
        if kept:
            out.append(f"# cell {index}\n" + "\n".join(kept) + "\n")
    return "\n".join(out), left_out


def _pick_file(folder: Path, hw: Homework) -> Path:
    stem = Path(hw.file).stem
    names = [hw.file, f"{stem}.ipynb", f"{hw.id}.ipynb"]
    places = [folder, folder / hw.id, folder / "assignments" / hw.id]
    found = [p / n for p in places for n in names if (p / n).is_file() or (p / n).is_symlink()]
    if len(found) > 1:
        listed = ", ".join(str(f.relative_to(folder)) for f in found)
        raise SubmissionError(f"{folder}: two candidate files ({listed}); "
                              f"keep only one {hw.file} or notebook")
    if found:
        return found[0]
    loose = sorted(p for p in folder.iterdir() if p.suffix in (".py", ".ipynb") and p.is_file())
    if len(loose) == 1:
        return loose[0]
    if len(loose) > 1:
        raise SubmissionError(f"{folder}: no {hw.file}, and {len(loose)} other candidate files "
                              f"({', '.join(p.name for p in loose[:5])}); name one {hw.file}")
    raise SubmissionError(f"{folder}: no {hw.file} (expected the file of {hw.id}, or a notebook)")


def _inside(path: Path, root: Path) -> bool:
    try:
        path.resolve().relative_to(root.resolve())
        return True
    except ValueError:
        return False


def prepare_submission(path: Path, hw: Homework, *, student_id: str | None = None) -> Prepared:
    """Read a submission and make it ready for the executor, or raise SubmissionError
    (with a one-line message that names the file and what was expected)."""
    try:
        return _prepare(Path(path), hw, student_id)
    except SubmissionError as err:
        raise SubmissionError(" ".join(str(err).split())) from None
    except (OSError, RecursionError, MemoryError) as err:  # a folder that cannot be listed ...
        raise SubmissionError(f"{path}: cannot be read ({type(err).__name__}: "
                              f"{' '.join(str(err).split())[:200]})") from None


def _prepare(path: Path, hw: Homework, student_id: str | None) -> Prepared:
    if not path.exists() and not path.is_symlink():
        raise SubmissionError(f"{path}: no such file or folder")
    root = path if path.is_dir() else path.parent
    target = _pick_file(path, hw) if path.is_dir() else path
    if target.is_symlink() and not _inside(target, root):
        raise SubmissionError(f"{target}: a symbolic link pointing outside the submission")
    if not target.exists():
        raise SubmissionError(f"{target}: a broken symbolic link")
    if target.suffix not in (".py", ".ipynb"):
        raise SubmissionError(f"{target}: expected a .py file, a .ipynb notebook or a folder")
    data, text = _read_text(target)
    left_out: list[str] = []
    kind = "py"
    if target.suffix == ".ipynb":
        kind = "ipynb"
        text, left_out = _notebook_source(target, text)
    chunks, errors = split_chunks(text)
    return Prepared(
        id=student_id or (path.stem if path.is_file() else path.name),
        path=str(path), sha256=hashlib.sha256(data).hexdigest(), kind=kind,
        filename=hw.file, module=hw.module_name, source=text, chunks=tuple(chunks),
        syntax_errors=tuple(errors), left_out=tuple(left_out))

