"""The Windows Job Object of a portable executor, checked without Windows: the structures have
the sizes of the Windows x64 ABI, and the calls ask for kill-on-close and the caps."""

from __future__ import annotations

import ctypes
from typing import Any

import pytest

from grader.launch import winjob


def test_structures_have_the_windows_x64_layout() -> None:
    if ctypes.sizeof(ctypes.c_void_p) != 8:
        pytest.skip("the layout checked is the 64-bit one")
    assert ctypes.sizeof(winjob.IO_COUNTERS) == 48
    assert ctypes.sizeof(winjob.JOBOBJECT_BASIC_LIMIT_INFORMATION) == 64
    assert ctypes.sizeof(winjob.JOBOBJECT_EXTENDED_LIMIT_INFORMATION) == 144
    assert winjob.JOBOBJECT_EXTENDED_LIMIT_INFORMATION.ProcessMemoryLimit.offset == 112


class FakeKernel32:
    """Records the calls a JobObject makes, and what the limits said."""

    def __init__(self) -> None:
        self.calls: list[str] = []
        self.limits: list[tuple[int, int, int, int]] = []
        self.CreateJobObjectW = self._call("create", 1234)

    def _call(self, name: str, result: Any = 1) -> Any:
        def call(*args: Any) -> Any:
            self.calls.append(name)
            return result

        call.restype = None  # type: ignore[attr-defined]
        return call

    def SetInformationJobObject(self, handle: Any, klass: int, info: Any, size: int) -> int:
        self.calls.append("set")
        limit = ctypes.cast(info, ctypes.POINTER(winjob.JOBOBJECT_EXTENDED_LIMIT_INFORMATION))[0]
        basic = limit.BasicLimitInformation
        self.limits.append((basic.LimitFlags, limit.ProcessMemoryLimit,
                            basic.ActiveProcessLimit, basic.PerProcessUserTimeLimit))
        assert klass == 9 and size == 144
        return 1

    def __getattr__(self, name: str) -> Any:
        return self._call(name)


def test_a_job_kills_on_close_and_caps_memory_cpu_and_processes() -> None:
    fake = FakeKernel32()
    job = winjob.JobObject(kernel32=fake)
    job.assign(99)
    job.set_limits(winjob.JobLimits(memory_bytes=3 << 30, cpu_s=600, processes=64))
    job.close()
    assert fake.calls == ["create", "set", "AssignProcessToJobObject", "set",
                          "TerminateJobObject", "CloseHandle"]
    first, capped = fake.limits
    assert first[0] & winjob.JOB_OBJECT_LIMIT_KILL_ON_JOB_CLOSE
    flags, memory, processes, cpu = capped
    assert flags & winjob.JOB_OBJECT_LIMIT_KILL_ON_JOB_CLOSE
    assert flags & winjob.JOB_OBJECT_LIMIT_PROCESS_MEMORY and memory == 3 << 30
    assert flags & winjob.JOB_OBJECT_LIMIT_ACTIVE_PROCESS and processes == 64
    assert flags & winjob.JOB_OBJECT_LIMIT_PROCESS_TIME and cpu == 600 * 10_000_000


def test_windows_crash_codes_have_words() -> None:
    assert "access violation" in (winjob.describe_windows_exit(0xC0000005) or "")
    assert "access violation" in (winjob.describe_windows_exit(-1073741819) or "")  # signed
    assert winjob.describe_windows_exit(3) is None
