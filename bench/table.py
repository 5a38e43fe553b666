"""The benches' one table: a row per measure (name, value, notes), then a footer line."""

from __future__ import annotations

import os


def print_table(rows: list[tuple[str, str, str]], footer: str, value_width: int = 10) -> None:
    """Print ``rows`` aligned under a header, then ``footer`` and the machine it ran on."""
    width = max(len(r[0]) for r in rows)
    print(f"{'measure':<{width}}  {'value':>{value_width}}  notes")
    print("-" * (width + 40))
    for name, value, note in rows:
        print(f"{name:<{width}}  {value:>{value_width}}  {note}")
    print(f"{footer}; machine: {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}")
