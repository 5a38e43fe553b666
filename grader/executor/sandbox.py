"""Confinement of one executor process, applied in the child right after the template forks it.

Two levels, recorded in every result:

* ``process``: a new session, resource limits (CPU seconds, address space or data, file size,
  processes, open files, no core dumps), a private working directory holding only the
  submission, and, when the grader runs as root, an unprivileged slot uid.
* ``namespace``: everything above, plus new mount, pid, network, IPC and UTS namespaces (entered
  with ``unshare``; as root directly, otherwise through a user namespace): no network, a fresh
  size-capped ``/tmp``, the whole tree read-only, the course and home directories hidden except
  for the Python installation, and a pid namespace so that every process the submission starts
  dies with it.

This module runs on the executor side: standard library only.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import resource
import signal
import sys
from typing import Any

# At the top, so the template loads it before any fork: an executor importing it would run
# ctypes' find_library, which spawns ldconfig, once per submission.
from grader.executor.seccomp import install_seccomp

__all__ = ["PidNamespaces", "available_isolation", "claim_uid", "confine", "reap_uid"]

CLONE_NEWNS = 0x00020000
CLONE_NEWUTS = 0x04000000
CLONE_NEWIPC = 0x08000000
CLONE_NEWUSER = 0x10000000
CLONE_NEWPID = 0x20000000
CLONE_NEWNET = 0x40000000
MS_RDONLY = 1
MS_NOSUID = 2
MS_NODEV = 4
MS_NOEXEC = 8
MS_REMOUNT = 32
MS_BIND = 4096
MS_REC = 16384
MS_PRIVATE = 1 << 18
PR_SET_PDEATHSIG = 1
PR_SET_NO_NEW_PRIVS = 38
SYS_OPEN_TREE = 428  # the new mount syscalls share their numbers on x86_64 and aarch64
SYS_MOVE_MOUNT = 429
SYS_MOUNT_SETATTR = 442
OPEN_TREE_CLONE = 1
OPEN_TREE_CLOEXEC = 0o2000000
MOVE_MOUNT_F_EMPTY_PATH = 0x00000004
AT_FDCWD = -100
AT_RECURSIVE = 0x8000
MOUNT_ATTR_RDONLY = 0x1

_libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)


class _MountAttr(ctypes.Structure):
    _fields_ = [("attr_set", ctypes.c_uint64), ("attr_clr", ctypes.c_uint64),
                ("propagation", ctypes.c_uint64), ("userns_fd", ctypes.c_uint64)]


def _check(rc: int, what: str) -> None:
    if rc != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"{what}: {os.strerror(err)}")


PR_SET_CHILD_SUBREAPER = 36


def become_subreaper() -> None:
    """Adopt orphaned descendants, so that double-forked daemons are reaped by us."""
    _libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)


def prctl_pdeathsig(sig: int = signal.SIGKILL) -> None:
    """Ask the kernel to kill this process when its parent dies."""
    _libc.prctl(PR_SET_PDEATHSIG, sig, 0, 0, 0)


def _mount(source: str | None, target: str, fstype: str | None, flags: int, data: str | None = None) -> None:
    rc = _libc.mount(source.encode() if source else None, target.encode(),
                     fstype.encode() if fstype else None, ctypes.c_ulong(flags),
                     data.encode() if data else None)
    _check(rc, f"mount {target}")


def _unshare(flags: int) -> None:
    _check(_libc.unshare(flags), "unshare")


def available_isolation() -> str:
    """The strongest level this machine allows: ``namespace`` when a trial confinement works.

    The trial runs the whole namespace setup (unshare, a pid namespace, the mounts) in a
    throwaway child, so a kernel that offers namespaces but not the new mount calls (gVisor,
    old kernels) is found out here, not in a student's executor.
    """
    pid = os.fork()
    if pid == 0:
        try:
            os.setsid()
            _enter_namespaces(os.geteuid() == 0)
            inner = os.fork()
            if inner == 0:
                try:
                    _build_mounts({"limits": {"tmp_bytes": 1 << 20}, "hide": [],
                                   "keep": [sys.prefix]})
                    _mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC)
                    os._exit(0)
                except BaseException:
                    os._exit(1)
            _, status = os.waitpid(inner, 0)
            os._exit(os.waitstatus_to_exitcode(status))
        except BaseException:
            os._exit(1)
    _, status = os.waitpid(pid, 0)
    return "namespace" if os.waitstatus_to_exitcode(status) == 0 else "process"


def set_limits(limits: dict[str, Any]) -> None:
    """Apply the resource limits of one executor (both soft and hard, so they cannot be raised)."""
    pairs = {
        resource.RLIMIT_CPU: int(limits["cpu_s"]),
        resource.RLIMIT_FSIZE: int(limits["fsize_bytes"]),
        resource.RLIMIT_NOFILE: int(limits.get("nofile", 256)),
        resource.RLIMIT_CORE: 0,
    }
    budget = int(limits["memory_budget_bytes"])
    if limits.get("memory_kind", "as") == "data":  # CUDA needs a huge address space
        pairs[resource.RLIMIT_DATA] = _vm_bytes("VmData") + budget
    else:
        pairs[resource.RLIMIT_AS] = _vm_bytes("VmSize") + budget
    if limits.get("nproc"):
        pairs[resource.RLIMIT_NPROC] = int(limits["nproc"])
    for kind, value in pairs.items():
        soft, hard = resource.getrlimit(kind)
        if hard != resource.RLIM_INFINITY:
            value = min(value, hard)
        resource.setrlimit(kind, (value, value))
    # An output flood then fails its writes with EFBIG instead of killing the process.
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)


def _vm_bytes(field: str) -> int:
    """This process's current size of a /proc/self/status field, in bytes."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1]) * 1024
    return 0


def _drop_uid(uid: int) -> None:
    os.setgroups([])
    os.setresgid(uid, uid, uid)
    os.setresuid(uid, uid, uid)


def _write_map(path: str, line: str) -> None:
    with open(path, "w") as f:
        f.write(line)


class PidNamespaces:
    """As root, the template forks each executor straight into a new pid namespace, as its
    init: ``unshare(CLONE_NEWPID)`` before the fork, back to its own namespace after it.
    Without this, the executor forks once more to get an init, and copying (then tearing
    down) torch's 150 MB of page tables a second time costs 10 to 15 ms per executor."""

    def __init__(self) -> None:
        self.own: int | None = None
        if os.geteuid() != 0:
            return
        try:
            fd = os.open("/proc/self/ns/pid_for_children", os.O_RDONLY | os.O_CLOEXEC)
        except OSError:
            return
        if _libc.unshare(CLONE_NEWPID) != 0:
            os.close(fd)
            return
        if _libc.setns(fd, CLONE_NEWPID) != 0:
            raise OSError(ctypes.get_errno(), "setns back to the template's pid namespace")
        self.own = fd

    def enter(self) -> bool:
        """Make the next fork the init of a new pid namespace; False if this is not possible."""
        return self.own is not None and _libc.unshare(CLONE_NEWPID) == 0

    def leave(self) -> None:
        """Fork into the template's own pid namespace again."""
        assert self.own is not None
        _check(_libc.setns(self.own, CLONE_NEWPID), "setns")

    def close(self) -> None:
        """Drop the handle on the template's namespace (in a forked executor)."""
        if self.own is not None:
            os.close(self.own)
            self.own = None


def _enter_namespaces(is_root: bool, *, pid: bool = True) -> None:
    """Unshare mount/pid/net/ipc/uts namespaces, through a user namespace when not root."""
    flags = CLONE_NEWNS | CLONE_NEWNET | CLONE_NEWIPC | CLONE_NEWUTS | (CLONE_NEWPID if pid else 0)
    if is_root:
        _unshare(flags)
        return
    uid, gid = os.geteuid(), os.getegid()
    _unshare(flags | CLONE_NEWUSER)
    _write_map("/proc/self/setgroups", "deny")
    _write_map("/proc/self/uid_map", f"{uid} {uid} 1")
    _write_map("/proc/self/gid_map", f"{gid} {gid} 1")


def _clone_tree(path: str) -> int:
    """A detached copy of the mount tree at ``path``, to attach again after its parent is hidden."""
    fd = _libc.syscall(SYS_OPEN_TREE, AT_FDCWD, path.encode(),
                       OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_RECURSIVE)
    if fd < 0:
        _check(-1, f"open_tree {path}")
    return int(fd)


def _attach_tree(fd: int, path: str) -> None:
    os.makedirs(path, exist_ok=True)
    rc = _libc.syscall(SYS_MOVE_MOUNT, fd, b"", AT_FDCWD, path.encode(), MOVE_MOUNT_F_EMPTY_PATH)
    _check(rc, f"move_mount {path}")
    os.close(fd)


def _set_readonly(path: str, readonly: bool) -> int:
    attr = _MountAttr(MOUNT_ATTR_RDONLY, 0, 0, 0) if readonly else _MountAttr(0, MOUNT_ATTR_RDONLY, 0, 0)
    return int(_libc.syscall(SYS_MOUNT_SETATTR, AT_FDCWD, path.encode(), AT_RECURSIVE,
                             ctypes.byref(attr), ctypes.sizeof(attr)))


SCRATCH = ("/tmp", "/dev/shm", "/var/tmp")


def _build_mounts(config: dict[str, Any]) -> None:
    """Inside the new mount namespace: hide secrets, bind back what is needed, make / read-only."""
    _mount(None, "/", None, MS_REC | MS_PRIVATE)
    tmp_size = int(config["limits"]["tmp_bytes"])
    keep = sorted({os.path.realpath(p) for p in config.get("keep", []) if os.path.exists(p)})
    kept = [(path, _clone_tree(path)) for path in keep]
    for hidden in config.get("hide", []):
        if os.path.isdir(hidden) and not os.path.islink(hidden):
            _mount("tmpfs", hidden, "tmpfs", MS_NOSUID | MS_NODEV, "size=1m,mode=755")
    for path in SCRATCH:
        if os.path.isdir(path):
            _mount("tmpfs", path, "tmpfs", MS_NOSUID | MS_NODEV, f"size={tmp_size},mode=1777")
    for path, fd in kept:  # the Python installation, wherever it was hidden
        _attach_tree(fd, path)
    if _set_readonly("/", True) != 0:  # older kernels: at least the root mount
        _mount(None, "/", None, MS_BIND | MS_REMOUNT | MS_RDONLY)
    for path in SCRATCH:  # the scratch areas stay writable
        if os.path.isdir(path):
            _set_readonly(path, False)
    for path, _ in kept:  # but not what was kept inside one (a course cloned under /tmp)
        if any(path.startswith(s + "/") for s in SCRATCH):
            _set_readonly(path, True)


def confine(config: dict[str, Any], *, new_session: bool = True) -> int | None:
    """Confine the calling (freshly forked) process. Returns the pid to wait for in the
    namespace case (the caller becomes a waiting parent), or None in the confined process.
    ``new_session=False``: the process already leads its own session (a spawned executor).
    """
    if new_session:
        os.setsid()
    prctl_pdeathsig()
    is_root = os.geteuid() == 0
    if config["isolation"] == "namespace":
        in_new_pid_ns = bool(config.get("pid_namespace_init")) and os.getpid() == 1
        _enter_namespaces(is_root, pid=not in_new_pid_ns)
        if not in_new_pid_ns:
            pid = os.fork()  # the first child of a new pid namespace is its init
            if pid != 0:
                return pid
            prctl_pdeathsig()
        _build_mounts(config)
        _mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC)
    set_limits(config["limits"])
    uid = config.get("uid")
    if is_root and uid is not None:
        _drop_uid(int(uid))
        prctl_pdeathsig()  # the kernel clears the parent-death signal on a change of uid
    _libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0)
    if config.get("seccomp", True):
        # Without a pid namespace the executor sees (and, at the grader's own uid, could
        # signal) the template, the judge and the user's shell: signals may then only reach
        # the executor itself and its process group.
        install_seccomp(own_pid=os.getpid() if config["isolation"] != "namespace" else None)
    return None


def reap_uid(uid: int, timeout_s: float = 3.0) -> int:
    """Kill every process of ``uid`` and wait until none is left; returns how many were seen.

    Run before a slot uid is reused, so a fork bomb's leftovers cannot reach the next
    submission. Only ever called as root with an unprivileged ``uid``.
    """
    import time

    if uid == 0:
        raise ValueError("refusing to reap uid 0")
    seen = 0
    deadline = time.monotonic() + timeout_s
    while True:
        pids = _pids_of_uid(uid)
        if not pids:
            return seen
        seen = max(seen, len(pids))
        pid = os.fork()
        if pid == 0:
            try:
                _drop_uid(uid)
                os.kill(-1, signal.SIGKILL)
            finally:
                os._exit(0)
        os.waitpid(pid, 0)
        if time.monotonic() > deadline:
            return seen
        time.sleep(0.02)


def _pids_of_uid(uid: int) -> list[int]:
    pids = []
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            if os.stat(f"/proc/{name}").st_uid != uid:
                continue
            with open(f"/proc/{name}/stat", "rb") as f:
                state = f.read().rsplit(b")", 1)[1].split()[0]
        except (OSError, IndexError):
            continue
        if state not in (b"Z", b"X"):  # a zombie holds no resources; its parent reaps it
            pids.append(int(name))
    return pids


# --- slot uids ---------------------------------------------------------------------------------

_claimed: dict[tuple[int, int], tuple[int, int]] = {}


def claim_uid(first: int, slot: int = 0, span: int = 4096) -> int:
    """A sandbox uid no other grader process on this machine uses, held until this process ends.

    Two grader runs on one machine (two instructors, a batch and a ``grade check``) must not
    share a slot uid: reaping one's leftovers would kill the other's executors, and NPROC is
    counted per uid. Each uid is claimed with an exclusive ``flock`` on a file in a root-only
    folder; the lock goes away with the process that holds it.
    """
    import fcntl
    import tempfile

    key = (first, slot)
    if key in _claimed:
        return _claimed[key][0]
    folder = os.path.join(tempfile.gettempdir(), "torch-grader-slots")
    os.makedirs(folder, mode=0o700, exist_ok=True)
    for uid in range(first + slot, first + span):
        fd = os.open(os.path.join(folder, f"{uid}.lock"), os.O_RDWR | os.O_CREAT | os.O_CLOEXEC,
                     0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(fd)
            continue
        _claimed[key] = (uid, fd)
        return uid
    raise OSError(f"no free sandbox uid in {first}..{first + span - 1}")
