"""grader.course.lms: the layouts students' submissions arrive in (a plain folder, Canvas's
flat files, Gradescope's export, any zip with one top folder), zips unpacked without leaving
their folder, and one submission per student."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest

from grader.course.lms import discover, safe_id
from grader.errors import UsageError


def _zip(path: Path, files: dict[str, str], links: dict[str, str] | None = None) -> Path:
    with zipfile.ZipFile(path, "w") as zf:
        for name, text in files.items():
            zf.writestr(name, text)
        for name, target in (links or {}).items():
            info = zipfile.ZipInfo(name)
            info.external_attr = 0o120777 << 16  # a symbolic link, as zip -y stores one
            zf.writestr(info, target)
    return path


def _files(entry_path: Path) -> dict[str, str]:
    """{relative path: text} of one student's submission folder."""
    return {p.relative_to(entry_path).as_posix(): p.read_text()
            for p in sorted(entry_path.rglob("*")) if p.is_file()}


def _found(source: Path, workdir: Path) -> tuple[dict[str, dict[str, str]], str]:
    entries, layout = discover(source, workdir)
    return {e.student: _files(e.path) if e.path.is_dir() else {e.path.name: e.path.read_text()}
            for e in entries}, layout


# -- Canvas ---------------------------------------------------------------------------------------

def test_canvas_files_are_grouped_by_student_without_late_and_resubmission_marks(tmp_path):
    source = _zip(tmp_path / "submissions.zip", {
        "smithjohn_12345_67890_gradients.py": "john",
        "smithjohn_12345_67890_notes.md": "john's notes",
        "doejane_LATE_22222_33333_gradients-1.py": "jane, late, second try",
        "leeann_44444_55555_my_grad_helpers-2.py": "ann",
        "leeann_44444_55555_hw2.ipynb": "{}",
    })
    found, layout = _found(source, tmp_path / "work")
    assert layout == "canvas"
    assert found == {"doejane": {"gradients.py": "jane, late, second try"},
                     "leeann": {"hw2.ipynb": "{}", "my_grad_helpers.py": "ann"},
                     "smithjohn": {"gradients.py": "john", "notes.md": "john's notes"}}


def test_canvas_files_inside_one_top_folder(tmp_path):
    source = _zip(tmp_path / "submissions.zip", {
        "hw2 submissions/smithjohn_12345_67890_gradients.py": "john",
        "__MACOSX/._smithjohn_12345_67890_gradients.py": "resource fork",
    })
    found, layout = _found(source, tmp_path / "work")
    assert (layout, found) == ("canvas", {"smithjohn": {"gradients.py": "john"}})


def test_two_canvas_students_under_one_name_are_refused_not_merged(tmp_path):
    """Canvas names are last+first, not unique: another Canvas id under the same name is a
    second student, whose file would silently replace the first's."""
    source = _zip(tmp_path / "submissions.zip", {
        "smithjohn_111_1_gradients.py": "the first John Smith",
        "smithjohn_222_2_gradients.py": "the second John Smith",
    })
    with pytest.raises(UsageError) as info:
        discover(source, tmp_path / "work")
    assert str(info.value) == (f"{source}: two submissions for student 'smithjohn' "
                               "(smithjohn_111_1_gradients.py and smithjohn_222_2_gradients.py); "
                               "keep one")


def test_a_canvas_file_and_its_resubmission_are_refused_not_picked_by_chance(tmp_path):
    source = _zip(tmp_path / "submissions.zip", {
        "smithjohn_111_1_gradients.py": "first try",
        "smithjohn_111_2_gradients-1.py": "second try",
    })
    with pytest.raises(UsageError, match="two submissions for student 'smithjohn'"):
        discover(source, tmp_path / "work")


def test_a_zip_with_a_file_canvas_did_not_name_is_read_as_a_folder(tmp_path):
    source = _zip(tmp_path / "class.zip", {"smithjohn_12345_67890_gradients.py": "john",
                                           "readme.txt": "instructions"})
    found, layout = _found(source, tmp_path / "work")
    assert layout == "folder"
    assert sorted(found) == ["readme", "smithjohn_12345_67890_gradients"]


# -- Gradescope -----------------------------------------------------------------------------------

METADATA = """\
submission_222:
  :submitters:
  - :name: Bo Chan
    :sid: ~
    :email: "bo@u.edu"
submission_333:
  :submitters:
  - :name: Cy Diaz
submission_444:
  :score: 3.0
submission_555:
  :submitters:
  - :name: Dee Fox
    :sid: '2001'
  - :name: Eve Gray
    :sid: '2002'
submission_111:
  :submitters:
  - :name: Ann Lee
    :sid: '1001'
    :email: ann@u.edu
  :created_at: 2026-01-01
"""


def test_gradescope_ids_come_from_the_metadata_sid_then_email_then_name(tmp_path):
    """A group's submission goes under its first submitter; ``~`` is no value; a submission
    whose metadata names no one keeps its number."""
    source = _zip(tmp_path / "export.zip", {
        "assignment_9_export/submission_metadata.yml": METADATA,
        "assignment_9_export/submission_111/gradients.py": "ann",
        "assignment_9_export/submission_222/hw2.ipynb": "{}",
        "assignment_9_export/submission_333/gradients.py": "cy",
        "assignment_9_export/submission_444/gradients.py": "nobody named",
        "assignment_9_export/submission_555/gradients.py": "a group's, under its first member",
        "assignment_9_export/other_folder/gradients.py": "not a submission",
    })
    found, layout = _found(source, tmp_path / "work")
    assert layout == "gradescope"
    assert found == {"1001": {"gradients.py": "ann"}, "bo@u.edu": {"hw2.ipynb": "{}"},
                     "Cy_Diaz": {"gradients.py": "cy"}, "444": {"gradients.py": "nobody named"},
                     "2001": {"gradients.py": "a group's, under its first member"}}


def test_two_gradescope_submissions_of_one_student_are_refused(tmp_path):
    meta = ("submission_1:\n  :submitters:\n  - :sid: '7'\n"
            "submission_2:\n  :submitters:\n  - :sid: '7'\n")
    source = _zip(tmp_path / "export.zip", {"submission_metadata.yml": meta,
                                            "submission_1/gradients.py": "a",
                                            "submission_2/gradients.py": "b"})
    with pytest.raises(UsageError, match=r"two submissions for student '7' \(submission_1 and "
                                         r"submission_2\); keep one"):
        discover(source, tmp_path / "work")


# -- plain folders and zips -----------------------------------------------------------------------

def test_a_zip_with_one_top_folder_is_read_like_that_folder(tmp_path):
    source = _zip(tmp_path / "class.zip", {"hw2/ann.py": "ann", "hw2/bo/gradients.py": "bo",
                                           "hw2/.DS_Store": "", "__MACOSX/hw2/._ann.py": ""})
    found, layout = _found(source, tmp_path / "work")
    assert (layout, found) == ("folder", {"ann": {"ann.py": "ann"},
                                          "bo": {"gradients.py": "bo"}})


def test_a_folder_of_files_and_subfolders(tmp_path):
    subs = tmp_path / "subs"
    (subs / "bo" / "__pycache__").mkdir(parents=True)
    (subs / "bo" / "gradients.py").write_text("bo")
    (subs / "ann.py").write_text("ann")
    (subs / "__pycache__").mkdir()
    (subs / ".ipynb_checkpoints").mkdir()
    entries, layout = discover(subs, tmp_path / "work")
    assert layout == "folder"
    assert [(e.student, e.path) for e in entries] == [("ann", subs / "ann.py"),
                                                      ("bo", subs / "bo")]
    assert not (tmp_path / "work").exists()  # a folder is read where it is


def test_a_student_in_a_folder_twice_is_refused(tmp_path):
    subs = tmp_path / "subs"
    (subs / "ann").mkdir(parents=True)
    (subs / "ann.py").write_text("x")
    with pytest.raises(UsageError) as info:
        discover(subs, tmp_path / "work")
    assert str(info.value) == (f"{subs}: two submissions for student 'ann' (ann and ann.py); "
                               "keep one")


# -- unsafe zips ----------------------------------------------------------------------------------

def test_unsafe_entries_are_never_written_outside_the_zips_folder(tmp_path):
    work = tmp_path / "a" / "b" / "work"
    outside = tmp_path / "outside.py"
    source = _zip(tmp_path / "class.zip", {
        "ann.py": "ann",
        "../evil_up.py": "up",
        "bo/../../evil_back.py": "back",
        "..\\evil_windows.py": "windows",
        str(outside): "absolute",
        "./cy.py": "cy",
    }, links={"dee.py": str(outside), "eve/gradients.py": "/etc/passwd"})
    found, _ = _found(source, work)
    assert found == {"ann": {"ann.py": "ann"}, "cy": {"cy.py": "cy"}}
    written = sorted(p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*")
                     if p.is_file() or p.is_symlink())
    assert written == ["a/b/work/submissions/ann.py", "a/b/work/submissions/cy.py", "class.zip"]


def test_a_zip_is_unpacked_afresh_each_time(tmp_path):
    work = tmp_path / "work"
    _found(_zip(tmp_path / "one.zip", {"ann.py": "ann"}), work)
    found, _ = _found(_zip(tmp_path / "two.zip", {"bo.py": "bo"}), work)
    assert found == {"bo": {"bo.py": "bo"}}


@pytest.mark.parametrize(("name", "content", "words"), [
    ("broken.zip", b"PK\x03\x04 not really", "not a readable zip file"),
    ("notes.txt", b"hello", "expected a folder of submissions or a .zip"),
])
def test_a_file_that_is_no_zip_is_one_usage_error(tmp_path, name, content, words):
    source = tmp_path / name
    source.write_bytes(content)
    with pytest.raises(UsageError, match=words) as info:
        discover(source, tmp_path / "work")
    assert str(info.value).startswith(str(source)) and "\n" not in str(info.value)


def test_nothing_to_grade_is_a_usage_error(tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    (empty / ".hidden.py").write_text("x")
    with pytest.raises(UsageError, match="no submissions found"):
        discover(empty, tmp_path / "work")
    with pytest.raises(UsageError, match="no submissions found"):
        discover(_zip(tmp_path / "junk.zip", {"__MACOSX/._a.py": ""}), tmp_path / "work")


def test_student_ids_are_file_names():
    assert safe_id("../../etc/passwd") == "etc_passwd"
    assert safe_id("ann lee@u.edu") == "ann_lee@u.edu"
    assert safe_id("...") == "student"
    assert len(safe_id("x" * 500)) == 120
