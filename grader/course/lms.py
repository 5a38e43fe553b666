"""Finding the students' submissions: a folder (one entry per student) or an LMS zip.

- *Canvas* "Download Submissions": flat files named ``<name>_<canvasid>_<subid>_<filename>``
  (``<name>_LATE_<canvasid>_...`` for late ones; Canvas may add ``-1``, ``-2`` to the file
  name of a resubmission). The student id is ``<name>``; a student's files go together, and
  two Canvas ids under one name are refused.
- *Gradescope* "Export Submissions": ``submission_metadata.yml`` at the top and one folder
  ``submission_<id>/`` per submission; the student id is the submitter's ``:sid:`` (or
  e-mail, or name) from the metadata, else ``<id>``.
- Any other zip: its top level (or the single folder it holds) is read like a folder.

Zips are unpacked safely: no absolute paths, no ``..``, no links, bounded size.
"""

from __future__ import annotations

import re
import shutil
import zipfile
from dataclasses import dataclass
from pathlib import Path

from grader.errors import UsageError

__all__ = ["Entry", "discover", "safe_id"]

_SAFE = re.compile(r"[^A-Za-z0-9._@+-]+")
_CANVAS = re.compile(r"^(?P<name>[^_]+?)_(?:LATE_)?(?P<canvasid>\d+)_(?P<subid>\d+)_(?P<file>.+)$")
_SKIP_NAMES = {"__pycache__", "__MACOSX", ".ipynb_checkpoints", "submission_metadata.yml"}


# --------------------------------------------------------------------------------------------
# discovery
# --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Entry:
    """One student's submission on disk."""

    student: str
    path: Path


def safe_id(name: str) -> str:
    """A student id usable as a file name."""
    cleaned = _SAFE.sub("_", name).strip("._") or "student"
    return cleaned[:120]


def _visible(path: Path) -> bool:
    return not path.name.startswith(".") and path.name not in _SKIP_NAMES


def _folder_entries(folder: Path) -> list[Entry]:
    entries = []
    # Every visible entry is a student's: one that is not a .py, a notebook or a folder is
    # recorded as unreadable with its message, never skipped in silence.
    for path in sorted(p for p in folder.iterdir() if _visible(p)):
        entries.append(Entry(safe_id(path.name if path.is_dir() else path.stem), path))
    return entries


def _check_unique(entries: list[Entry], where: Path) -> list[Entry]:
    seen: dict[str, Path] = {}
    for e in entries:
        if e.student in seen:
            raise UsageError(f"{where}: two submissions for student {e.student!r} "
                             f"({seen[e.student].name} and {e.path.name}); keep one")
        seen[e.student] = e.path
    return entries


def _extract(zpath: Path, dest: Path) -> None:
    """Extract a zip safely: no absolute paths, no ``..``, no links, bounded size."""
    try:
        zf = zipfile.ZipFile(zpath)
    except (zipfile.BadZipFile, OSError) as err:
        raise UsageError(f"{zpath}: not a readable zip file ({err})") from None
    total = 0
    with zf:
        for info in zf.infolist():
            name = info.filename.replace("\\", "/")
            parts = [p for p in name.split("/") if p not in ("", ".")]
            if not parts or ".." in parts or name.startswith("/"):
                continue
            if (info.external_attr >> 16) & 0o170000 == 0o120000:  # a symbolic link
                continue
            total += info.file_size
            if total > 4 << 30:
                raise UsageError(f"{zpath}: over 4 GiB uncompressed; unpack it yourself")
            target = dest.joinpath(*parts)
            if info.is_dir():
                target.mkdir(parents=True, exist_ok=True)
                continue
            target.parent.mkdir(parents=True, exist_ok=True)
            with zf.open(info) as src, open(target, "wb") as out:
                shutil.copyfileobj(src, out)


def _gradescope_ids(metadata: Path) -> dict[str, str]:
    """``submission_<id>`` folder -> student id, from Gradescope's submission_metadata.yml.

    Read with a small line parser (no YAML dependency): each top-level key is the folder name
    and the first ``:sid:``, ``:email:`` or ``:name:`` below it names the student.
    """
    ids: dict[str, str] = {}
    current = None
    found: dict[str, str] = {}
    for line in metadata.read_text(encoding="utf-8", errors="replace").splitlines():
        top = re.match(r"^(submission_\w+):\s*$", line)
        if top:
            if current and found:
                ids[current] = found.get("sid") or found.get("email") or found.get("name", "")
            current, found = top.group(1), {}
            continue
        field_ = re.match(r"^\s*-?\s*:(sid|email|name):\s*(.+?)\s*$", line)
        if current and field_ and field_.group(1) not in found:
            value = field_.group(2).strip("'\"")
            if value and value not in ("~", "null"):
                found[field_.group(1)] = value
    if current and found:
        ids[current] = found.get("sid") or found.get("email") or found.get("name", "")
    return ids


def _canvas_entries(root: Path, files: list[Path], source: Path) -> list[Entry]:
    """Canvas's flat files grouped into one folder per student, refusing two students under
    one name (another Canvas id) or two copies of one file, where one would silently win."""
    grouped = root.parent / (root.name + "-by-student")
    shutil.rmtree(grouped, ignore_errors=True)
    owners: dict[str, tuple[str, str]] = {}  # student -> (Canvas id, their first file)
    for p in sorted(files):
        m = _CANVAS.match(p.name)
        assert m
        student = safe_id(m.group("name"))
        canvas_id, first = owners.setdefault(student, (m.group("canvasid"), p.name))
        name = re.sub(r"-\d+(?=\.\w+$)", "", m.group("file"))  # Canvas's resubmission suffix
        dest = grouped / student / name
        if canvas_id != m.group("canvasid") or dest.exists():
            raise UsageError(f"{source}: two submissions for student {student!r} ({first} and "
                             f"{p.name}); keep one")
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(p, dest)
    return _folder_entries(grouped)


def _zip_entries(root: Path, source: Path) -> tuple[list[Entry], str]:
    """Entries of an extracted LMS zip and the layout recognised."""
    meta = next(iter(sorted(root.rglob("submission_metadata.yml"))), None)
    if meta is not None:
        base = meta.parent
        ids = _gradescope_ids(meta)
        entries = []
        for sub in sorted(p for p in base.iterdir()
                          if p.is_dir() and p.name.startswith("submission_")):
            student = ids.get(sub.name) or sub.name[len("submission_"):]
            entries.append(Entry(safe_id(student), sub))
        return entries, "gradescope"
    top = [p for p in root.iterdir() if _visible(p)]
    if len(top) == 1 and top[0].is_dir():
        root = top[0]
        top = [p for p in root.iterdir() if _visible(p)]
    files = [p for p in top if p.is_file()]
    if files and all(_CANVAS.match(p.name) for p in files):
        return _canvas_entries(root, files, source), "canvas"
    return _folder_entries(root), "folder"


def discover(submissions: Path, workdir: Path) -> tuple[list[Entry], str]:
    """The students' submissions in a folder or a zip (unpacked under ``workdir``)."""
    submissions = Path(submissions)
    if not submissions.exists():
        raise UsageError(f"{submissions}: no such file or folder (expected a folder of "
                         "submissions or an LMS zip)")
    if submissions.is_dir():
        entries, layout = _folder_entries(submissions), "folder"
    elif submissions.suffix == ".zip" or zipfile.is_zipfile(submissions):
        dest = workdir / "submissions"
        shutil.rmtree(dest, ignore_errors=True)
        dest.mkdir(parents=True)
        _extract(submissions, dest)
        entries, layout = _zip_entries(dest, submissions)
    else:
        raise UsageError(f"{submissions}: expected a folder of submissions or a .zip")
    if not entries:
        raise UsageError(f"{submissions}: no submissions found (expected one subfolder, .py or "
                         ".ipynb per student)")
    return _check_unique(entries, submissions), layout
