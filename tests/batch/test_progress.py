"""The progress of grade batch: tqdm's bar on a terminal, plain lines elsewhere, none with -q."""

from __future__ import annotations

import io
import re
from pathlib import Path

from click.testing import CliRunner

from grader.batch.progress import Progress
from grader.cli import main

ROOT = Path(__file__).resolve().parents[2]
STATUSES = ["graded", "graded", "error", "graded", "unreadable"]


class FakeTerminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def _feed(progress: Progress, n: int) -> None:
    for i in range(n):
        progress.update(STATUSES[i % len(STATUSES)])


def test_on_a_terminal_a_bar_with_counts_rate_and_eta() -> None:
    stream = FakeTerminal()
    _feed(Progress(5, stream=stream), 5)
    text = stream.getvalue()
    frames = [f for f in text.split("\r") if f.strip()]
    assert len(frames) >= 2 and text.endswith("\n")  # redrawn in place, then left on screen
    assert re.match(r"\s*0%\|.*\| 0/5 \[00:00<\?", frames[0])  # drawn at once, ETA unknown
    final = frames[-1]
    # tqdm's meter: percentage, bar, count, elapsed<remaining (the ETA), rate, our counts
    assert re.match(r"100%\|#+\| 5/5 \[\d\d:\d\d<00:00, +[\d.]+(sub/s|s/sub), "
                    r"1 error, 3 graded, 1 unreadable\]\n$", final), final


def test_off_a_terminal_one_plain_line_per_10_percent() -> None:
    stream = io.StringIO()
    _feed(Progress(40, stream=stream), 40)
    text = stream.getvalue()
    assert "\r" not in text
    lines = text.splitlines()
    # the first one, then each tenth (4, 8, ... 40 of 40)
    assert [int(re.search(r"\| (\d+)/40 ", line)[1]) for line in lines] == \
        [1, *range(4, 41, 4)], text
    assert all(re.search(r"\[\d\d:\d\d<\d\d:\d\d, +[\d.]+(sub/s|s/sub), ", line)
               for line in lines), text
    assert lines[-1].startswith("100%|") and lines[-1].endswith("8 unreadable]")


def test_quiet_writes_nothing() -> None:
    for stream in (FakeTerminal(), io.StringIO()):
        progress = Progress(5, stream=stream, enabled=False)
        _feed(progress, 5)
        assert stream.getvalue() == "" and progress.counts["graded"] == 3


def test_grade_batch_reports_progress_on_stderr_unless_quiet(tmp_path: Path) -> None:
    subs = tmp_path / "subs"
    subs.mkdir()
    for name in ("ana", "ben", "cy"):  # unreadable: recorded by the driver, no judge started
        (subs / f"{name}.py").write_bytes(b"\x00\x01 not python")
    runner = CliRunner()
    res = runner.invoke(main, ["batch", "hw2", str(subs), "--out", str(tmp_path / "a"),
                               "--course", str(ROOT)])
    assert res.exit_code == 1, res.output
    lines = res.stderr.splitlines()
    assert [line.split("| ")[1].split()[0] for line in lines] == ["1/3", "2/3", "3/3"]
    assert lines[-1].startswith("100%|") and "3 unreadable" in lines[-1]
    assert "3 submissions: 3 graded now" in res.stdout
    res = runner.invoke(main, ["batch", "hw2", str(subs), "--out", str(tmp_path / "b"), "-q",
                               "--course", str(ROOT)])
    assert res.exit_code == 1 and res.stderr == "", res.stderr
