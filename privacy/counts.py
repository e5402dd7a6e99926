"""How a count of people may be printed (no heavy imports: ``microseg segments`` uses it)."""
from __future__ import annotations


def display_size(size: int, k: int) -> int | str:
    """A count as it may be printed: counts of 1..k−1 become ``"< k"``."""
    return f"< {k}" if 0 < size < k else int(size)
