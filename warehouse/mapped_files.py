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


def sorted_positions(
    stored: np.ndarray, release: Release, values: np.ndarray, side: str
) -> tuple[np.ndarray, np.ndarray]:
    """`np.searchsorted(stored, values, side)` for sorted `values`, reading `stored` one window at a time, and
    whether `stored` holds each value (with side="left": whether the position found holds it).

    A binary search over the whole mapped file would fault in pages all over it (the kernel maps 64 KB around
    each fault); here each value is first given the one window that holds its answer, from the windows' last
    keys, and every window is searched once and released.
    """
    n = len(stored)
    out = np.full(len(values), n, dtype=np.int64)
    held = np.zeros(len(values), dtype=bool)
    if n == 0 or not len(values):
        return out, held
    starts = np.arange(0, n, WINDOW_ROWS)
    stops = np.minimum(starts + WINDOW_ROWS, n)
    owner = np.searchsorted(fence(stored, release, stops - 1), values, side=side)  # earlier windows end before it
    groups = np.searchsorted(owner, np.arange(len(starts) + 1))
    for w, (start, stop) in enumerate(zip(starts.tolist(), stops.tolist(), strict=True)):
        first, last = int(groups[w]), int(groups[w + 1])
        if last > first:
            window, block = stored[start:stop], values[first:last]
            local = np.searchsorted(window, block, side=side)
            inside = local < len(window)
            held[first:last][inside] = window[local[inside]] == block[inside]
            out[first:last] = start + local
            del window
        release(start, stop)
    return out, held


def fence(stored: np.ndarray, release: Release, positions: np.ndarray) -> np.ndarray:
    """`stored[positions]` for a few scattered positions, their pages released at once: the kernel maps a whole
    page-cache folio (up to 2 MB) around each fault, so one key per window would otherwise leave a good part
    of the file resident until each window is released in turn."""
    values = stored[positions]
    release(0, len(stored))
    return values


def gather(path: Path, dtype: np.dtype, rows: int, positions: np.ndarray, width: int = 1) -> np.ndarray:
    """Rows `positions` of a file of `rows` rows of `width` items, in the order of `positions`, a window at a time."""
    if len(positions) and (positions.min() < 0 or positions.max() >= rows):
        raise IndexError(f"positions outside the {rows} rows of {path}")
    order = np.argsort(positions, kind="stable")
    ordered = positions[order]
    shape = (len(positions), width) if width > 1 else (len(positions),)
    out = np.empty(shape, dtype=dtype)
    window = max(1, WINDOW_ROWS // width)
    cuts = [*np.searchsorted(ordered, np.arange(0, rows, window)).tolist(), len(ordered)]
    with mapped(path, dtype, rows * width) as (stored, release):
        table = stored.reshape(rows, width) if width > 1 else stored
        for first, last in itertools.pairwise(cuts):
            if last > first:
                out[order[first:last]] = table[ordered[first:last]]
                release(int(ordered[first]) * width, (int(ordered[last - 1]) + 1) * width)
        del table
    return out


def expand_ranges(starts: np.ndarray, sizes: np.ndarray) -> np.ndarray:
    """Concatenated aranges [start, start + size) for each pair, without a Python loop."""
    total = int(sizes.sum())
    if total == 0:
        return np.empty(0, dtype=np.int64)
    offsets = np.repeat(starts - np.concatenate(([0], np.cumsum(sizes)[:-1])), sizes)
    return offsets + np.arange(total, dtype=np.int64)


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
