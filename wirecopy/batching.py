"""Split a run's inputs into load batches bounded by count and by bytes.

One batch is one warehouse transaction. DuckDB keeps a transaction's uncommitted rows in its buffer pool and
cannot spill a row group's strings while appending them: with a 64 MB pool, a batch of 500 HTML pages
of 200 KB (100 MB) failed, 40 MB passed with ≈ 500 MB peak RSS, 20 MB with 300–400 MB. Bounding the bytes of a
batch bounds both.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TypeVar

Item = TypeVar("Item")


def batches(items: Sequence[Item], size_of: Callable[[Item], int], max_items: int, max_bytes: int) -> list[list[Item]]:
    """Consecutive groups of at most `max_items` items whose sizes add up to at most `max_bytes`; an item larger
    than `max_bytes` forms a group of its own. Order is kept."""
    groups: list[list[Item]] = []
    current: list[Item] = []
    used = 0
    for item in items:
        size = size_of(item)
        if current and (len(current) >= max_items or used + size > max_bytes):
            groups.append(current)
            current, used = [], 0
        current.append(item)
        used += size
    if current:
        groups.append(current)
    return groups
