"""Makes this interpreter look like Windows to the grader: no fork, no Unix sockets, no
``resource``/``fcntl``, no SIGALRM/setitimer, no process groups or sessions, no uids, no /proc.

Put on PYTHONPATH by tests/e2e/test_platforms.py (it reaches the executors too, as the real
platform's limits would); never imported by the grader itself.
"""

import builtins
import os
import signal
import socket
import sys

for _name in ("fork", "forkpty", "setsid", "getsid", "setpgid", "getpgid", "killpg", "setpgrp",
              "getpgrp", "geteuid", "getuid", "getegid", "getgid", "setuid", "setgid",
              "setresuid", "setresgid", "setgroups"):
    if hasattr(os, _name):
        delattr(os, _name)
for _name in ("AF_UNIX", "SOCK_SEQPACKET", "send_fds", "recv_fds", "socketpair"):
    if hasattr(socket, _name):
        delattr(socket, _name)
for _name in ("SIGALRM", "setitimer", "getitimer", "ITIMER_REAL", "alarm", "SIGXCPU"):
    if hasattr(signal, _name):
        delattr(signal, _name)
sys.modules["resource"] = None  # type: ignore[assignment]
sys.modules["fcntl"] = None  # type: ignore[assignment]

_open, _listdir, _scandir = builtins.open, os.listdir, os.scandir


def _refuse_proc(path):
    text = os.fsdecode(path) if isinstance(path, (str, bytes, os.PathLike)) else ""
    if text == "/proc" or text.startswith("/proc/"):
        raise FileNotFoundError(2, "No such file or directory (no /proc here)", text)


def _guarded_open(file, *args, **kwargs):
    _refuse_proc(file)
    return _open(file, *args, **kwargs)


def _guarded_listdir(path="."):
    _refuse_proc(path)
    return _listdir(path)


builtins.open = _guarded_open
os.listdir = _guarded_listdir
_isdir = os.path.isdir
os.path.isdir = lambda p: False if str(p).startswith("/proc") else _isdir(p)
os.environ["GRADER_SIMULATED_PLATFORM"] = "no-posix"
