"""Similarity between the submissions of one homework: a hint for a person to look, not a verdict.

    from grader.similarity.rank import find_similar
    report = find_similar("hw2", "submissions/", top=10)
    for m in report.files:
        print(f"{m.score:.2f} {m.a} {m.b}")

Each submission is read as the grader reads it (a notebook by its graded module) and
fingerprinted with copydetect: pygments tokens, every name folded to one letter, comments and
whitespace dropped, each k-gram of what is left hashed. Fingerprints of the homework's stub are
the boilerplate, so the given code (signatures, docstrings, imports) counts for nothing, and so
are fingerprints that more than ``max_shared`` submissions have (MOSS's rule, 10 by default:
what many students write alike is how the exercise is solved, not a sign of copying).

A pair's score is the mean of its two shares (JPlag's default): how much of A's own code is
found in B, and how much of B's is found in A. Pairs are ranked per file and per part, where a
part is its function or class plus the top-level helpers it calls. Candidate pairs are found
through the fingerprints they share (no pair without one is compared), so a class of a
thousand costs its fingerprinting, not a million comparisons.
"""

from __future__ import annotations

import hashlib
import tempfile
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field, replace
from itertools import combinations
from pathlib import Path
from typing import Any

from grader.course.lms import Entry, discover
from grader.course.manifest import Homework, load_course
from grader.course.submission import prepare_submission
from grader.errors import SubmissionError, UsageError
from grader.similarity.fingerprint import Folded, K, fold, require_copydetect, stub_hashes, tidy_regions
from grader.version import __version__

__all__ = ["FILE", "HTML_NAME", "JSON_NAME", "NOTE", "SCHEMA", "Compared", "Match",
           "SimilarityReport", "compare_entries", "compare_read", "find_similar", "read_entries",
           "report_key"]

SCHEMA = "grader.similarity/1"
NOTE = ("Similarity is a hint for a person to look, not a verdict of copying: short functions "
        "have few ways to be written, and students who studied together or from the same notes "
        "write alike. Read each pair side by side before drawing any conclusion.")
FILE = "file"
JSON_NAME, HTML_NAME = "similarity.json", "similarity.html"


@dataclass(frozen=True)
class Match:
    """Two submissions that share code in one scope: the whole file or one part."""

    scope: str
    a: str
    b: str
    score: float
    share_a: float
    share_b: float
    shared: int
    """Characters of folded code that the pair has in common."""
    regions_a: tuple[tuple[int, int], ...]
    """Shared regions as character offsets (start, end) in the scope's text of ``a``."""
    regions_b: tuple[tuple[int, int], ...]


@dataclass(frozen=True)
class Compared:
    """One submission as compared: its graded module and the text of each part."""

    id: str
    path: str
    kind: str
    source: str
    parts: dict[str, str]
    folded: Folded = field(repr=False, compare=False)

    def text(self, scope: str) -> str:
        return self.source if scope == FILE else self.parts.get(scope, "")


@dataclass(frozen=True)
class SimilarityReport:
    """The ranked pairs of one homework's submissions."""

    assignment: str
    boilerplate: str
    submissions: tuple[Compared, ...]
    unreadable: tuple[tuple[str, str], ...]
    files: tuple[Match, ...]
    parts: tuple[tuple[str, tuple[Match, ...]], ...]
    top: int
    max_shared: int
    key: str = ""

    def submission(self, student: str) -> Compared:
        return next(c for c in self.submissions if c.id == student)

    def to_dict(self) -> dict[str, Any]:
        """The JSON form (strict JSON: every number is finite)."""
        return {
            "schema": SCHEMA, "assignment": self.assignment, "note": NOTE, "key": self.key,
            "boilerplate": self.boilerplate,
            "settings": {"k": K, "max_shared": self.max_shared, "top": self.top},
            "submissions": [{"id": c.id, "path": c.path, "kind": c.kind}
                            for c in self.submissions],
            "unreadable": [{"id": i, "message": m} for i, m in self.unreadable],
            "files": [self._match_dict(m) for m in self.files],
            "parts": {name: [self._match_dict(m) for m in matches] for name, matches in self.parts},
        }

    def _match_dict(self, m: Match) -> dict[str, Any]:
        data = asdict(m)
        for side in ("a", "b"):
            text = self.submission(getattr(m, side)).text(m.scope)
            data[f"regions_{side}"] = [{"start": s, "end": e, "lines": _lines(text, s, e)}
                                       for s, e in getattr(m, f"regions_{side}")]
        return data


def _lines(text: str, start: int, end: int) -> list[int]:
    """First and last line (1-based) of ``text[start:end]``."""
    return [text.count("\n", 0, start) + 1, text.count("\n", 0, max(start, end - 1)) + 1]


# --------------------------------------------------------------------------------------------
# ranking
# --------------------------------------------------------------------------------------------
def _share(value: Any) -> float:
    number = float(value)
    return round(min(1.0, max(0.0, number)), 4) if number == number else 0.0  # NaN -> 0


def _regions(slices: Any) -> tuple[tuple[int, int], ...]:
    if len(slices) < 2 or len(slices[0]) == 0:
        return ()
    return tuple((int(s), int(e)) for s, e in zip(slices[0], slices[1]) if e > s)


def _match(scope: str, a: str, b: str, fa: Any, fb: Any) -> Match:
    overlap, (sim_a, sim_b), (slices_a, slices_b) = require_copydetect().compare_files(fa, fb)
    share_a, share_b = _share(sim_a), _share(sim_b)
    return Match(scope=scope, a=a, b=b, score=round((share_a + share_b) / 2, 4),
                 share_a=share_a, share_b=share_b, shared=int(overlap),
                 regions_a=_regions(slices_a), regions_b=_regions(slices_b))


def _rank(scope: str, folded: dict[str, Folded], boilerplate: Any, *, top: int,
          max_shared: int) -> tuple[Match, ...]:
    """The ``top`` pairs of one scope (``FILE`` or a part). Pairs are screened by the
    fingerprints they share, less those more than ``max_shared`` submissions have; copydetect
    then scores the best candidates exactly."""
    key = None if scope == FILE else scope
    bp = set(boilerplate.tolist())
    hashes = {sid: folded[sid].hashes(key, bp) for sid in sorted(folded)}
    holders: dict[int, list[str]] = defaultdict(list)
    for sid, found in hashes.items():
        for h in found:
            holders[h].append(sid)
    common = {h for h, ids in holders.items() if len(ids) > max_shared}
    size = {sid: max(1, len(found) - len(found & common)) for sid, found in hashes.items()}
    shared: Counter[tuple[str, str]] = Counter()
    for ids in holders.values():
        if 2 <= len(ids) <= max_shared:
            shared.update(combinations(ids, 2))
    candidates = sorted(shared, key=lambda p: (-shared[p] / size[p[0]] - shared[p] / size[p[1]],
                                               p))[:4 * top + 20]
    drop = common | bp
    prints = {sid: folded[sid].print(key, drop) for sid in {s for pair in candidates for s in pair}}
    matches = [_match(scope, a, b, prints[a], prints[b]) for a, b in candidates]
    matches = [m for m in matches if m.score > 0]
    matches.sort(key=lambda m: (-m.score, -m.shared, m.a, m.b))
    return tuple(replace(m, regions_a=tidy_regions(prints[m.a].raw_code, m.regions_a),
                         regions_b=tidy_regions(prints[m.b].raw_code, m.regions_b))
                 for m in matches[:top])


# --------------------------------------------------------------------------------------------
# the comparison
# --------------------------------------------------------------------------------------------
def _read_one(homework: Homework, entry: Entry) -> Compared | tuple[str, str]:
    try:
        prepared = prepare_submission(entry.path, homework, student_id=entry.student)
    except SubmissionError as err:
        return entry.student, str(err)
    folded = fold(prepared.source, prepared.chunks, [p.name for p in homework.parts])
    return Compared(id=entry.student, path=str(entry.path), kind=prepared.kind,
                    source=folded.text, folded=folded,
                    parts={p: folded.part_text(p) for p in folded.parts})


def read_entries(homework: Homework, entries: Sequence[Entry],
                 ) -> tuple[list[Compared], list[tuple[str, str]]]:
    """Each submission read as the grader reads it and folded, and those that cannot be read
    (with their one-line message)."""
    done = [_read_one(homework, entry) for entry in entries]
    return ([c for c in done if isinstance(c, Compared)],
            [c for c in done if not isinstance(c, Compared)])


def report_key(homework: Homework, compared: Sequence[Compared],
               unreadable: Sequence[tuple[str, str]], top: int, max_shared: int) -> str:
    """What a report depends on (the code compared, the stub, the settings), hashed: a batch
    that finds the same key in its similarity.json does not compare again."""
    digest = hashlib.sha256(repr((__version__, K, top, max_shared,
                                  sorted(unreadable))).encode())
    if homework.stub_path.is_file():
        digest.update(homework.stub_path.read_bytes())
    for c in sorted(compared, key=lambda c: c.id):
        digest.update(f"\0{c.id}\0{c.source}".encode())
    return digest.hexdigest()[:16]


def compare_entries(homework: Homework, entries: Sequence[Entry], *, top: int = 10,
                    max_shared: int = 10) -> SimilarityReport:
    """Rank the pairs of ``entries`` (the students' submissions on disk) per file and per
    part. Unreadable submissions are listed, not compared."""
    compared, unreadable = read_entries(homework, entries)
    return compare_read(homework, compared, unreadable, top=top, max_shared=max_shared)


def compare_read(homework: Homework, compared: Sequence[Compared],
                 unreadable: Sequence[tuple[str, str]], *, top: int,
                 max_shared: int) -> SimilarityReport:
    """Rank the pairs of submissions already read (see ``read_entries``)."""
    if top < 1 or max_shared < 2:
        raise UsageError(f"top must be >= 1 and max_shared >= 2 (got {top} and {max_shared})")
    stub = homework.stub_path
    boilerplate = stub_hashes(stub)
    folded = {c.id: c.folded for c in compared}
    files = _rank(FILE, folded, boilerplate, top=top, max_shared=max_shared)
    parts = []
    for part in homework.parts:
        having = {c.id: c.folded for c in compared if part.name in c.parts}
        parts.append((part.name, _rank(part.name, having, boilerplate, top=top,
                                       max_shared=max_shared)))
    try:
        where = stub.relative_to(homework.root).as_posix()
    except ValueError:
        where = stub.as_posix()
    return SimilarityReport(
        assignment=homework.id, boilerplate=where if stub.is_file() else "",
        submissions=tuple(compared), unreadable=tuple(unreadable), files=files,
        parts=tuple(parts), top=top, max_shared=max_shared,
        key=report_key(homework, compared, unreadable, top, max_shared))


def find_similar(hw_id: str, submissions: str | Path, *, course: str | Path | None = None,
                 top: int = 10, max_shared: int = 10,
                 workdir: str | Path | None = None) -> SimilarityReport:
    """Rank the pairs of the submissions in a folder or an LMS zip (what ``grade batch``
    takes; a zip is unpacked under ``workdir``, else in a temporary folder)."""
    require_copydetect()  # a missing library fails before any work
    homework = load_course(Path(course) if course else None).homework(hw_id)
    with tempfile.TemporaryDirectory(prefix="grade-similarity-") as tmp:
        entries, _ = discover(Path(submissions), Path(workdir) if workdir else Path(tmp))
        return compare_entries(homework, entries, top=top, max_shared=max_shared)
