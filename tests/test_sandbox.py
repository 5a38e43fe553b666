"""Unit tests of the executor's confinement (grader.sandbox), in forked children."""

from __future__ import annotations

import ctypes
import os
import sys

import pytest

if not sys.platform.startswith("linux"):
    pytest.skip("the sandbox module confines Linux executors", allow_module_level=True)

from grader import sandbox  # noqa: E402

PR_GET_PDEATHSIG = 2


def _in_confined_child(config: dict) -> str:
    """Fork, confine the child with ``config``, and return what it reports."""
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:
        try:
            os.close(read)
            sandbox.confine(config)
            value = ctypes.c_int(-1)
            ctypes.CDLL(None).prctl(PR_GET_PDEATHSIG, ctypes.byref(value), 0, 0, 0)
            os.write(write, f"pdeathsig={value.value} uid={os.getuid()}".encode())
        finally:
            os._exit(0)
    os.close(write)
    os.waitpid(pid, 0)
    with os.fdopen(read) as f:
        return f.read()


@pytest.mark.skipif(os.geteuid() != 0, reason="the uid drop happens only as root")
def test_the_parent_death_signal_survives_the_uid_drop() -> None:
    """Linux clears PR_SET_PDEATHSIG on a change of uid: without setting it again, an
    executor outlives a killed template (as seen under a Slurm walltime kill)."""
    uid = 30000 + os.getpid() % 20000
    config = {"isolation": "process", "uid": uid, "seccomp": False,
              "limits": {"cpu_s": 60, "fsize_bytes": 1 << 20, "memory_budget_bytes": 1 << 30,
                         "nofile": 64}}
    assert _in_confined_child(config) == f"pdeathsig=9 uid={uid}"
