"""The template process: each namespace-level executor is forked straight into a new pid
namespace as its init (as root), and the template's own namespace is left as it was."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from grader.api import homework_settings
from grader.course.manifest import load_course
from grader.executor import sandbox
from grader.launch.confinement import sandbox_config
from grader.launch.template import Template

ROOT = Path(__file__).resolve().parents[2]


def _nspid(pid: int) -> list[int]:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("NSpid:"):
            return [int(x) for x in line.split()[1:]]
    raise AssertionError("no NSpid line")


@pytest.mark.skipif(os.geteuid() != 0, reason="the direct pid namespace is a root-only path")
def test_executor_is_the_init_of_its_own_pid_namespace(tmp_path: Path) -> None:
    if sandbox.available_isolation() != "namespace":
        pytest.skip("namespaces are not available on this machine")
    course = load_course(ROOT)
    settings = homework_settings(course, course.homework("hw2"), {})
    config = sandbox_config(settings, course.root, "namespace")
    template = Template()
    try:
        tpid = int(template.ready()["pid"])
        seen = []
        for i in range(2):
            log = tmp_path / f"log{i}"
            pid, sock = template.spawn({**config, "log_path": str(log), "workdir": "/tmp/work"})
            # the template's own child, pid 1 inside: no waiting process in between
            assert _nspid(pid) == [pid, 1]
            seen.append(os.stat(f"/proc/{pid}/ns/pid").st_ino)
            sock.close()
            template.kill(pid)
        assert seen[0] != seen[1]
        # the template forks into its own namespace again
        assert os.stat(f"/proc/{tpid}/ns/pid_for_children").st_ino == \
            os.stat(f"/proc/{tpid}/ns/pid").st_ino
    finally:
        template.close()
