"""Unit tests of the executor's confinement (grader.executor.sandbox), in forked children."""

from __future__ import annotations

import ctypes
import os
import sys

import pytest

if not sys.platform.startswith("linux"):
    pytest.skip("the sandbox module confines Linux executors", allow_module_level=True)

from grader.executor import sandbox  # noqa: E402

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


def _signal_probes(own_pid_filter: bool) -> dict[str, str]:
    """In a forked child with the seccomp filter: which signal targets are refused (signal 0
    only probes: nothing is sent)."""
    import json
    import signal
    import threading

    from grader.executor.seccomp import install_seccomp

    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:
        out = {}
        try:
            os.close(read)
            os.setsid()
            install_seccomp(own_pid=os.getpid() if own_pid_filter else None)
            probes = {"parent": lambda: os.kill(os.getppid(), 0),
                      "everyone": lambda: os.kill(-1, 0),
                      "parent_group": lambda: os.killpg(os.getpgid(os.getppid()), 0),
                      "own_group": lambda: os.kill(0, 0),
                      "itself": lambda: os.kill(os.getpid(), 0),
                      "own_group_by_number": lambda: os.killpg(os.getpid(), 0),
                      "own_thread": lambda: signal.pthread_kill(threading.get_ident(), 0)}
            for name, probe in probes.items():
                try:
                    probe()
                    out[name] = "allowed"
                except PermissionError:
                    out[name] = "refused"
            os.write(write, json.dumps(out).encode())
        finally:
            os._exit(0)
    os.close(write)
    os.waitpid(pid, 0)
    with os.fdopen(read) as f:
        return dict(json.loads(f.read()))


def test_signals_reach_only_the_executor_and_its_group_without_a_pid_namespace() -> None:
    probes = _signal_probes(own_pid_filter=True)
    assert probes == {"parent": "refused", "everyone": "refused", "parent_group": "refused",
                      "own_group": "allowed", "itself": "allowed",
                      "own_group_by_number": "allowed", "own_thread": "allowed"}


def test_without_the_signal_rule_the_parent_is_reachable() -> None:
    """The control: the same probes without ``own_pid`` (the namespace level, where the pid
    namespace already hides everything outside the executor's tree)."""
    probes = _signal_probes(own_pid_filter=False)
    assert probes["parent"] == "allowed" and probes["everyone"] == "allowed"
