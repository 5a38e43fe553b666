"""``grade batch --executor dask``: the same per-submission task on a Dask cluster.

The driver (the ``grade batch`` process) submits one task per submission and writes each
result as it streams back (``as_completed``) into the same ``DIR/results/`` as the local pool.
On each Dask worker process, the task hands the submission to a long-lived judge subprocess
(``python -m grader.batch.pool --worker``), started on the first task and reused after, so the
suite is collected once per worker and executors fork from that judge's template (torch
already imported). A worker that dies mid-task has its task rescheduled by the scheduler; a
task whose judge died is retried once, then recorded with status ``error``.

Workers need the course folder at the same path as the driver (a shared home or project
directory, as on a Slurm cluster) and this package installed; submissions travel inside
the task. Start one worker per GPU with ``--nthreads 1`` (see docs/batch.md).
``dask[distributed]`` is an optional extra: ``pip install 'torch-grader[dask]'``.
"""

from __future__ import annotations

import json
import os
import select
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from grader.errors import UsageError

__all__ = ["grade_task", "run_dask"]

_LOCK = threading.Lock()
_JUDGES: dict[str, _WorkerJudge] = {}


class _WorkerJudge:
    """The judge subprocess of one Dask worker process."""

    def __init__(self, course_root: str, hw_id: str, overrides: dict[str, Any]) -> None:
        cmd = [sys.executable, "-m", "grader.batch.pool", "--worker", "--course", course_root,
               "--homework", hw_id, "--overrides", json.dumps(overrides),
               "--slot", str(os.getpid() % 1000)]
        # its stderr, for the reason it died (on a cluster: a course folder not at this path)
        self.stderr = tempfile.TemporaryFile()
        self.proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=self.stderr, bufsize=0)
        self.buffer = b""

    def alive(self) -> bool:
        return self.proc.poll() is None

    def grade(self, student: str, prepared: dict[str, Any], timeout_s: float) -> dict[str, Any]:
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.proc.stdin.write((json.dumps({"student": student, "prepared": prepared}) + "\n")
                              .encode())
        self.proc.stdin.flush()
        deadline = time.monotonic() + timeout_s
        fd = self.proc.stdout.fileno()
        while True:
            while b"\n" in self.buffer:
                line, self.buffer = self.buffer.split(b"\n", 1)
                msg = json.loads(line)
                if "result" in msg:
                    return dict(msg)
            left = deadline - time.monotonic()
            if left <= 0:
                self.kill()
                raise TimeoutError(f"grading {student} ran past {timeout_s:g} s")
            ready, _, _ = select.select([fd], [], [], min(left, 5.0))
            if ready:
                chunk = os.read(fd, 1 << 20)
                if not chunk:
                    code = self.proc.wait()
                    hint = " (workers need the course folder at the driver's path)" \
                        if code == 2 else ""  # a GraderError: the course or its settings
                    raise RuntimeError(f"the judge process died (exit {code}) while grading "
                                       f"{student} on {socket.gethostname()}"
                                       f"{self.last_words()}{hint}")
                self.buffer += chunk

    def last_words(self) -> str:
        """``: <the last line the judge wrote on stderr>``, or nothing."""
        self.stderr.seek(0)
        lines = self.stderr.read().decode(errors="replace").strip().splitlines()
        return f": {lines[-1][:300]}" if lines else ""

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()
        self.stderr.close()


def grade_task(course_root: str, hw_id: str, overrides: dict[str, Any], student: str,
               prepared: dict[str, Any], timeout_s: float = 900.0) -> dict[str, Any]:
    """Grade one submission on this worker; returns ``{"result": dict, "log": str}``."""
    key = json.dumps([course_root, hw_id, overrides], sort_keys=True)
    with _LOCK:  # one submission at a time per judge (run workers with --nthreads 1)
        judge = _JUDGES.get(key)
        if judge is None or not judge.alive():
            judge = _JUDGES[key] = _WorkerJudge(course_root, hw_id, overrides)
        try:
            return judge.grade(student, prepared, timeout_s)
        except Exception:
            judge.kill()
            _JUDGES.pop(key, None)
            raise


def _client(scheduler: str | None, workers: int | None) -> tuple[Any, Any]:
    try:
        from dask.distributed import Client, LocalCluster
    except ImportError:
        raise UsageError("--executor dask needs Dask: pip install 'torch-grader[dask]' "
                         "(dask[distributed])") from None
    if scheduler is None:
        cluster = LocalCluster(n_workers=workers or os.cpu_count() or 1, threads_per_worker=1,
                               processes=True, dashboard_address=None)
        return Client(cluster), cluster
    try:
        if scheduler.endswith(".json") or Path(scheduler).is_file():
            return Client(scheduler_file=scheduler, timeout="30s"), None
        return Client(scheduler, timeout="30s"), None
    except (OSError, TimeoutError) as err:
        raise UsageError(f"--scheduler {scheduler}: cannot reach the Dask scheduler "
                         f"({type(err).__name__}: {err})") from None


def run_dask(jobs: list[Any], *, course_root: Path, hw_id: str, overrides: dict[str, Any],
             scheduler: str | None, workers: int | None,
             on_result: Callable[[Any, dict[str, Any] | None, str, str], None],
             retries: int = 1, timeout_s: float = 900.0) -> None:
    """Submit one task per job to the cluster and hand each result back as it completes."""
    from dask.distributed import as_completed

    client, cluster = _client(scheduler, workers)
    try:
        futures = {}
        for job in jobs:
            fut = client.submit(grade_task, str(course_root), hw_id, overrides, job.student,
                                job.prepared, timeout_s, pure=False, retries=retries,
                                key=f"grade-{hw_id}-{job.student}-{job.sha256[:12]}-"
                                    f"{time.time_ns()}")
            futures[fut] = job
        for fut in as_completed(list(futures)):
            job = futures[fut]
            try:
                msg = fut.result()
            except Exception as err:  # KilledWorker, the judge died twice, a timeout
                on_result(job, None, "", f"the Dask task failed ({type(err).__name__}: "
                          f"{str(err)[:300]}); not graded")
                continue
            on_result(job, msg["result"], msg.get("log", ""), "")
    finally:
        client.close()
        if cluster is not None:
            cluster.close()
