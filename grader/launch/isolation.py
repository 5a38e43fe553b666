"""Which isolation level a run gets, and the launcher that gives its executors (judge side).

=========  ===============================================  ==================================
level      executors                                        where
=========  ===============================================  ==================================
namespace  forked from the template, then unshared:          Linux with user (or root)
           own mount, pid, network, IPC, UTS namespaces      namespaces
process    forked from the template: rlimits, seccomp,       Linux
           slot uid (as root), own session
portable   a freshly spawned interpreter per executor,      every platform (Windows, macOS,
           talking over its pipes; the limits the            Linux); ``auto`` picks it where
           platform has (Job Object, resource)               fork or Unix sockets are missing
=========  ===============================================  ==================================

``auto`` takes namespace > process > portable: portable on every platform but Linux (forking
after ``import torch`` is unsafe on macOS: the Objective-C runtime and MPS) and wherever fork
or Unix sockets are missing. docs/isolation.md says what each level protects against.
"""

from __future__ import annotations

import importlib.util
import os
import socket
import sys

from grader.config import Settings
from grader.errors import UsageError
from grader.launch.executor import Launcher
from grader.launch.template import Template

__all__ = ["LEVELS", "choose_isolation", "fork_server_available", "open_launcher"]

LEVELS = ("auto", "namespace", "process", "portable")


def fork_server_available() -> bool:
    """Whether this interpreter can run the template (fork after torch, SEQPACKET sockets,
    the POSIX modules the sandbox needs): Linux only."""
    return (sys.platform.startswith("linux") and hasattr(os, "fork")
            and hasattr(socket, "AF_UNIX") and hasattr(socket, "SOCK_SEQPACKET")
            and hasattr(socket, "send_fds")
            and all(importlib.util.find_spec(m) is not None for m in ("resource", "fcntl")))


def open_launcher(settings: Settings, preload: tuple[str, ...] = ()) -> Launcher:
    """Start the launcher the settings ask for (``auto``: the fork server where it works)."""
    level = settings.isolation
    if level == "portable" or (level == "auto" and not fork_server_available()):
        from grader.launch.spawn import PortableLauncher

        root = sys.platform.startswith("linux") and getattr(os, "geteuid", lambda: -1)() == 0
        return PortableLauncher(preload=preload, drops_uid=root and settings.sandbox_uid > 0)
    if not fork_server_available():
        raise UsageError(f"--isolation {level} needs Linux with fork and Unix sockets; this is "
                         f"{sys.platform}, where only --isolation portable (or auto) works")
    return Template(preload=preload, process_level=level == "process")


def choose_isolation(requested: str, available: str) -> str:
    """The isolation level to use, or a UsageError if the requested one is not available."""
    if requested == "auto":
        return available
    if requested == "namespace" and available != "namespace":
        raise UsageError("--isolation namespace is not available on this machine (user "
                         "namespaces are blocked); enable them (see docs/isolation.md) or use "
                         "--isolation process")
    return requested
