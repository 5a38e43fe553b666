"""Reading one frame off a byte stream: the length prefix, the cap, then the body.

The one frame reader of both sides: the executor reads requests with it, the judge replies
(over a socket with deadlines, or a pipe read by a thread). A frame that announces more bytes
than the reader accepts is refused before its body is read. Standard library only (the judge's
launchers import it before torch).
"""

from __future__ import annotations

import struct
from collections.abc import Callable

__all__ = ["HEAD", "FrameTooLarge", "read_frame"]

HEAD = struct.Struct(">QI")
"""A frame's first 12 bytes: its length after the first 8, and its header's length."""


class FrameTooLarge(Exception):
    """A frame announced more bytes than its reader accepts."""

    def __init__(self, total: int, cap: int) -> None:
        super().__init__(f"a frame of {total} bytes is over the cap of {cap} bytes")
        self.total = total
        self.cap = cap


def read_frame(read_exact: Callable[[int], bytes], max_bytes: int) -> bytes:
    """One frame's body (everything after its 8-byte length), read with ``read_exact(n)``
    (which returns exactly ``n`` bytes or raises); FrameTooLarge before reading a body over
    ``max_bytes``."""
    head = read_exact(HEAD.size)
    total, _ = HEAD.unpack(head)
    if total > max_bytes:
        raise FrameTooLarge(total, max_bytes)
    return head[8:] + read_exact(total - 4)
