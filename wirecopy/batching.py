"""Split items into consecutive groups bounded by size (and count): a run's inputs into load batches, texts
into NumPy passes.

One batch is one warehouse transaction. DuckDB keeps a transaction's uncommitted rows in its buffer pool and
cannot spill a row group's strings while appending them: with a 64 MB pool, a batch of 500 HTML pages
of 200 KB (100 MB) failed, 40 MB passed with ≈ 500 MB peak RSS, 20 MB with 300–400 MB. Bounding the bytes of a
batch bounds both.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TypeVar

import numpy as np

Item = TypeVar("Item")


def batches(
    items: Sequence[Item], size_of: Callable[[Item], int], max_size: int, max_items: int | None = None
) -> list[list[Item]]:
    """Consecutive groups of items whose sizes add up to at most `max_size` (and of at most `max_items` items);
    an item larger than `max_size` forms a group of its own. Order is kept."""
    sizes = np.fromiter((size_of(item) for item in items), dtype=np.int64, count=len(items))
    return [list(items[part]) for part in bounded_slices(sizes, max_size, max_items)]


def bounded_slices(sizes: np.ndarray, max_size: int, max_items: int | None = None) -> list[slice]:
    """`batches` for items given only by their sizes: slices of consecutive items. One binary search per group,
    not a Python step per item: texts are grouped by the hundred thousand for the dedup's NumPy passes."""
    ends = np.cumsum(sizes)  # ends[i]: the size of items[: i + 1]
    parts: list[slice] = []
    start = 0
    while start < len(sizes):
        before = int(ends[start - 1]) if start else 0
        stop = max(int(np.searchsorted(ends, before + max_size, side="right")), start + 1)
        if max_items is not None:
            stop = min(stop, start + max_items)
        parts.append(slice(start, stop))
        start = stop
    return parts
