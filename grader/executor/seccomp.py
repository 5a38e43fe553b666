"""The executor's system-call filter: a deny-list in classic BPF, loaded with
prctl(PR_SET_SECCOMP) in the confined process (inherited by every child; needs no_new_privs).

Denied with EPERM: ptrace, process_vm_readv/writev, bpf, perf_event_open, userfaultfd,
keyctl/add_key/request_key, mount and the new mount API, umount2, pivot_root, unshare, setns,
module loading, kexec, io_uring, personality; clone with any CLONE_NEW* flag; clone3 answers
ENOSYS (glibc falls back to clone, whose flags the filter can read); socket() of any family but
AF_UNIX answers EAFNOSUPPORT. System calls of a foreign ABI (i386 through int 0x80, x32) answer
EPERM, so the filter cannot be sidestepped through them.

With ``own_pid`` (the levels without a pid namespace), signals are confined to the executor's
own tree: kill() may only target 0, ``own_pid`` or ``-own_pid`` (its process group: it leads its
own session); tkill, tgkill, rt_sigqueueinfo and rt_tgsigqueueinfo only ``own_pid``'s threads;
pidfd_send_signal is refused. So ``os.kill(os.getppid(), 9)`` or ``os.kill(-1, 9)`` answers
EPERM instead of killing the template, the judge or the user's shell.

Executor side: standard library only.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
from typing import Any

__all__ = ["install_seccomp", "seccomp_program"]

CLONE_NEWNS = 0x00020000
CLONE_NEWUTS = 0x04000000
CLONE_NEWIPC = 0x08000000
CLONE_NEWUSER = 0x10000000
CLONE_NEWPID = 0x20000000
CLONE_NEWNET = 0x40000000
PR_SET_NO_NEW_PRIVS = 38


_AUDIT_ARCH = {"x86_64": 0xC000003E, "aarch64": 0xC00000B7}
_DENY = {
    "x86_64": {"ptrace": 101, "process_vm_readv": 310, "process_vm_writev": 311, "bpf": 321,
               "perf_event_open": 298, "userfaultfd": 323, "keyctl": 250, "add_key": 248,
               "request_key": 249, "mount": 165, "umount2": 166, "pivot_root": 155,
               "unshare": 272, "setns": 308, "init_module": 175, "finit_module": 313,
               "delete_module": 176, "kexec_load": 246, "kexec_file_load": 320,
               "personality": 135, "io_uring_setup": 425, "io_uring_enter": 426,
               "io_uring_register": 427, "open_tree": 428, "move_mount": 429, "fsopen": 430,
               "fsconfig": 431, "fsmount": 432, "fspick": 433, "mount_setattr": 442,
               "acct": 163, "swapon": 167, "swapoff": 168, "reboot": 169, "chroot": 161},
    "aarch64": {"ptrace": 117, "process_vm_readv": 270, "process_vm_writev": 271, "bpf": 280,
                "perf_event_open": 241, "userfaultfd": 282, "keyctl": 219, "add_key": 217,
                "request_key": 218, "mount": 40, "umount2": 39, "pivot_root": 41,
                "unshare": 97, "setns": 268, "init_module": 105, "finit_module": 273,
                "delete_module": 106, "kexec_load": 104, "kexec_file_load": 294,
                "personality": 92, "io_uring_setup": 425, "io_uring_enter": 426,
                "io_uring_register": 427, "open_tree": 428, "move_mount": 429, "fsopen": 430,
                "fsconfig": 431, "fsmount": 432, "fspick": 433, "mount_setattr": 442,
                "acct": 89, "swapon": 224, "swapoff": 225, "reboot": 142, "chroot": 51},
}
_SOCKET = {"x86_64": 41, "aarch64": 198}
# kill, then the calls that name a thread group or thread: tkill, tgkill, rt_sigqueueinfo,
# rt_tgsigqueueinfo; pidfd_send_signal shares its number on both ABIs.
_KILL = {"x86_64": 62, "aarch64": 129}
_THREAD_SIGNALS = {"x86_64": (200, 234, 129, 297), "aarch64": (130, 131, 138, 240)}
_PIDFD_SEND_SIGNAL = 424
_CLONE = {"x86_64": 56, "aarch64": 220}
_CLONE3 = 435
_NS_FLAGS = (CLONE_NEWNS | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWUSER | CLONE_NEWPID
             | CLONE_NEWNET | 0x02000000)  # the last one: CLONE_NEWCGROUP
_EPERM, _ENOSYS, _EAFNOSUPPORT = 1, 38, 97
_RET_ALLOW = 0x7FFF0000
_RET_ERRNO = 0x00050000
_LD_ABS_W, _JEQ, _JGE, _JSET, _RET = 0x20, 0x15, 0x35, 0x45, 0x06
PR_SET_SECCOMP = 22
SECCOMP_MODE_FILTER = 2


class _SockFilter(ctypes.Structure):
    _fields_ = [("code", ctypes.c_ushort), ("jt", ctypes.c_ubyte), ("jf", ctypes.c_ubyte),
                ("k", ctypes.c_uint32)]


class _SockFprog(ctypes.Structure):
    _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.POINTER(_SockFilter))]


def seccomp_program(machine: str | None = None, own_pid: int | None = None,
                    ) -> list[tuple[int, int, int, int]]:
    """The filter as (code, jt, jf, k) instructions for this machine's ABI; with ``own_pid``,
    signals confined to that process and its process group."""
    machine = machine or os.uname().machine
    if machine not in _AUDIT_ARCH:
        raise OSError(f"no seccomp filter for {machine}")
    # Assemble with labels: jt/jf are label names or 0 (fall through).
    prog: list[tuple[int, Any, Any, int]] = []
    labels: dict[str, int] = {}

    def emit(code: int, k: int, jt: Any = 0, jf: Any = 0) -> None:
        prog.append((code, jt, jf, k))

    emit(_LD_ABS_W, 4)  # seccomp_data.arch
    emit(_JEQ, _AUDIT_ARCH[machine], 0, "eperm")
    emit(_LD_ABS_W, 0)  # seccomp_data.nr
    if machine == "x86_64":
        emit(_JGE, 0x40000000, "eperm", 0)  # the x32 ABI
    for nr in sorted(set(_DENY[machine].values())):
        emit(_JEQ, nr, "eperm", 0)
    emit(_JEQ, _SOCKET[machine], "socket", 0)
    emit(_JEQ, _CLONE[machine], "clone", 0)
    emit(_JEQ, _CLONE3, "enosys", 0)
    if own_pid is not None:
        emit(_JEQ, _KILL[machine], "kill", 0)
        for nr in _THREAD_SIGNALS[machine]:
            emit(_JEQ, nr, "own_threads", 0)
        emit(_JEQ, _PIDFD_SEND_SIGNAL, "eperm", 0)
    emit(_RET, _RET_ALLOW)
    if own_pid is not None:
        labels["kill"] = len(prog)
        emit(_LD_ABS_W, 16)  # low half of args[0]: the target (pid_t is 32 bits)
        emit(_JEQ, 0, "allow", 0)  # its own process group
        emit(_JEQ, own_pid, "allow", 0)
        emit(_JEQ, -own_pid & 0xFFFFFFFF, "allow", "eperm")  # its group, by number
        labels["own_threads"] = len(prog)
        emit(_LD_ABS_W, 16)  # the thread group (tgkill, rt_*) or thread (tkill)
        emit(_JEQ, own_pid, "allow", "eperm")
    labels["socket"] = len(prog)
    emit(_LD_ABS_W, 16)  # low half of args[0]: the address family
    emit(_JEQ, 1, "allow", 0)  # AF_UNIX
    emit(_RET, _RET_ERRNO | _EAFNOSUPPORT)
    labels["clone"] = len(prog)
    emit(_LD_ABS_W, 16)  # low half of args[0]: the clone flags
    emit(_JSET, _NS_FLAGS, "eperm", 0)
    labels["allow"] = len(prog)
    emit(_RET, _RET_ALLOW)
    labels["eperm"] = len(prog)
    emit(_RET, _RET_ERRNO | _EPERM)
    labels["enosys"] = len(prog)
    emit(_RET, _RET_ERRNO | _ENOSYS)
    out = []
    for i, (code, jt, jf, k) in enumerate(prog):
        offsets = [labels[j] - i - 1 if isinstance(j, str) else j for j in (jt, jf)]
        if not all(0 <= o < 256 for o in offsets):
            raise AssertionError("seccomp jump out of range")
        out.append((code, offsets[0], offsets[1], k))
    return out


def install_seccomp(own_pid: int | None = None) -> None:
    """Load the filter into this process (inherited by every child; needs no_new_privs)."""
    program = seccomp_program(own_pid=own_pid)
    filters = (_SockFilter * len(program))(*[_SockFilter(c, t, f, k) for c, t, f, k in program])
    fprog = _SockFprog(len(program), filters)
    _libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0)
    rc = _libc.prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, ctypes.byref(fprog), 0, 0)
    if rc != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"prctl(PR_SET_SECCOMP): {os.strerror(err)}")


_libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
