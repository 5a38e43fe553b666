"""The portable launcher (judge side): each executor is a freshly spawned interpreter
(``python -P -m grader.executor.portable``) that talks to the judge over its pipes.

It works wherever Python and torch do: no fork, no Unix sockets, no signals needed. One
executor is started ahead as a warm spare (torch imported), so that a restart after a timeout
or a crash, or the next submission, does not wait for torch's import; two while restarts come
in quick succession. Killing an executor
kills its whole process tree: a Job Object on Windows; on POSIX its process group and every
descendant (on Linux the executor is a child subreaper, so double-forked daemons stay its
descendants), and when the grader is root every process of the executor's slot uid.
"""

from __future__ import annotations

import os
import queue
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Collection
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from grader.errors import ExecutorError, RequestTimeout
from grader.executor.processes import descendants
from grader.launch.executor import describe_exit, template_env
from grader.wire.messages import JUDGE_RECEIVES
from grader.wire.reader import FrameTooLarge, read_frame

if TYPE_CHECKING:
    import torch

    from grader.launch.winjob import JobObject

__all__ = ["PipeChannel", "PortableLauncher"]

READY_TIMEOUT_S = 120.0
BURST_S = 3.0  # spawns closer than this keep a second spare warm
_EOF = object()


class PipeChannel:
    """Frames on a spawned executor's pipes. One I/O thread per executor writes each frame
    and reads each reply, so that every wait has a deadline on every platform (``select``
    does not work on Windows pipes) and a reply over the cap is refused before its body is
    read. The thread reads a frame only when the judge asks for one."""

    def __init__(self, proc: subprocess.Popen[bytes]) -> None:
        self.proc = proc
        self._ops: queue.Queue[tuple[str, Any]] = queue.Queue()
        self._replies: queue.Queue[Any] = queue.Queue()
        self._waiting = False
        self._broken = False
        self._thread = threading.Thread(target=self._pump, daemon=True,
                                        name=f"grader-executor-{proc.pid}")
        self._thread.start()

    def _pump(self) -> None:
        assert self.proc.stdin is not None and self.proc.stdout is not None
        while True:
            op, arg = self._ops.get()
            if op == "stop":
                return
            try:
                if op == "send":
                    self.proc.stdin.write(arg)
                    continue
                self._replies.put(read_frame(self._read_exact, arg))
            except FrameTooLarge as big:
                self._replies.put(big)
                return
            except (OSError, ValueError, EOFError):
                self._broken = True
                if op == "recv":
                    self._replies.put(_EOF)
                # a failed write is noticed by the next receive

    def _read_exact(self, n: int) -> bytes:
        assert self.proc.stdout is not None
        chunks = []
        while n > 0:
            chunk = self.proc.stdout.read(min(n, 1 << 20))
            if not chunk:
                raise EOFError
            chunks.append(chunk)
            n -= len(chunk)
        return b"".join(chunks)

    def send(self, header: dict[str, Any], tensors: dict[str, torch.Tensor]) -> None:
        from grader.wire import frames

        if self._broken:
            raise BrokenPipeError("the executor's pipe is closed")
        self._ops.put(("send", frames.pack_frame(header, tensors)))

    def receive(self, deadline: float, max_bytes: int,
                accept: Collection[str] = JUDGE_RECEIVES,
                ) -> tuple[dict[str, Any], dict[str, torch.Tensor]]:
        from grader.wire import frames

        if not self._waiting:
            self._ops.put(("recv", max_bytes))
            self._waiting = True
        remaining = deadline - time.monotonic()
        try:
            item = self._replies.get(timeout=max(0.0, remaining))
        except queue.Empty:
            raise RequestTimeout("deadline") from None
        self._waiting = False
        if item is _EOF:
            raise EOFError
        if isinstance(item, FrameTooLarge):
            raise item
        return frames.unpack_frame(item, accept=accept)

    def close(self) -> None:
        self._ops.put(("stop", None))
        for pipe in (self.proc.stdin, self.proc.stdout):
            try:
                if pipe is not None:
                    pipe.close()
            except OSError:
                pass


@dataclass
class _Spawned:
    proc: subprocess.Popen[bytes]
    channel: PipeChannel
    job: JobObject | None = None
    info: dict[str, Any] | None = None
    uid: int | None = None
    started: float = field(default_factory=time.monotonic)


class PortableLauncher:
    """Spawns portable executors, one kept ahead as a warm spare."""

    def __init__(self, *, env: dict[str, str] | None = None, preload: tuple[str, ...] = (),
                 drops_uid: bool = False) -> None:
        self.env = template_env() if env is None else env
        self.preload = (*(("--drops-uid",) if drops_uid else ()), *preload)
        self.info: dict[str, Any] | None = None
        self.live: dict[int, _Spawned] = {}
        self.spares: list[_Spawned] = [self._start()]
        self.last_spawn = -BURST_S

    def _start(self) -> _Spawned:
        options: dict[str, Any] = {}
        if sys.platform == "win32":
            options["creationflags"] = (subprocess.CREATE_NEW_PROCESS_GROUP  # type: ignore[attr-defined]
                                        | subprocess.CREATE_NO_WINDOW)  # type: ignore[attr-defined]
        else:
            options["start_new_session"] = True  # its own process group, to kill as one
        try:
            proc = subprocess.Popen(
                [sys.executable, "-P", "-m", "grader.executor.portable", *self.preload],
                stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                env=self.env, cwd=tempfile.gettempdir(), bufsize=0, **options)
        except OSError as err:
            raise ExecutorError(f"could not start a portable executor ({sys.executable}): "
                                f"{err}") from None
        job = None
        if sys.platform == "win32":
            from grader.launch.winjob import JobObject

            job = JobObject()
            job.assign(int(proc._handle))  # type: ignore[attr-defined]
        return _Spawned(proc, PipeChannel(proc), job)

    def _greeting(self, spawned: _Spawned, timeout: float) -> dict[str, Any]:
        if spawned.info is None:
            try:
                header, _ = spawned.channel.receive(time.monotonic() + timeout, 1 << 16,
                                                    accept=("ready",))
            except Exception as err:  # noqa: BLE001 - any failure here: it did not start
                self._kill(spawned)
                raise ExecutorError(
                    f"a portable executor did not start ({type(err).__name__}); run "
                    f"`{sys.executable} -m grader.executor.portable` to see why") from None
            if not header.get("ready"):
                self._kill(spawned)
                raise ExecutorError("a portable executor sent an invalid greeting")
            spawned.info = header
        return spawned.info

    def ready(self, timeout: float = READY_TIMEOUT_S) -> dict[str, Any]:
        """Versions and the isolation level, once the first executor has imported torch."""
        if self.info is None:
            if not self.spares:
                self.spares.append(self._start())
            self.info = self._greeting(self.spares[0], timeout)
        return self.info

    def spawn(self, config: dict[str, Any]) -> tuple[int, PipeChannel]:
        """Hand out the oldest warm spare (or a new executor) with this config, and start the
        next spare. Restarts in quick succession (a function that crashes its executor in every
        test) keep two spares importing torch side by side, one per core."""
        spawned = self.spares.pop(0) if self.spares else self._start()
        now = time.monotonic()
        wanted = 2 if now - self.last_spawn < BURST_S else 1
        self.last_spawn = now
        while len(self.spares) < wanted:
            self.spares.append(self._start())
        self._greeting(spawned, READY_TIMEOUT_S)
        if spawned.job is not None:
            from grader.launch.winjob import JobLimits

            limits = config["limits"]
            base = spawned.job.committed_bytes(int(spawned.proc._handle))  # type: ignore[attr-defined]
            spawned.job.set_limits(JobLimits(
                memory_bytes=(base or 1 << 30) + int(limits["memory_budget_bytes"]),
                cpu_s=int(limits["cpu_s"]), processes=min(int(limits.get("nproc") or 64), 64)))
        spawned.uid = config.get("uid")
        spawned.channel.send({"sandbox": config}, {})
        self.live[spawned.proc.pid] = spawned
        return spawned.proc.pid, spawned.channel

    def kill(self, pid: int) -> None:
        """Kill an executor and every process it started."""
        spawned = self.live.pop(pid, None)
        if spawned is not None:
            self._kill(spawned)

    def ending(self, pid: int, timeout: float) -> str:
        """How an executor that stopped answering ended, in words."""
        spawned = self.live.get(pid)
        if spawned is None:
            return "the executor stopped answering"
        try:
            code: int | None = spawned.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            code = None
        return describe_exit(code)

    def _kill(self, spawned: _Spawned) -> None:
        spawned.channel.close()
        if spawned.job is not None:
            spawned.job.close()
        else:
            _kill_tree(spawned.proc.pid)
        try:
            spawned.proc.kill()
        except OSError:
            pass
        spawned.proc.wait()
        if spawned.uid is not None and getattr(os, "geteuid", lambda: -1)() == 0:
            from grader.executor.sandbox import reap_uid

            reap_uid(int(spawned.uid))

    def close(self) -> None:
        """Kill every executor, the spare included."""
        for pid in list(self.live):
            self.kill(pid)
        for spare in self.spares:
            self._kill(spare)
        self.spares = []


def _kill_tree(pid: int) -> None:
    """SIGKILL a POSIX executor's descendants, then its process group. The executor is
    stopped first: as a subreaper it keeps adopting orphans, but forks nothing more."""
    kill = getattr(os, "kill", None)
    stop, sigkill = getattr(signal, "SIGSTOP", None), getattr(signal, "SIGKILL", None)
    if kill is None or sigkill is None:
        return
    try:
        if stop is not None:
            kill(pid, stop)
    except OSError:
        return
    for _ in range(20):
        tree = descendants(pid)
        if not tree:
            break
        for child in tree:
            try:
                kill(child, sigkill)
            except OSError:
                pass
        time.sleep(0.005)
    killpg = getattr(os, "killpg", None)
    if killpg is not None:
        try:
            killpg(pid, sigkill)
        except OSError:
            pass
