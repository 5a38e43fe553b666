"""A submission's fingerprints, whole and per part, with copydetect's tokenizer and winnowing.

The graded module is folded once (copydetect's ``filter_code``: pygments tokens, every name
folded to ``V``, function names to ``F``, strings to ``S``, comments and whitespace dropped),
and the file's and each part's fingerprints are cut from that one folded text, since lexing
is nearly all of the cost. A part is its top-level definition plus every top-level
definition it reaches by name. Fingerprints are all the k-grams (window 1), so they do not
depend on Python's salted string hash.

``Print`` has the attributes of copydetect's ``CodeFingerprint`` that ``compare_files``
reads, so the library scores pairs and finds their shared slices.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from grader.errors import UsageError

__all__ = ["INSTALL_HINT", "K", "Folded", "Print", "fold", "require_copydetect", "stub_hashes",
           "tidy_regions"]

K = 25
"""Length of the hashed k-grams, in characters of folded code (copydetect's noise threshold)."""
INSTALL_HINT = "pip install 'torch-grader[instructor]' (or pip install copydetect)"


def require_copydetect() -> Any:
    """The copydetect module, or a UsageError that says how to install it."""
    try:
        import copydetect
    except ImportError:
        raise UsageError(f"similarity needs copydetect, which is not installed: {INSTALL_HINT}") \
            from None
    return copydetect


@dataclass(frozen=True)
class Print:
    """Fingerprints of one text, shaped like copydetect's ``CodeFingerprint``."""

    raw_code: str
    filtered_code: str
    offsets: Any
    """Rows (folded index, characters removed before it): copydetect's map back to raw_code."""
    hashes: set[Any]
    hash_idx: dict[Any, list[int]]
    k: int
    token_coverage: int


@dataclass(frozen=True)
class Folded:
    """A graded module folded once, and where each top-level statement lies in it."""

    text: str
    filtered: str
    raw_pos: Any
    """For each folded character, and one past the end, its position in ``text``."""
    spans: tuple[tuple[int, int, int, int], ...]
    """Per top-level statement: its characters in ``text`` and in ``filtered``."""
    parts: dict[str, tuple[int, ...]]
    """Each part's statements (indexes into spans), in the order of the text."""

    def part_text(self, part: str) -> str:
        return "".join(self.text[s:e].rstrip("\n") + "\n" for s, e, _, _ in self._spans(part))

    def _spans(self, part: str) -> list[tuple[int, int, int, int]]:
        return [self.spans[i] for i in self.parts.get(part, ())]

    def _scope(self, scope: str | None) -> tuple[str, str, Any]:
        """The raw text, folded text and map back of the whole file or of one part."""
        import numpy as np

        if scope is None:
            return self.text, self.filtered, self.raw_pos
        pieces, positions, at = [], [], 0
        for s, e, fs, fe in self._spans(scope):
            pieces.append(self.filtered[fs:fe])
            positions.append(self.raw_pos[fs:fe] - s + at)
            at += len(self.text[s:e].rstrip("\n")) + 1
        positions.append(np.array([at]))
        return self.part_text(scope), "".join(pieces), np.concatenate(positions)

    def hashes(self, scope: str | None, boilerplate: set[int]) -> set[int]:
        """The fingerprints of the whole text (``scope`` None) or of one part, less the
        boilerplate: enough to find candidate pairs."""
        from copydetect.utils import hashed_kgrams

        return set(hashed_kgrams(self._scope(scope)[1], K).tolist()) - boilerplate

    def print(self, scope: str | None, drop: set[int]) -> Print:
        """Everything copydetect's ``compare_files`` needs, less the hashes in ``drop`` (the
        boilerplate and those too common to tell)."""
        import numpy as np
        from copydetect.utils import get_document_fingerprints, get_token_coverage

        raw, filtered, raw_pos = self._scope(scope)
        hashes, idx = get_document_fingerprints(filtered, K, 1)
        hashes = {h for h in hashes if h not in drop}
        idx = {h: i for h, i in idx.items() if h not in drop}
        index = np.arange(len(raw_pos))
        return Print(raw_code=raw, filtered_code=filtered, k=K, hashes=hashes, hash_idx=idx,
                     offsets=np.stack([index, raw_pos - index], axis=1),
                     token_coverage=int(get_token_coverage(idx, K, len(filtered))))


def _fold_text(text: str) -> tuple[str, Any]:
    """copydetect's folded ``text`` and each folded character's position in ``text``."""
    import numpy as np

    filtered, offsets = require_copydetect().utils.filter_code(text, "submission.py", "python")
    index = np.arange(len(filtered) + 1)
    if len(offsets) == 0:
        return filtered, np.minimum(index, len(text))
    rows = np.clip(np.searchsorted(offsets[:, 0], index), 0, len(offsets) - 1)
    raw_pos = np.maximum.accumulate(index + offsets[rows, 1])  # copydetect's map, kept monotonic
    raw_pos[-1] = len(text)
    return filtered, np.minimum(raw_pos, len(text))


def stub_hashes(path: Path) -> Any:
    """The boilerplate: every fingerprint of the homework's stub (none without a stub)."""
    import numpy as np
    from copydetect.utils import hashed_kgrams

    if not path.is_file():
        return np.array([], dtype=np.int64)
    return np.unique(hashed_kgrams(_fold_text(path.read_text(encoding="utf-8"))[0], K))


def _defined(tree: ast.Module) -> list[str]:
    names = []
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.append(node.name)
        elif isinstance(node, (ast.Assign, ast.AnnAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            names.extend(t.id for t in targets if isinstance(t, ast.Name))
    return names


def _reach(defs: dict[str, tuple[int, set[str]]], part: str) -> tuple[int, ...]:
    """The statements of ``part`` and of every top-level name it reaches (cf. the forbidden
    scan, which walks the same graph)."""
    seen: set[str] = set()
    todo = [part]
    while todo:
        name = todo.pop()
        if name not in seen and name in defs:
            seen.add(name)
            todo.extend(defs[name][1])
    return tuple(sorted({defs[name][0] for name in seen}))


def _trees(text: str, chunks: Sequence[dict[str, Any]]) -> list[ast.Module | None]:
    """Each chunk's syntax tree (None where it does not compile): one parse of the whole
    text when it compiles, since each of its top-level statements is one chunk."""
    try:
        body = ast.parse(text).body
    except (SyntaxError, ValueError, RecursionError):
        body = []
    if len(body) == len(chunks):
        return [ast.Module(body=[node], type_ignores=[]) for node in body]
    trees: list[ast.Module | None] = []
    for chunk in chunks:
        try:
            trees.append(ast.parse(chunk["code"]))
        except (SyntaxError, ValueError, RecursionError):
            trees.append(None)
    return trees


def fold(source: str, chunks: Sequence[dict[str, Any]], parts: Iterable[str]) -> Folded:
    """Fold a graded module (``Prepared.source`` and ``Prepared.chunks``) once. A later
    definition of a name replaces an earlier one, as running the module would; statements
    that do not compile belong to no part (the whole file still counts them)."""
    import numpy as np

    lines = source.splitlines()
    text = "\n".join(lines) + "\n" if lines else ""
    starts = np.cumsum([0] + [len(line) + 1 for line in lines])
    filtered, raw_pos = _fold_text(text)
    spans: list[tuple[int, int, int, int]] = []
    defs: dict[str, tuple[int, set[str]]] = {}
    for chunk, tree in zip(chunks, _trees(text, chunks)):
        if tree is None:
            continue
        start = int(starts[min(chunk["lineno"] - 1, len(lines))])
        end = min(len(text), start + len(chunk["code"]))
        fs, fe = (int(i) for i in np.searchsorted(raw_pos[:-1], [start, end]))
        used = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name)}
        for name in _defined(tree):
            defs[name] = (len(spans), used)
        spans.append((start, end, fs, fe))
    return Folded(text=text, filtered=filtered, raw_pos=raw_pos, spans=tuple(spans),
                  parts={p: r for p in parts if (r := _reach(defs, p))})


# --------------------------------------------------------------------------------------------
# shared regions as a person should see them
# --------------------------------------------------------------------------------------------
def _char_offsets(text: str) -> Any:
    """A function from an AST position (line, UTF-8 byte column) to a character offset."""
    lines = text.splitlines(keepends=True)
    starts = [0]
    for line in lines:
        starts.append(starts[-1] + len(line))

    def offset(lineno: int, col: int) -> int:
        line = lines[lineno - 1] if 0 < lineno <= len(lines) else ""
        return starts[min(lineno - 1, len(lines))] + len(line.encode()[:col].decode(errors="ignore"))

    return offset


def _unshared(text: str) -> list[tuple[int, int]]:
    """Spans never shown as shared: docstrings and comments. copydetect folds a docstring to
    one letter and drops comments, but a shared region around them would cover them."""
    spans = [(m.start(), m.end()) for m in re.finditer(r"#[^\n]*", text)]  # may cut a string
    try:
        tree = ast.parse(text)
    except (SyntaxError, ValueError, RecursionError):
        return spans
    offset = _char_offsets(text)
    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        if not isinstance(body, list) or not body:
            continue
        first = body[0]
        if (isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant)
                and isinstance(first.value.value, str) and first.end_lineno is not None):
            spans.append((offset(first.lineno, first.col_offset),
                          offset(first.end_lineno, first.end_col_offset or 0)))
    return spans


def tidy_regions(text: str, regions: Sequence[tuple[int, int]]) -> tuple[tuple[int, int], ...]:
    """Shared regions widened to whole words (copydetect's map back from folded code lands
    a few characters off), less docstrings, comments and blank edges."""
    marked = bytearray(len(text) + 1)
    for start, end in regions:
        start, end = min(max(0, start), len(text)), min(max(0, end), len(text))
        if end <= start:
            continue
        while start > 0 and (text[start - 1].isalnum() or text[start - 1] == "_"):
            start -= 1
        while end < len(text) and (text[end].isalnum() or text[end] == "_"):
            end += 1
        marked[start:end] = b"\1" * (end - start)
    for start, end in _unshared(text):
        marked[start:end] = b"\0" * (end - start)
    out = []
    for m in re.finditer(b"\1+", bytes(marked)):
        start, end = m.span()
        while start < end and text[start].isspace():
            start += 1
        while end > start and text[end - 1].isspace():
            end -= 1
        if end > start:
            out.append((start, end))
    return tuple(out)
