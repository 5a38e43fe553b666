"""grade batch --executor dask through real sbatch jobs, on a one-node Slurm cluster started here.

The cluster: munged with a fresh key, slurmctld and slurmd (Debian's ``munge`` and
``slurm-wlm``), as root, with a minimal slurm.conf in a temporary folder: this machine as its
one node, one partition, no cgroups, no accounting database. The workers: docs/slurm_workers.py,
the recipe docs/batch.md quotes, run as an instructor runs it. Skips with the reason where
Slurm cannot start (not root, packages missing, a daemon that fails: its log's tail).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from grader.reports.files import load_results

ROOT = Path(__file__).resolve().parents[2]
RECIPE = ROOT / "docs" / "slurm_workers.py"
DAEMONS = ("munged", "slurmctld", "slurmd")
CLIENTS = ("sinfo", "squeue", "sbatch", "scancel", "scontrol")
WALLTIME = "00:01:00"  # the recipe's workers retire after 45 +- 7 s; new jobs take their place

pytestmark = [pytest.mark.slow, pytest.mark.skipif(sys.platform != "linux", reason="Linux only")]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _tail(path: Path, lines: int = 8) -> str:
    try:
        return " | ".join(path.read_text(errors="replace").strip().splitlines()[-lines:])
    except OSError:
        return "(no log)"


class OneNodeSlurm:
    """munged, slurmctld and slurmd in ``folder``, in the foreground, as children of ours."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.conf = folder / "slurm.conf"
        self.env = {**os.environ, "SLURM_CONF": str(self.conf)}
        self.procs: dict[str, subprocess.Popen[bytes]] = {}

    def cannot_start(self) -> str | None:
        """Why this machine cannot run the cluster, or None."""
        if os.geteuid() != 0:
            return "Slurm's daemons are started as root; not root"
        missing = [b for b in DAEMONS + CLIENTS if shutil.which(b) is None]
        if missing:
            return f"{', '.join(missing)} not found (apt-get install slurm-wlm munge)"
        return None

    def start(self) -> None:
        """Start the daemons and wait for the node to be idle; raises RuntimeError if not."""
        for sub in ("munge", "state", "spool", "log"):
            (self.folder / sub).mkdir(mode=0o700)
        key = self.folder / "munge" / "munge.key"
        key.write_bytes(os.urandom(1024))
        key.chmod(0o400)
        sock = self.folder / "munge" / "munge.socket"
        self._spawn("munged", ["munged", "-F", "-f", f"--socket={sock}", f"--key-file={key}",
                               f"--log-file={self.folder / 'log' / 'munged.log'}",
                               f"--pid-file={self.folder / 'munge' / 'munged.pid'}",
                               f"--seed-file={self.folder / 'munge' / 'munged.seed'}"])
        self._wait(lambda: sock.exists(), "munged did not create its socket")
        self.conf.write_text(self._slurm_conf(sock))
        self._spawn("slurmctld", ["slurmctld", "-D", "-i"])
        self._spawn("slurmd", ["slurmd", "-D", "-N", "localhost"])
        self._wait(lambda: self.run("sinfo", "-h", "-N", "-o", "%t").strip() == "idle",
                   "the node did not become idle")

    def _slurm_conf(self, sock: Path) -> str:
        node = subprocess.run(["slurmd", "-C"], capture_output=True, text=True, check=True)
        hardware = node.stdout.splitlines()[0].split(None, 1)[1]  # CPUs=... RealMemory=...
        d = self.folder
        return "\n".join([
            "ClusterName=grader-test",
            f"SlurmctldHost={socket.gethostname().split('.')[0]}(127.0.0.1)",
            f"SlurmctldPort={_free_port()}", f"SlurmdPort={_free_port()}",
            "SlurmUser=root", "SlurmdUser=root",
            "AuthType=auth/munge", "CredType=cred/munge", f"AuthInfo=socket={sock}",
            f"StateSaveLocation={d / 'state'}", f"SlurmdSpoolDir={d / 'spool'}",
            f"SlurmctldPidFile={d / 'slurmctld.pid'}", f"SlurmdPidFile={d / 'slurmd.pid'}",
            f"SlurmctldLogFile={d / 'log' / 'slurmctld.log'}",
            f"SlurmdLogFile={d / 'log' / 'slurmd.log'}",
            "ProctrackType=proctrack/linuxproc", "TaskPlugin=task/none",
            "JobAcctGatherType=jobacct_gather/none", "AccountingStorageType=accounting_storage/none",
            "JobCompType=jobcomp/none", "MpiDefault=none", "SwitchType=switch/none",
            "SelectType=select/cons_tres", "SelectTypeParameters=CR_Core_Memory",
            "ReturnToService=2", "MailProg=/bin/true",
            f"NodeName=localhost NodeAddr=127.0.0.1 {hardware} State=UNKNOWN",
            "PartitionName=debug Nodes=localhost Default=YES MaxTime=INFINITE State=UP", ""])

    def _spawn(self, name: str, cmd: list[str]) -> None:
        with open(self.folder / "log" / f"{name}.out", "wb") as out:
            self.procs[name] = subprocess.Popen(cmd, env=self.env, stdout=out, stderr=out,
                                                stdin=subprocess.DEVNULL, start_new_session=True)

    def _wait(self, ready: Any, what: str, timeout_s: float = 30.0) -> None:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            dead = [n for n, p in self.procs.items() if p.poll() is not None]
            if dead:
                what = f"{', '.join(dead)} exited"
                break
            if ready():
                return
            time.sleep(0.3)
        logs = "; ".join(f"{n}: {_tail(self.folder / 'log' / f'{n}.log')} "
                         f"{_tail(self.folder / 'log' / f'{n}.out', 3)}" for n in self.procs)
        raise RuntimeError(f"{what} within {timeout_s:g} s; {logs}")

    def run(self, *cmd: str) -> str:
        proc = subprocess.run(cmd, env=self.env, capture_output=True, text=True, timeout=30)
        return proc.stdout

    def jobs(self) -> dict[str, dict[str, str]]:
        """Every job slurmctld remembers (ended ones too, for MinJobAge), by id."""
        out = self.run("scontrol", "show", "job", "-o")
        jobs = [dict(re.findall(r"(\w+)=(\S*)", line)) for line in out.splitlines()]
        return {j["JobId"]: j for j in jobs if "JobId" in j}

    def stop(self) -> list[str]:
        """Cancel every job, stop the daemons; the processes that were left behind (killed)."""
        if "slurmd" in self.procs and self.procs["slurmd"].poll() is None:
            queued = self.run("squeue", "-h", "-o", "%i").split()
            if queued:
                self.run("scancel", *queued)
            deadline = time.monotonic() + 30
            while self.run("squeue", "-h", "-o", "%i").split() and time.monotonic() < deadline:
                time.sleep(0.5)
        for name in reversed(list(self.procs)):
            proc = self.procs[name]
            if proc.poll() is None:
                proc.terminate()
                try:
                    proc.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()
        return self._kill_leftovers()

    def _kill_leftovers(self) -> list[str]:
        """Processes that still carry our SLURM_CONF (job steps, workers): killed, named."""
        mark = f"SLURM_CONF={self.conf}".encode()
        left = []
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit() or int(entry.name) == os.getpid():
                continue
            try:
                if mark in (entry / "environ").read_bytes().split(b"\0"):
                    cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ")
                    os.kill(int(entry.name), signal.SIGKILL)
                    left.append(f"{entry.name} {cmdline.decode(errors='replace')[:80]}")
            except OSError:
                continue
        return left


@pytest.fixture(scope="module")
def slurm(tmp_path_factory: pytest.TempPathFactory) -> Iterator[OneNodeSlurm]:
    cluster = OneNodeSlurm(tmp_path_factory.mktemp("slurm"))
    reason = cluster.cannot_start()
    if reason:
        pytest.skip(reason)
    try:
        cluster.start()
    except (RuntimeError, OSError, subprocess.SubprocessError) as err:
        cluster.stop()
        pytest.skip(f"Slurm did not start: {err}")
    yield cluster
    left = cluster.stop()
    assert not left, f"left behind after the cluster stopped (now killed): {left}"


def _env(slurm: OneNodeSlurm) -> dict[str, str]:
    return {**slurm.env, "GRADE_REQUEST_TIMEOUT_S": "2", "GRADE_IMPORT_TIMEOUT_S": "10"}


@pytest.fixture(scope="module")
def workers(slurm: OneNodeSlurm) -> Iterator[dict[str, Path]]:
    """docs/slurm_workers.py asking for two one-CPU jobs; its scheduler file and job logs."""
    pytest.importorskip("dask_jobqueue")
    folder = slurm.folder / "course-run"
    folder.mkdir()
    files = {"scheduler": folder / "scheduler.json", "logs": folder / "slurm-logs"}
    out = open(folder / "recipe.out", "wb")  # noqa: SIM115 - open for the recipe's lifetime
    recipe = subprocess.Popen(
        [sys.executable, str(RECIPE), "--queue", "debug", "--jobs", "2", "--gpus", "0",
         "--cpus", "1", "--memory", "2GB", "--walltime", WALLTIME,
         "--log-dir", str(files["logs"]), "--scheduler-file", str(files["scheduler"])],
        cwd=folder, env=_env(slurm), stdout=out, stderr=out)
    try:
        deadline = time.monotonic() + 60
        while not files["scheduler"].exists():
            assert recipe.poll() is None, f"the recipe exited: {_tail(folder / 'recipe.out')}"
            assert time.monotonic() < deadline, "the recipe wrote no scheduler file in 60 s"
            time.sleep(0.2)
        yield files
    finally:
        recipe.send_signal(signal.SIGTERM)  # as an instructor's Ctrl-C: it cancels its jobs
        try:
            recipe.wait(timeout=60)
        except subprocess.TimeoutExpired:
            recipe.kill()
            recipe.wait()
        out.close()
    assert not slurm.run("squeue", "-h").strip(), "the recipe left its jobs queued"
    assert not files["scheduler"].exists(), "the recipe left its scheduler file"


@pytest.fixture(scope="module")
def submissions(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """correct, wrong, raising, hanging (.py) and a correct notebook."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("bench_batch", ROOT / "bench" / "bench_batch.py")
    assert spec and spec.loader
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    folder = tmp_path_factory.mktemp("subs")
    for name, kind, notebook in [("ana", "correct", False), ("ben", "wrong", False),
                                 ("cy", "raising", False), ("dee", "hanging", False),
                                 ("eve", "correct", True)]:
        bench.write_submission(folder, name, kind, notebook)
    return folder


def _grade(submissions: Path, out: Path, env: dict[str, str], *extra: str) -> None:
    proc = subprocess.run([sys.executable, "-m", "grader", "batch", "hw2", str(submissions),
                           "--out", str(out), "--course", str(ROOT), "-q", *extra], env=env,
                          capture_output=True, text=True, timeout=180)
    assert proc.returncode == 0, proc.stdout + proc.stderr


@pytest.fixture(scope="module")
def local(slurm: OneNodeSlurm, submissions: Path, tmp_path_factory: pytest.TempPathFactory,
          ) -> dict[str, Any]:
    """The same class graded by the local pool."""
    out = tmp_path_factory.mktemp("local")
    _grade(submissions, out, _env(slurm), "--jobs", "2")
    results = load_results(out)
    assert results["ana"].full_marks and results["eve"].full_marks
    assert results["ben"].score == results["ana"].score - 1
    assert {p.name: p.status for p in results["dee"].parts()}["tanh_grad"] == "timeout"
    return results


PROBE = """
import json, os, sys
from dask.distributed import Client

def here():
    mod = sys.modules.get("grader.batch.dask")
    return {"job": os.environ.get("SLURM_JOB_ID"), "judges": len(mod._JUDGES) if mod else 0}

with Client(scheduler_file=sys.argv[1], timeout="30s") as client:
    print(json.dumps(list(client.run(here).values())))
"""


def _workers(files: dict[str, Path], env: dict[str, str]) -> list[dict[str, Any]]:
    """Each Dask worker's Slurm job id and its count of judges (a judge: it graded)."""
    proc = subprocess.run([sys.executable, "-c", PROBE, str(files["scheduler"])], env=env,
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    return list(json.loads(proc.stdout))


def _states(jobs: dict[str, dict[str, str]]) -> dict[str, str]:
    return {i: f"{j['JobState']} after {j['RunTime']}" for i, j in jobs.items()}


def _same_scores(graded: dict[str, Any], local: dict[str, Any]) -> None:
    assert sorted(graded) == sorted(local)
    for student, result in graded.items():
        assert result.status == local[student].status, student
        assert result.score == local[student].score, student
        assert [(t.id, t.status, t.points) for t in result.tests] == \
            [(t.id, t.status, t.points) for t in local[student].tests], student


def test_grade_batch_through_sbatch_jobs_scores_as_the_local_pool(
        slurm: OneNodeSlurm, workers: dict[str, Path], submissions: Path,
        local: dict[str, Any]) -> None:
    out = slurm.folder / "graded-slurm"
    _grade(submissions, out, _env(slurm), "--executor", "dask", "--scheduler",
           str(workers["scheduler"]))
    _same_scores(load_results(out), local)
    # it ran in sbatch jobs: the recipe's, running, each worker inside one, the judges too
    jobs = slurm.jobs()
    ours = {i for i, j in jobs.items() if j["JobName"] == "dask-worker"}
    assert ours, jobs
    here = _workers(workers, _env(slurm))
    assert here and all(w["job"] in ours for w in here), (here, jobs)
    assert sum(w["judges"] for w in here) >= 1, here
    logs = [p.read_text(errors="replace") for p in workers["logs"].glob("dask-worker-*.err")]
    assert any("Registered to" in text for text in logs), logs


def test_workers_retire_before_the_walltime_and_new_jobs_take_their_place(
        slurm: OneNodeSlurm, workers: dict[str, Path], submissions: Path,
        local: dict[str, Any]) -> None:
    deadline = time.monotonic() + 150
    while True:  # the first two jobs end by themselves (not TIMEOUT); adapt() submits others
        jobs = slurm.jobs()
        first = sorted(jobs, key=int)[:2]
        replacements = {i for i, j in jobs.items() if i not in first and j["JobState"] == "RUNNING"}
        if all(jobs[i]["JobState"] not in ("PENDING", "RUNNING") for i in first) and \
                len(replacements) == 2:
            break
        assert time.monotonic() < deadline, _states(jobs)
        time.sleep(1)
    assert [jobs[i]["JobState"] for i in first] == ["COMPLETED"] * 2, _states(jobs)
    out = slurm.folder / "graded-again"
    _grade(submissions, out, _env(slurm), "--executor", "dask", "--scheduler",
           str(workers["scheduler"]))
    _same_scores(load_results(out), local)
    here = _workers(workers, _env(slurm))  # graded by the replacements
    assert {w["job"] for w in here} <= replacements and sum(w["judges"] for w in here), here
