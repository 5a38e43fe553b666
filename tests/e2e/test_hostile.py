"""The hostile corpus (tests/submissions/hostile/), graded end to end at both isolation levels.

Each case file states in its first comment block what must hold; the checks below test it,
plus that the machine is left clean: no process of the sandbox uid, no file with the case's
token outside the scratch area, and a loopback listener that received nothing.

To keep this fast, every case of one level goes through ONE template and one pytest session
(``grader.api.grade_prepared``, the path ``grade check`` uses), in a fixed order with copies of
the reference solution after the dangerous ones, so "the next submission is graded normally"
is checked too. Timeouts are cut to 2 s.
"""

from __future__ import annotations

import functools
import json
import os
import shutil
import socket
import tempfile
import threading
import uuid
from pathlib import Path
from typing import Any

import pytest

from grader.api import grade_prepared, homework_settings, open_template
from grader.course.manifest import load_course
from grader.course.submission import prepare_submission
from grader.executor import sandbox

ROOT = Path(__file__).resolve().parents[2]
HOSTILE = Path(__file__).resolve().parents[1] / "submissions" / "hostile"
pytestmark = pytest.mark.slow
SOLUTION = ROOT / "solutions" / "hw2" / "gradients.py"
TOKEN = f"HOSTILE{uuid.uuid4().hex[:12]}"
SECRET = f"judge-secret-{uuid.uuid4().hex}"
TIMEOUT_S = 2.0

# Cases that depend on the namespace level (file-system view, private /tmp).
NAMESPACE_ONLY = {"read_hidden", "disk_fill"}
# Run order: a control (the solution) follows the cases that could spoil the next submission.
ORDER = ["control_first", "patch_allclose", "torch_function", "frame_steal", "ref_import",
         "read_hidden", "pytest_conftest", "control_after_conftest", "os_exit", "sys_exit_import",
         "os_exit_import", "forge_output", "results_tamper", "sleep_everywhere", "infinite_loop",
         "fork_bomb", "control_after_fork_bomb", "daemon_escape", "mem_hog", "disk_fill",
         "control_after_disk_fill", "output_flood", "net_exfil", "leak_inputs", "proc_snoop",
         "segfault", "control_after_segfault",
         "ptrace_parent", "sys_modules_builtins", "monkeypatch_import", "torch_state",
         "noisy_correct", "control_last"]
FULL_MARKS = {"control_first", "control_after_conftest", "control_after_fork_bomb",
              "control_after_segfault",
              "control_after_disk_fill", "control_last", "daemon_escape", "torch_state",
              "noisy_correct"}
ZERO = {"patch_allclose", "torch_function", "frame_steal", "ref_import", "read_hidden",
        "pytest_conftest", "os_exit", "sys_exit_import", "os_exit_import", "forge_output",
        "results_tamper", "sleep_everywhere", "output_flood", "sys_modules_builtins",
        "monkeypatch_import", "leak_inputs"}


class Listener:
    """A TCP and a UDP socket on 127.0.0.1 (one port) that record whatever reaches them."""

    def __init__(self) -> None:
        self.tcp = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.tcp.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.tcp.bind(("127.0.0.1", 0))
        self.tcp.listen(16)
        self.port = self.tcp.getsockname()[1]
        self.udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.udp.bind(("127.0.0.1", self.port))
        self.received: list[str] = []
        self.stop = False
        for target in (self._accept, self._datagrams):
            threading.Thread(target=target, daemon=True).start()

    def _accept(self) -> None:
        self.tcp.settimeout(0.2)
        while not self.stop:
            try:
                conn, _ = self.tcp.accept()
            except OSError:
                continue
            self.received.append("tcp connection")
            conn.close()

    def _datagrams(self) -> None:
        self.udp.settimeout(0.2)
        while not self.stop:
            try:
                data, _ = self.udp.recvfrom(4096)
            except OSError:
                continue
            self.received.append(f"udp {data[:40]!r}")

    def close(self) -> None:
        self.stop = True
        self.tcp.close()
        self.udp.close()


def _materialise(case: str, folder: Path, values: dict[str, str]) -> Path:
    source = SOLUTION if case.startswith("control") else HOSTILE / f"{case}.py"
    text = source.read_text(encoding="utf-8")
    for key, value in values.items():
        text = text.replace(f"@@{key}@@", value)
    target = folder / case / "gradients.py"
    target.parent.mkdir(parents=True)
    target.write_text(text, encoding="utf-8")
    return target


def _token_files() -> list[str]:
    """Files carrying this run's token outside any scratch area (host /tmp etc., the course)."""
    found = []
    for top in ("/tmp", "/var/tmp", "/dev/shm", "/", os.path.expanduser("~")):
        try:
            found += [os.path.join(top, n) for n in os.listdir(top) if TOKEN in n]
        except OSError:
            pass
    for dirpath, dirnames, filenames in os.walk(ROOT):
        dirnames[:] = [d for d in dirnames if d not in (".venv", ".git", "node_modules")]
        for name in filenames:
            path = os.path.join(dirpath, name)
            if TOKEN in name:
                found.append(path)
            elif name in ("conftest.py", "pytest.ini", "results.json", "junit.xml"):
                try:
                    if TOKEN in Path(path).read_text(errors="replace")[:500]:
                        found.append(path)
                except OSError:
                    pass
    return found


def _sandbox_processes(uid: int) -> list[int]:
    return sandbox._pids_of_uid(uid) if os.geteuid() == 0 else []


@functools.cache
def graded(level: str) -> dict[str, Any]:
    """Grade every case at one level; return results, logs and the machine's state after."""
    course = load_course(ROOT)
    homework = course.homework("hw2")
    settings = homework_settings(course, homework, {
        "isolation": level, "request_timeout_s": TIMEOUT_S, "import_timeout_s": 8})
    work = Path(tempfile.mkdtemp(prefix="grader-hostile-"))
    listener = Listener()
    canary = str(work / "canary")
    values = {"COURSE": str(ROOT), "OTHERS": str(work), "PORT": str(listener.port),
              "CANARY": canary, "TOKEN": TOKEN}
    cases = [c for c in ORDER if level == "namespace" or c not in NAMESPACE_ONLY]
    prepared = [prepare_submission(_materialise(c, work, values), homework, student_id=c)
                for c in cases]
    os.environ["GRADER_TEST_SECRET"] = SECRET
    try:
        with open_template(homework, settings) as template:
            pairs = grade_prepared(homework, settings, template, prepared,
                                   course_root=course.root)
    finally:
        os.environ.pop("GRADER_TEST_SECRET", None)
        listener.close()
    uid = sandbox.claim_uid(settings.sandbox_uid, 0) if os.geteuid() == 0 else None
    state = {
        "results": {r.submission["id"]: r for r, _ in pairs},
        "logs": {r.submission["id"]: log for r, log in pairs},
        "leftover_processes": _sandbox_processes(uid) if uid is not None else [],
        "token_files": _token_files(),
        "listener": list(listener.received),
        "canary": os.path.exists(canary),
    }
    state["host_scratch_in_course"] = []
    for top in ("/tmp", "/var/tmp", "/dev/shm"):  # what the process level let through
        for name in os.listdir(top):
            path = os.path.join(top, name)
            try:
                if uid is not None and os.lstat(path).st_uid == uid and os.path.isfile(path):
                    os.unlink(path)
            except OSError:
                pass
    for path in state["token_files"]:
        try:
            os.unlink(path)
        except OSError:
            pass
    shutil.rmtree(work, ignore_errors=True)
    return state


LEVELS = ["namespace", "process", "portable"]


def _run(level: str, case: str | None = None) -> dict[str, Any]:
    if level == "namespace" and sandbox.available_isolation() != "namespace":
        pytest.skip("namespaces are not available on this machine "
                    "(see docs/isolation.md to enable user namespaces)")
    if case in NAMESPACE_ONLY and level != "namespace":
        pytest.skip(f"{case} depends on the namespace level")
    return graded(level)


def _messages(result: Any) -> str:
    """The messages of the public tests (a hidden test's message never carries the exception
    text, which is checked in test_hidden_tests_show_no_exception_text)."""
    return "\n".join(t.message for t in result.tests if t.visibility == "public")


@pytest.mark.parametrize("level", LEVELS)
def test_machine_left_clean(level: str) -> None:
    state = _run(level)
    assert state["leftover_processes"] == [], "processes of the sandbox uid survived the run"
    assert state["listener"] == [], "the loopback listener received something"
    assert not state["canary"], "a forged pickle was unpickled by the judge"
    outside = state["token_files"]
    if level in ("process", "portable"):  # /tmp, /var/tmp, /dev/shm are shared there (documented)
        outside = [p for p in outside if p.startswith(str(ROOT))] + state["host_scratch_in_course"]
    assert outside == [], f"files written outside the scratch area: {outside}"


@pytest.mark.parametrize("level", LEVELS)
def test_every_result_records_the_level(level: str) -> None:
    state = _run(level)
    assert {r.isolation for r in state["results"].values()} == {level}
    assert set(state["results"]) == {c for c in ORDER if level == "namespace"
                                     or c not in NAMESPACE_ONLY}


@pytest.mark.parametrize("level", LEVELS)
@pytest.mark.parametrize("case", sorted(FULL_MARKS))
def test_full_marks(level: str, case: str) -> None:
    result = _run(level, case)["results"][case]
    bad = [(t.part, t.status, t.message[:200]) for t in result.tests if t.status != "passed"]
    assert result.full_marks, bad


@pytest.mark.parametrize("level", LEVELS)
@pytest.mark.parametrize("case", sorted(ZERO))
def test_no_test_passes(level: str, case: str) -> None:
    result = _run(level, case)["results"][case]
    passed = [t.part for t in result.tests if t.status == "passed"]
    assert passed == [] and result.score == 0, passed


def _parts(result: Any) -> dict[str, set[str]]:
    out: dict[str, set[str]] = {}
    for t in result.tests:
        out.setdefault(t.part, set()).add(t.status)
    return out


@pytest.mark.parametrize("level", LEVELS)
@pytest.mark.parametrize(("case", "broken"), [
    ("infinite_loop", {"relu_grad"}),
    ("fork_bomb", {"softmax_jacobian"}),
    ("mem_hog", {"sigmoid_grad", "tanh_grad", "relu_grad", "softmax_backward"}),
    ("segfault", {"softmax_backward"}),
])
def test_contained_and_the_rest_graded(level: str, case: str, broken: set[str]) -> None:
    result = _run(level, case)["results"][case]
    parts = _parts(result)
    for part, statuses in parts.items():
        if part in broken:
            assert "passed" not in statuses, (part, statuses)
        else:
            assert statuses == {"passed"}, (part, statuses, _messages(result)[:500])
    if case in ("infinite_loop", "fork_bomb"):
        assert parts[next(iter(broken))] == {"timeout"}
    if case == "segfault":
        assert parts["softmax_backward"] == {"crashed"}
        assert "segmentation fault" in _messages(result)


@pytest.mark.parametrize("level", LEVELS)
def test_sleeping_everywhere_costs_one_timeout_per_function(level: str) -> None:
    result = _run(level, "sleep_everywhere")["results"]["sleep_everywhere"]
    assert {t.status for t in result.tests} == {"timeout"}
    text = "\n".join(t.message for t in result.tests)  # hidden tests run first
    assert text.count("timed out after") == len({t.part for t in result.tests})
    assert "timed out earlier" in text  # softmax is tested twice
    assert result.duration_s < (len(result.tests) + 4) * TIMEOUT_S + 20


@pytest.mark.parametrize("level", LEVELS)
def test_exit_is_never_a_pass(level: str) -> None:
    results = _run(level)["results"]
    assert {t.status for t in results["os_exit"].tests} <= {"crashed", "error"}
    assert "exited with code 0" in _messages(results["os_exit"])
    assert "could not be imported" in _messages(results["os_exit_import"])


@pytest.mark.parametrize("level", LEVELS)
def test_forged_output_is_rejected(level: str) -> None:
    state = _run(level, "forge_output")
    assert not state["canary"]
    assert all(t.status != "passed" for t in state["results"]["forge_output"].tests)


@pytest.mark.parametrize("level", LEVELS)
def test_output_flood_is_capped(level: str) -> None:
    state = _run(level, "output_flood")
    assert len(state["logs"]["output_flood"].encode()) <= 64 * 1024 + 16
    assert "flood" in state["logs"]["output_flood"]


@pytest.mark.parametrize("level", LEVELS)
def test_network_is_refused(level: str) -> None:
    state = _run(level, "net_exfil")
    text = _messages(state["results"]["net_exfil"])
    assert "blocked" in text and "CONNECTED" not in text, text[:1000]
    assert state["listener"] == []


@pytest.mark.parametrize("level", LEVELS)
def test_ptrace_is_refused(level: str) -> None:
    text = _messages(_run(level, "ptrace_parent")["results"]["ptrace_parent"])
    assert "ptrace(" in text
    for word in text.split():
        if word.startswith("errno="):
            assert word == "errno=1", text
    assert "=0 " not in text.replace("ppid=0 ", "")  # no attempt succeeded
    if level == "namespace":
        assert "ppid=0" in text


@pytest.mark.parametrize("level", LEVELS)
def test_leaked_inputs_stay_in_the_instructor_log(level: str) -> None:
    state = _run(level, "leak_inputs")
    assert "LEAKED-INPUTS" in state["logs"]["leak_inputs"]
    text = _messages(state["results"]["leak_inputs"])
    for judge_path in ("reference_tests", "hw2_refs", "grader/", "site-packages"):
        assert judge_path not in text


@pytest.mark.parametrize("level", LEVELS)
def test_judge_environment_does_not_leak(level: str) -> None:
    state = _run(level, "proc_snoop")
    dumped = json.dumps([r.to_dict() if hasattr(r, "to_dict") else repr(r)
                         for r in state["results"].values()])
    assert SECRET not in dumped and SECRET not in "".join(state["logs"].values())
    text = _messages(state["results"]["proc_snoop"])
    assert "environ=" in text or "PIDS=" in text, text[:500]
    if level == "namespace":
        pids = text.split("PIDS=", 1)[1].split("]", 1)[0]
        assert all(int(p) < 10 for p in pids.strip("[").split(",") if p.strip()), pids


def test_hidden_files_are_invisible() -> None:
    state = _run("namespace", "read_hidden")
    text = _messages(state["results"]["read_hidden"])
    assert "READ" not in text, text[:1000]
    for secret in ("course.toml", "solutions", "reference_tests", "hw2_refs.py",
                   "grader-hostile-"):
        # only the Python installation and the grader package may show up, as mount points
        assert f"{secret}: missing" in text or f"{secret}'" not in text, (secret, text[:1000])
    listed = [chunk for chunk in text.split("; ") if "LISTED" in chunk]
    for chunk in listed:
        assert "solutions" not in chunk and "reference_tests" not in chunk, chunk
    assert "def softmax_jacobian" not in text


def test_disk_fill_is_stopped() -> None:
    state = _run("namespace", "disk_fill")
    result = state["results"]["disk_fill"]
    assert state["token_files"] == []
    assert result.score == 0
    if all(t.status != "timeout" for t in result.tests):  # slow disks may hit the deadline first
        text = _messages(result)
        assert "/tmp:" in text and "errno" in text, text[:1000]


@pytest.mark.parametrize("level", LEVELS)
def test_conftest_drop_has_no_effect(level: str) -> None:
    state = _run(level, "pytest_conftest")
    assert state["results"]["pytest_conftest"].score == 0
    assert state["results"]["control_after_conftest"].full_marks
    assert not [p for p in state["token_files"] if p.startswith(str(ROOT))]


@pytest.mark.parametrize("level", LEVELS)
def test_hidden_tests_show_no_exception_text(level: str) -> None:
    results = _run(level)["results"]
    for case in ("leak_inputs", "proc_snoop", "net_exfil", "ptrace_parent"):
        for t in results[case].tests:
            if t.visibility == "hidden":
                assert "LEAKED-INPUTS" not in t.message and "environ" not in t.message
                assert "PIDS=" not in t.message and "blocked" not in t.message
