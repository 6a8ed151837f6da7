"""Raw little-endian arrays on disk, read through memory maps a window at a time.

The kernel maps 64 KB around every page fault, so touching a large mapped file here and there (a binary
search, a scattered gather) leaves most of it resident. Every reader here works one window of rows at a time
and releases the window's pages (madvise DONTNEED; the page cache keeps them) before the next, so resident
memory stays bounded whatever the file size. Used by the LSH store (warehouse/lsh_store.py).
"""

from __future__ import annotations

import itertools
import mmap
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

import numpy as np

WINDOW_ROWS = 1 << 19
"""Rows read at once (4 MB of int64): bounds resident memory whatever the size of a file."""

Release = Callable[[int, int], None]


@contextmanager
def mapped(path: Path, dtype: np.dtype, count: int) -> Iterator[tuple[np.ndarray, Release]]:
    """A read-only view of `count` items of a file, and `release(start, stop)` dropping those items' pages
    from the process's resident set (the page cache keeps them)."""
    if count == 0:
        yield np.empty(0, dtype=dtype), lambda start, stop: None
        return
    with open(path, "rb") as handle:
        mapping = mmap.mmap(handle.fileno(), 0, prot=mmap.PROT_READ)
    view = np.frombuffer(mapping, dtype=dtype, count=count)

    def release(start: int, stop: int) -> None:
        if stop <= start or not hasattr(mapping, "madvise"):
            return
        begin = (start * dtype.itemsize) // mmap.PAGESIZE * mmap.PAGESIZE
        mapping.madvise(mmap.MADV_DONTNEED, begin, stop * dtype.itemsize - begin)

    try:
        yield view, release
    finally:
        del view
        with suppress(BufferError):  # a caller still holds a view; the mapping closes when that is collected
            mapping.close()


def equal_ranges(
    stored: np.ndarray, release: Release, values: np.ndarray, samples: np.ndarray, stride: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """For sorted, distinct `values`: (indexes of the values `stored` holds, and the [lo, hi) rows holding each),
    as `np.searchsorted` left and right would give. `samples` is `stored[::stride]`, read from a small file.

    The samples bound each answer to `stride` rows; values are searched one window of the file at a time, in
    the rows their bounds cover, and each window's pages are released before the next: a binary search over
    the whole mapped file would leave most of it resident (the kernel maps 64 KB or more around each fault).
    """
    n = len(stored)
    start, stop = _sampled_bounds(samples, values, stride, n)
    held = np.zeros(len(values), dtype=bool)
    lo, hi = np.zeros(len(values), dtype=np.int64), np.zeros(len(values), dtype=np.int64)
    cuts = [*np.searchsorted(start, np.arange(0, n, WINDOW_ROWS)).tolist(), len(values)]
    for first, last in itertools.pairwise(cuts):
        begin, end = (int(start[first]), int(stop[last - 1])) if last > first else (n, n)
        if begin >= end:
            continue
        window, part = stored[begin:end], slice(first, last)
        lo[part] = begin + np.searchsorted(window, values[part], side="left")
        inside = np.flatnonzero(lo[part] < end) + first
        held[inside[window[lo[inside] - begin] == values[inside]]] = True
        found = np.flatnonzero(held[part]) + first
        hi[found] = begin + np.searchsorted(window, values[found], side="right")
        del window
        release(begin, end)
    found = np.flatnonzero(held)
    return found, lo[found], hi[found]


def _sampled_bounds(samples: np.ndarray, values: np.ndarray, stride: int, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Rows [start, stop) of `stored` that hold each value's left and right `np.searchsorted` answers, from
    `samples = stored[::stride]`: with k samples on the near side of a value, its answer lies in
    ((k - 1) * stride, k * stride]."""
    below = np.searchsorted(samples, values, side="left")
    up_to = np.searchsorted(samples, values, side="right")
    return np.where(below > 0, (below - 1) * stride + 1, 0), np.minimum(up_to * stride, n)


def gather(path: Path, dtype: np.dtype, rows: int, positions: np.ndarray, width: int = 1) -> np.ndarray:
    """Rows `positions` of a file of `rows` rows of `width` items, in the order of `positions`, a window at a time."""
    if len(positions) and (positions.min() < 0 or positions.max() >= rows):
        raise IndexError(f"positions outside the {rows} rows of {path}")
    in_order = bool((positions[1:] >= positions[:-1]).all())
    order = np.arange(len(positions)) if in_order else np.argsort(positions, kind="stable")
    ordered = positions if in_order else positions[order]
    shape = (len(positions), width) if width > 1 else (len(positions),)
    out = np.empty(shape, dtype=dtype)
    window = max(1, WINDOW_ROWS // width)
    cuts = [*np.searchsorted(ordered, np.arange(0, rows, window)).tolist(), len(ordered)]
    with mapped(path, dtype, rows * width) as (stored, release):
        table = stored.reshape(rows, width) if width > 1 else stored
        for first, last in itertools.pairwise(cuts):
            if last > first:
                if in_order:
                    out[first:last] = table[ordered[first:last]]
                else:
                    out[order[first:last]] = table[ordered[first:last]]
                release(int(ordered[first]) * width, (int(ordered[last - 1]) + 1) * width)
        del table
    return out


def append_files(directory: Path, parts: dict[str, np.ndarray | bytes]) -> None:
    """Append each part to its file in `directory` and fsync it."""
    for name, data in parts.items():
        with open(directory / name, "ab") as handle:
            handle.write(data if isinstance(data, bytes) else data.tobytes())
            handle.flush()
            os.fsync(handle.fileno())


def sync_directory(directory: Path) -> None:
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
