"""Windows Job Objects for portable executors (judge side): the executor and every process it
starts belong to one job that is killed as a whole, with a cap on memory, CPU time and the
number of processes. ``Popen.kill`` alone would kill one process and leave its children.

Everything is reached through ctypes at call time, with explicitly sized types, so that this
module imports (and its structures can be checked) on any platform.
"""

from __future__ import annotations

import ctypes
from dataclasses import dataclass
from typing import Any

__all__ = ["JobLimits", "JobObject", "describe_windows_exit"]

DWORD = ctypes.c_uint32
LARGE_INTEGER = ctypes.c_int64
SIZE_T = ctypes.c_size_t
HANDLE = ctypes.c_void_p

JOB_OBJECT_EXTENDED_LIMIT_INFORMATION_CLASS = 9
JOB_OBJECT_LIMIT_PROCESS_TIME = 0x00000002
JOB_OBJECT_LIMIT_ACTIVE_PROCESS = 0x00000008
JOB_OBJECT_LIMIT_PROCESS_MEMORY = 0x00000100
JOB_OBJECT_LIMIT_DIE_ON_UNHANDLED_EXCEPTION = 0x00000400
JOB_OBJECT_LIMIT_KILL_ON_JOB_CLOSE = 0x00002000


class IO_COUNTERS(ctypes.Structure):
    _fields_ = [(name, ctypes.c_uint64) for name in (
        "ReadOperationCount", "WriteOperationCount", "OtherOperationCount",
        "ReadTransferCount", "WriteTransferCount", "OtherTransferCount")]


class JOBOBJECT_BASIC_LIMIT_INFORMATION(ctypes.Structure):
    _fields_ = [("PerProcessUserTimeLimit", LARGE_INTEGER), ("PerJobUserTimeLimit", LARGE_INTEGER),
                ("LimitFlags", DWORD), ("MinimumWorkingSetSize", SIZE_T),
                ("MaximumWorkingSetSize", SIZE_T), ("ActiveProcessLimit", DWORD),
                ("Affinity", SIZE_T), ("PriorityClass", DWORD), ("SchedulingClass", DWORD)]


class JOBOBJECT_EXTENDED_LIMIT_INFORMATION(ctypes.Structure):
    _fields_ = [("BasicLimitInformation", JOBOBJECT_BASIC_LIMIT_INFORMATION),
                ("IoInfo", IO_COUNTERS), ("ProcessMemoryLimit", SIZE_T),
                ("JobMemoryLimit", SIZE_T), ("PeakProcessMemoryUsed", SIZE_T),
                ("PeakJobMemoryUsed", SIZE_T)]


@dataclass(frozen=True)
class JobLimits:
    """The caps of one executor's job."""

    memory_bytes: int
    cpu_s: int
    processes: int


def limit_information(limits: JobLimits | None) -> JOBOBJECT_EXTENDED_LIMIT_INFORMATION:
    """The job's limits: always kill-on-close; with ``limits``, the caps too."""
    info = JOBOBJECT_EXTENDED_LIMIT_INFORMATION()
    flags = JOB_OBJECT_LIMIT_KILL_ON_JOB_CLOSE | JOB_OBJECT_LIMIT_DIE_ON_UNHANDLED_EXCEPTION
    if limits is not None:
        flags |= (JOB_OBJECT_LIMIT_PROCESS_MEMORY | JOB_OBJECT_LIMIT_PROCESS_TIME
                  | JOB_OBJECT_LIMIT_ACTIVE_PROCESS)
        info.ProcessMemoryLimit = limits.memory_bytes
        info.BasicLimitInformation.PerProcessUserTimeLimit = limits.cpu_s * 10_000_000  # 100 ns
        info.BasicLimitInformation.ActiveProcessLimit = limits.processes
    info.BasicLimitInformation.LimitFlags = flags
    return info


class JobObject:
    """One job holding one executor and its descendants."""

    def __init__(self, kernel32: Any = None) -> None:
        self.kernel32 = kernel32 if kernel32 is not None else \
            ctypes.WinDLL("kernel32", use_last_error=True)  # type: ignore[attr-defined]
        self.kernel32.CreateJobObjectW.restype = HANDLE
        self.handle = self.kernel32.CreateJobObjectW(None, None)
        if not self.handle:
            raise OSError(ctypes.get_last_error(), "CreateJobObjectW")  # type: ignore[attr-defined]
        self.set_limits(None)

    def set_limits(self, limits: JobLimits | None) -> None:
        info = limit_information(limits)
        if not self.kernel32.SetInformationJobObject(
                HANDLE(self.handle), JOB_OBJECT_EXTENDED_LIMIT_INFORMATION_CLASS,
                ctypes.byref(info), ctypes.sizeof(info)):
            raise OSError(ctypes.get_last_error(), "SetInformationJobObject")  # type: ignore[attr-defined]

    def assign(self, process_handle: int) -> None:
        """Put a (just started) process into the job; its children follow it there."""
        if not self.kernel32.AssignProcessToJobObject(HANDLE(self.handle), HANDLE(process_handle)):
            raise OSError(ctypes.get_last_error(), "AssignProcessToJobObject")  # type: ignore[attr-defined]

    def committed_bytes(self, process_handle: int) -> int:
        """How much memory a process has committed (its start-up size), 0 if unknown."""
        class Counters(ctypes.Structure):
            _fields_ = [("cb", DWORD), ("PageFaultCount", DWORD)] + [
                (n, SIZE_T) for n in ("PeakWorkingSetSize", "WorkingSetSize",
                                      "QuotaPeakPagedPoolUsage", "QuotaPagedPoolUsage",
                                      "QuotaPeakNonPagedPoolUsage", "QuotaNonPagedPoolUsage",
                                      "PagefileUsage", "PeakPagefileUsage")]

        counters = Counters()
        counters.cb = ctypes.sizeof(counters)
        ok = self.kernel32.K32GetProcessMemoryInfo(HANDLE(process_handle), ctypes.byref(counters),
                                                   counters.cb)
        return int(counters.PagefileUsage) if ok else 0

    def close(self) -> None:
        """Kill every process of the job (kill-on-close) and release it."""
        if self.handle:
            self.kernel32.TerminateJobObject(HANDLE(self.handle), 1)
            self.kernel32.CloseHandle(HANDLE(self.handle))
            self.handle = None


_WINDOWS_CODES = {
    0xC0000005: "the process crashed with an access violation (a segmentation fault)",
    0xC00000FD: "the process crashed with a stack overflow (endless recursion?)",
    0xC0000017: "the process ran out of memory",
    0xC000012D: "the process ran out of memory (its commit limit)",
    0xC0000409: "the process crashed (a fatal error in a library)",
}


def describe_windows_exit(code: int) -> str | None:
    """Words for a Windows crash code (NTSTATUS), or None when it is an ordinary exit code."""
    return _WINDOWS_CODES.get(code & 0xFFFFFFFF)
