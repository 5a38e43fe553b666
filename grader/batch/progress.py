"""The progress of a batch on stderr, drawn by tqdm (a bar on a terminal, plain lines off one)."""

from __future__ import annotations

import sys
import time
from typing import Any, TextIO

__all__ = ["Progress"]


class Progress:
    """The progress of a batch on stderr, drawn by tqdm: on a terminal a bar with the counts
    by status, the rate and the ETA; otherwise the same as plain lines, one per 10 %."""

    def __init__(self, total: int, stream: TextIO | None = None, enabled: bool = True) -> None:
        self.total = total
        self.stream = stream or sys.stderr
        self.enabled = enabled and total > 0
        self.done = 0
        self.counts: dict[str, int] = {}
        self.started = time.monotonic()
        self.last_step = -1
        self.bar: Any = None
        if self.enabled and self.stream.isatty():
            from tqdm import tqdm

            self.bar = tqdm(total=total, file=self.stream, unit="sub", dynamic_ncols=True)

    def update(self, status: str) -> None:
        self.done += 1
        self.counts[status] = self.counts.get(status, 0) + 1
        if not self.enabled:
            return
        if self.bar is not None:
            self.bar.set_postfix_str(self.postfix(), refresh=False)
            self.bar.update(1)
            if self.done >= self.total:
                self.bar.close()
            return
        step = self.done * 10 // self.total
        if step != self.last_step or self.done == self.total:
            self.last_step = step
            self.stream.write(self.line() + "\n")
            self.stream.flush()

    def postfix(self) -> str:
        return ", ".join(f"{n} {s}" for s, n in sorted(self.counts.items()))

    def line(self) -> str:
        """The bar as one plain line (tqdm's format, ASCII)."""
        from tqdm import tqdm

        return str(tqdm.format_meter(self.done, self.total, time.monotonic() - self.started,
                                     ncols=100, ascii=True, unit="sub", postfix=self.postfix()))
