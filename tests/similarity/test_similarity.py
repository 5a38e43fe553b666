"""Similarity between submissions: planted copies against independent solutions, the stub as
boilerplate, notebooks, the report's pages and JSON, ``grade similarity`` and class.html."""

from __future__ import annotations

import json
import re
import shutil
import sys
from html import unescape
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from hypothesis import given
from hypothesis import strategies as st

pytest.importorskip("copydetect", reason="copydetect is not installed (pip install "
                    "'torch-grader[instructor]')")

from grader.cli import main  # noqa: E402
from grader.course.lms import Entry, discover  # noqa: E402
from grader.course.manifest import Homework, load_course  # noqa: E402
from grader.reports import similarity as similarityreport  # noqa: E402
from grader.reports.similarity import (  # noqa: E402
    batch_similarity,
    class_section,
    render_similarity,
)
from grader.similarity.fingerprint import tidy_regions  # noqa: E402
from grader.similarity.rank import NOTE, SimilarityReport, compare_entries  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
SET = ROOT / "tests" / "submissions" / "similarity"
STUB = ROOT / "assignments" / "hw2" / "gradients.py"
# Who copied whom in tests/submissions/similarity: fay renamed ana's variables, gus reordered
# ben's functions, hana commented chloe's code, ivan pasted dev's code into a notebook.
PLANTED = {("ana", "fay"), ("ben", "gus"), ("chloe", "hana"), ("dev", "ivan")}


@pytest.fixture(scope="module")
def hw2() -> Homework:
    return load_course(ROOT).homework("hw2")


def _class(folder: Path) -> list[Entry]:
    """The planted set plus two more independent correct solutions: the course's reference
    and tests/submissions/hw2/correct_alt.py."""
    shutil.copytree(SET, folder)
    shutil.copy(ROOT / "solutions" / "hw2" / "gradients.py", folder / "ref.py")
    shutil.copy(ROOT / "tests" / "submissions" / "hw2" / "correct_alt.py", folder / "alt.py")
    entries, _ = discover(folder, folder.parent)
    return entries


def _scores(matches: Any) -> dict[tuple[str, str], float]:
    return {(m.a, m.b): m.score for m in matches}


@pytest.fixture(scope="module")
def report(hw2: Homework, tmp_path_factory: pytest.TempPathFactory) -> SimilarityReport:
    entries = _class(tmp_path_factory.mktemp("class") / "subs")
    return compare_entries(hw2, entries, top=100)  # every pair that shares anything


# ---------------------------------------------------------------- ranking
def test_planted_copies_rank_above_every_independent_pair_per_file(report: SimilarityReport) -> None:
    scores = _scores(report.files)
    assert PLANTED <= set(scores), f"a planted copy was not found: {scores}"
    independent = {pair: s for pair, s in scores.items() if pair not in PLANTED}
    lowest_copy = min(scores[p] for p in PLANTED)
    assert lowest_copy > 0.9
    assert lowest_copy > max(independent.values(), default=0.0) + 0.5, independent
    assert {(m.a, m.b) for m in report.files[:len(PLANTED)]} == PLANTED


@pytest.mark.parametrize("part", ["softmax_jacobian", "linear_mse_grad", "cross_entropy",
                                  "cross_entropy_grad"])
def test_planted_copies_rank_above_independent_pairs_per_part(report: SimilarityReport,
                                                              part: str) -> None:
    scores = _scores(dict(report.parts)[part])
    assert PLANTED <= set(scores)
    independent = [s for pair, s in scores.items() if pair not in PLANTED]
    assert min(scores[p] for p in PLANTED) > max(independent, default=0.0)


def test_a_part_copied_alone_ranks_first_for_that_part_only(hw2: Homework, tmp_path: Path) -> None:
    """Juno wrote her own hw2 but took cross_entropy from Ana (names changed): the part shows
    it, the whole file does not."""
    entries = _class(tmp_path / "subs")
    ana = (SET / "ana.py").read_text()
    body = re.search(r"(def cross_entropy\(logits.*?)\n\n\ndef ", ana, re.S)
    assert body
    stolen = body.group(1).replace("lse", "log_total").replace("correct", "mine")
    juno = re.sub(r"def cross_entropy\(logits.*?(?=\n\n\ndef )", lambda _: stolen,
                  (SET / "emre.py").read_text(), flags=re.S)
    assert juno != (SET / "emre.py").read_text()
    (tmp_path / "subs" / "juno.py").write_text(juno)
    entries.append(Entry("juno", tmp_path / "subs" / "juno.py"))
    found = compare_entries(hw2, entries, top=100)
    part = dict(found.parts)["cross_entropy"]
    copied = {("ana", "juno"), ("fay", "juno"), ("ana", "fay")}
    others = [m.score for m in part if (m.a, m.b) not in copied | PLANTED]
    juno_pairs = [m for m in part if (m.a, m.b) in copied - {("ana", "fay")}]
    assert len(juno_pairs) == 2 and min(m.score for m in juno_pairs) > max(others, default=0) + 0.5
    # in the whole file, Juno (emre's code but for one function) is no copy of Ana
    files = _scores(found.files)
    assert files.get(("ana", "juno"), 0.0) < min(files[p] for p in PLANTED) - 0.5


# ---------------------------------------------------------------- the stub as boilerplate
def _stub_with(tmp: Path, name: str, part: str, body: str) -> Entry:
    text = STUB.read_text()
    head = text.index(f"def {part}(")
    at = text.index("    raise NotImplementedError\n", head)
    path = tmp / f"{name}.py"
    path.write_text(text[:at] + body + text[at + len("    raise NotImplementedError\n"):])
    return Entry(name, path)


def test_untouched_stubs_share_nothing(hw2: Homework, tmp_path: Path) -> None:
    for name in ("amy", "bo"):
        shutil.copy(STUB, tmp_path / f"{name}.py")
    entries = [Entry(n, tmp_path / f"{n}.py") for n in ("amy", "bo")]
    found = compare_entries(hw2, entries)
    assert found.files == () and all(matches == () for _, matches in found.parts)


def test_without_the_stub_as_boilerplate_untouched_stubs_look_copied(
        hw2: Homework, tmp_path: Path) -> None:
    """The same two stubs with no stub to subtract: identical, so the boilerplate is what
    makes the test above pass."""
    for name in ("amy", "bo"):
        shutil.copy(STUB, tmp_path / f"{name}.py")
    entries = [Entry(n, tmp_path / f"{n}.py") for n in ("amy", "bo")]
    elsewhere = Homework(id=hw2.id, title=hw2.title, file=hw2.file, parts=hw2.parts,
                         root=tmp_path / "no-course")
    found = compare_entries(elsewhere, entries)
    assert _scores(found.files) == {("amy", "bo"): 1.0}
    assert found.boilerplate == ""


def test_stubs_with_one_part_filled_differently_are_not_similar(hw2: Homework,
                                                                tmp_path: Path) -> None:
    softmax = ("    m = a.max(dim=dim, keepdim=True).values\n    z = torch.exp(a - m)\n"
               "    return z / z.sum(dim=dim, keepdim=True)\n")
    entropy = ("    lse = torch.logsumexp(logits, dim=1)\n"
               "    picked = torch.take_along_dim(logits, target[:, None], dim=1).squeeze(1)\n"
               "    return torch.mean(lse - picked)\n")
    entries = [_stub_with(tmp_path, "amy", "softmax", softmax),
               _stub_with(tmp_path, "bo", "cross_entropy", entropy)]
    assert compare_entries(hw2, entries).files == ()
    # the same part filled the same way is found: the boilerplate removed only the stub
    entries.append(_stub_with(tmp_path, "cy", "softmax", softmax.replace("z", "e")))
    found = compare_entries(hw2, entries)
    assert _scores(found.files) == {("amy", "cy"): 1.0}
    assert _scores(dict(found.parts)["softmax"]) == {("amy", "cy"): 1.0}


def test_fingerprints_more_than_max_shared_submissions_have_count_for_nothing(
        hw2: Homework, tmp_path: Path) -> None:
    """MOSS's rule: code that most of a class wrote the same way is no sign of copying."""
    for i in range(4):
        shutil.copy(SET / "dev.py", tmp_path / f"s{i}.py")
    entries = [Entry(f"s{i}", tmp_path / f"s{i}.py") for i in range(4)]
    assert len(compare_entries(hw2, entries, max_shared=4).files) == 6
    assert compare_entries(hw2, entries, max_shared=3).files == ()


def test_common_code_is_left_out_of_a_pairs_shares(hw2: Homework, tmp_path: Path) -> None:
    """Two students who share one function of their own and, like four others, dev's code:
    their shares count their own code only, nearly as if dev's code were not in their files."""
    extra = ("def helper_one(t):\n    scaled = t * 0.731 + 4\n    return scaled.clamp(min=-2.5)"
             "[..., 1:7]\n")
    other = ("def helper_two(v, w):\n    out = (v - w).abs().amax(dim=0) ** 3\n"
             "    return out / (1.5 + out.sum())\n")
    dev = (SET / "dev.py").read_text()
    for i in range(4):
        (tmp_path / f"s{i}.py").write_text(dev)
    (tmp_path / "s4.py").write_text(dev + "\n\n" + extra)
    (tmp_path / "s5.py").write_text(dev + "\n\n" + extra + "\n\n" + other)
    entries = [Entry(f"s{i}", tmp_path / f"s{i}.py") for i in range(6)]
    (pair,) = compare_entries(hw2, entries, max_shared=3).files
    (tmp_path / "a.py").write_text(extra)
    (tmp_path / "b.py").write_text(extra + "\n\n" + other)
    (alone,) = compare_entries(hw2, [Entry("a", tmp_path / "a.py"),
                                     Entry("b", tmp_path / "b.py")]).files
    assert (pair.a, pair.b) == ("s4", "s5") and pair.share_a == alone.share_a == 1.0
    # what they share is their function (and the seam before it), not dev's 600 characters
    assert alone.shared <= pair.shared < 2 * alone.shared
    assert pair.share_b < 0.7


# ---------------------------------------------------------------- notebooks
def test_a_notebook_copy_ranks_with_its_source_by_its_graded_module(report: SimilarityReport,
                                                                    ) -> None:
    ivan = report.submission("ivan")
    assert ivan.kind == "ipynb"
    assert "plt.plot" not in ivan.source and "def softmax(" in ivan.source  # demo cells left out
    best = next(m for m in report.files if "ivan" in (m.a, m.b))
    assert (best.a, best.b) == ("dev", "ivan") and best.score > 0.9


# ---------------------------------------------------------------- the pages
class _Marks(HTMLParser):
    """The side-by-side sections of similarity.html: for each, per side, the marked runs and
    the whole text."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.sections: dict[str, list[dict[str, Any]]] = {}
        self.current: str | None = None
        self.in_pre = self.in_mark = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "section" and a.get("class") == "pair":
            self.current = str(a["id"])
            self.sections[self.current] = []
        elif tag == "pre" and self.current:
            self.in_pre = True
            self.sections[self.current].append({"marks": [], "text": ""})
        elif tag == "mark" and self.in_pre:
            assert a.get("class") == "shared"
            self.in_mark = True
            self.sections[str(self.current)][-1]["marks"].append("")

    def handle_endtag(self, tag: str) -> None:
        if tag == "pre":
            self.in_pre = False
        elif tag == "mark":
            self.in_mark = False
        elif tag == "section":
            self.current = None

    def handle_data(self, data: str) -> None:
        if self.in_pre and self.current:
            side = self.sections[self.current][-1]
            side["text"] += data
            if self.in_mark:
                side["marks"][-1] += data


def _squash(text: str) -> str:
    return re.sub(r"\s+", "", text)


def test_html_draws_the_pairs_side_by_side_with_the_shared_code_marked(
        report: SimilarityReport) -> None:
    html = render_similarity(report, "html")
    assert NOTE in unescape(html) and "not a verdict" in html
    assert "http" not in html.replace("<!doctype html>", "")  # self-contained: nothing fetched
    parser = _Marks()
    parser.feed(html)
    files = {k: v for k, v in parser.sections.items() if k.startswith("file-")}
    assert len(files) == len(report.files)
    for index, m in enumerate(report.files, start=1):
        a, b = files[f"file-{index}"]
        # nothing lost or added: each side shows its whole graded module
        assert a["text"] == report.submission(m.a).source
        assert b["text"] == report.submission(m.b).source
        assert a["marks"] and b["marks"]
        assert not any('"""' in mark or mark.lstrip().startswith("#") for mark in a["marks"])
    # chloe and hana differ by comments only: the marked code is the same code
    pair = next(i for i, m in enumerate(report.files, 1) if (m.a, m.b) == ("chloe", "hana"))
    chloe, hana = files[f"file-{pair}"]
    assert _squash("".join(chloe["marks"])) == _squash("".join(hana["marks"]))
    assert "the activation itself" not in "".join(hana["marks"])  # comments are not marked
    # every part with a pair has its top pairs drawn too
    assert any(k.startswith("cross_entropy-") for k in parser.sections)


def test_json_is_strict_and_says_where_the_shared_code_is(report: SimilarityReport) -> None:
    text = render_similarity(report, "json")

    def reject(value: str) -> None:
        raise AssertionError(f"not strict JSON: {value}")

    data = json.loads(text, parse_constant=reject)
    assert data["schema"] == "grader.similarity/1" and data["note"] == NOTE
    assert data["boilerplate"] == "assignments/hw2/gradients.py"
    top = data["files"][0]
    assert {top["a"], top["b"]} in [set(p) for p in PLANTED]
    for m in data["files"]:  # the score is the mean of the two shares
        assert m["score"] == pytest.approx((m["share_a"] + m["share_b"]) / 2, abs=1e-4)
    source = report.submission(top["a"]).source
    for region in top["regions_a"]:
        first, last = region["lines"]
        assert source.count("\n", 0, region["start"]) + 1 == first <= last
    assert set(data["parts"]) == {p.name for p in load_course(ROOT).homework("hw2").parts}


def test_terminal_summary_lists_the_top_pairs_with_their_scores(report: SimilarityReport) -> None:
    text = render_similarity(report, "text")
    assert "not a verdict" in text
    lines = [ln for ln in text.splitlines() if " ~ " in ln]
    assert re.match(r"\s+1\.00\s+ana ~ fay\s+100 % / 100 %", lines[0]), lines[0]
    assert any(ln.split()[0] == "cross_entropy" for ln in lines)


@given(st.text(alphabet="ab_ #\n\"'x(", max_size=60),
       st.lists(st.tuples(st.integers(-5, 70), st.integers(-5, 70)), max_size=6))
def test_tidy_regions_are_sorted_disjoint_trimmed_and_inside_the_text(
        text: str, regions: list[tuple[int, int]]) -> None:
    tidy = tidy_regions(text, regions)
    for (s, e), nxt in zip(tidy, [*tidy[1:], None]):
        assert 0 <= s < e <= len(text)
        assert not text[s].isspace() and not text[e - 1].isspace()
        assert nxt is None or e < nxt[0]
    runs = similarityreport._segments(text, tidy)
    assert "".join(r["text"] for r in runs) == text
    assert [r["text"] for r in runs if r["shared"]] == [text[s:e] for s, e in tidy]


# ---------------------------------------------------------------- the command
def test_cli_writes_the_report_and_prints_the_top_pairs(tmp_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)
    out = tmp_path / "out"
    res = CliRunner().invoke(main, ["similarity", "hw2", str(SET), "--out", str(out),
                                    "--top", "3"])
    assert res.exit_code == 0, res.output
    assert (out / "similarity.html").is_file() and (out / "similarity.json").is_file()
    pairs = [ln.split()[1:4] for ln in res.output.splitlines() if re.match(r"\s+\d\.\d\d\s+\w+ ~", ln)]
    assert len(pairs) >= 3 and pairs[0] == ["ana", "~", "fay"]
    assert len(json.loads((out / "similarity.json").read_text())["files"]) == 3
    assert f"wrote {out / 'similarity.html'}" in res.output


@pytest.mark.parametrize(("args", "says"), [
    (["similarity", "hw2", "no-such-folder"], "no such file or folder"),
    (["similarity", "hw9", str(SET)], "unknown homework 'hw9'"),
])
def test_cli_bad_input_is_one_line_and_exit_2(monkeypatch: pytest.MonkeyPatch, args: list[str],
                                              says: str) -> None:
    monkeypatch.chdir(ROOT)
    res = CliRunner().invoke(main, args)
    assert res.exit_code == 2
    assert res.output.count("\n") == 1 and says in res.output and "Traceback" not in res.output


def test_cli_without_copydetect_says_how_to_install_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)
    monkeypatch.setitem(sys.modules, "copydetect", None)  # `import copydetect` now fails
    res = CliRunner().invoke(main, ["similarity", "hw2", str(SET)])
    assert res.exit_code == 2 and "pip install 'torch-grader[instructor]'" in res.output


# ---------------------------------------------------------------- the batch's section
def test_batch_step_compares_once_per_change(hw2: Homework, tmp_path: Path) -> None:
    subs, out = tmp_path / "subs", tmp_path / "out"
    subs.mkdir()
    for name in ("ana.py", "fay.py", "dev.py"):
        shutil.copy(SET / name, subs / name)
    entries, _ = discover(subs, tmp_path)
    assert batch_similarity(hw2, entries, out) == "written"
    assert batch_similarity(hw2, entries, out) == "cached"
    (subs / "dev.py").write_text((SET / "emre.py").read_text())
    assert batch_similarity(hw2, entries, out) == "written"
    section = class_section(out)
    assert section["state"] == "ok" and section["compared"] == 3
    assert (section["pairs"][0]["a"], section["pairs"][0]["b"]) == ("ana", "fay")


def test_batch_step_without_copydetect_leaves_a_line_not_a_failure(
        hw2: Homework, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    out = tmp_path / "out"
    entries, _ = discover(SET, tmp_path)
    assert batch_similarity(hw2, entries, out) == "written"
    monkeypatch.setattr(similarityreport, "have_copydetect", lambda: False)
    assert batch_similarity(hw2, entries, out) == "missing"
    assert not (out / "similarity.json").exists()  # an old report would describe other code
    section = class_section(out)
    assert section["state"] == "none" and "copydetect is not installed" in section["message"]


def test_batch_step_that_fails_is_reported_in_the_section(
        hw2: Homework, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("pygments fell over")

    monkeypatch.setattr(similarityreport, "compare_read", broken)
    entries, _ = discover(SET, tmp_path)
    assert batch_similarity(hw2, entries, tmp_path / "out") == "failed"
    assert class_section(tmp_path / "out")["message"] == \
        "The comparison failed: RuntimeError: pygments fell over"


@pytest.mark.slow
def test_grade_batch_puts_the_top_pairs_in_class_html(tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    """A real `grade batch` of the whole set: every hand-written solution is correct (so the
    independent ones are what the test above calls them), and class.html lists the copies."""
    monkeypatch.chdir(ROOT)
    out = tmp_path / "graded"
    res = CliRunner().invoke(main, ["batch", "hw2", str(SET), "--out", str(out), "-q",
                                    "--format", "json"])
    assert res.exit_code == 0, res.output
    scores = {p.stem: json.loads(p.read_text())["score"] for p in (out / "results").glob("*.json")}
    assert len(scores) == 9 and set(scores.values()) == {15.0}, scores
    html = (out / "class.html").read_text()
    section = html[html.index("<h2>Similar submissions</h2>"):]
    assert "not a verdict" in section and 'href="similarity.html"' in section
    listed = re.findall(r'<a href="similarity.html#file-\d+">(\w+) · (\w+)</a>', section)
    assert set(listed[:4]) == PLANTED
    assert (out / "similarity.html").is_file()
    # `grade report` renders the section again from similarity.json
    (out / "class.html").unlink()
    assert CliRunner().invoke(main, ["report", str(out)]).exit_code == 0
    assert "ana · fay" in (out / "class.html").read_text()
