"""The machine's process table, read without privileges: who is whose parent.

From /proc on Linux, else from ``ps`` (macOS); zombies are left out (they hold nothing and
their parent reaps them). The template kills the orphans it adopted with it, and the portable
launcher a spawned executor's whole tree. Standard library only, importable everywhere.
"""

from __future__ import annotations

import os
import subprocess

__all__ = ["children_of", "descendants", "parents"]


def parents() -> dict[int, int]:
    """pid -> parent pid of every live process; empty where neither /proc nor ps answers."""
    table: dict[int, int] = {}
    if os.path.isdir("/proc/self"):
        for name in os.listdir("/proc"):
            if not name.isdigit():
                continue
            try:
                with open(f"/proc/{name}/stat", "rb") as f:
                    fields = f.read().rsplit(b")", 1)[1].split()
            except (OSError, IndexError):
                continue
            if fields[0] not in (b"Z", b"X"):
                table[int(name)] = int(fields[1])
        return table
    try:
        out = subprocess.run(["ps", "-axo", "pid=,ppid=,stat="], capture_output=True,
                             text=True, timeout=5).stdout
    except (OSError, subprocess.SubprocessError):
        return table
    for line in out.splitlines():
        cells = line.split()
        if len(cells) >= 3 and cells[0].isdigit() and not cells[2].startswith("Z"):
            table[int(cells[0])] = int(cells[1])
    return table


def children_of(ppid: int) -> list[int]:
    """The live children of ``ppid``."""
    return sorted(pid for pid, parent in parents().items() if parent == ppid)


def descendants(root: int) -> list[int]:
    """The live descendants of ``root`` (not itself), nearest first."""
    table = parents()
    found: list[int] = []
    frontier = {root}
    while frontier:
        kids = [pid for pid, ppid in table.items() if ppid in frontier and pid not in found]
        found += kids
        frontier = set(kids)
    return found
