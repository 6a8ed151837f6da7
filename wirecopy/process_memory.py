"""Allocator settings for a process that handles batches (the writer, a worker of the local engine): memory a
batch frees goes back to the OS.

An ingest handles one batch at a time and frees what the batch allocated, but three allocators keep freed pages
by default, so the resident set carries one batch's peak into the next and the peaks stack up:
- DuckDB's bundled jemalloc keeps dirty pages for seconds (`DUCKDB_JE_MALLOC_CONF`, read when duckdb loads);
- glibc raises its mmap threshold after every large free (up to 32 MB), after which NumPy's scratch arrays come
  from the heap and stay resident when freed;
- pyarrow's default pool (mimalloc) keeps freed segments.
Together these kept ≈ 80 MB resident between batches (bench/dedup.py at 1 M paragraphs). Settings already present in the
environment win.
"""

from __future__ import annotations

import ctypes
import gc
import os
import sys
from functools import cache

GLIBC_MMAP_THRESHOLD = 1 << 20
"""Allocations from 1 MB up are mapped and unmapped on free; below it, the heap is trimmed above 1 MB free."""

_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3  # mallopt parameters, from glibc's malloc.h


def set_duckdb_allocator() -> None:
    """Must run before `import duckdb`."""
    os.environ.setdefault("DUCKDB_JE_MALLOC_CONF", "dirty_decay_ms:0,muzzy_decay_ms:0")


@cache
def _glibc() -> ctypes.CDLL | None:
    """The process's C library when it is glibc (mallopt and malloc_trim are glibc's), else None."""
    if not sys.platform.startswith("linux"):
        return None
    library = ctypes.CDLL(None)
    return library if hasattr(library, "mallopt") and hasattr(library, "malloc_trim") else None


def set_glibc_thresholds() -> None:
    """Fixed glibc thresholds (a fixed one also turns off glibc's raising of it); no-op off glibc."""
    libc = _glibc()
    if libc is not None and "MALLOC_MMAP_THRESHOLD_" not in os.environ:
        libc.mallopt(_M_MMAP_THRESHOLD, GLIBC_MMAP_THRESHOLD)
        libc.mallopt(_M_TRIM_THRESHOLD, GLIBC_MMAP_THRESHOLD)


def return_free_heap() -> None:
    """Give the C heap's free pages back to the OS (glibc's malloc_trim, < 1 ms). Freed small blocks are
    spread over the heap, which the thresholds above only trim from its top."""
    libc = _glibc()
    if libc is not None:
        libc.malloc_trim(0)


def set_arrow_pool() -> None:
    """pyarrow allocates through the C library (with the thresholds above) instead of its own pool."""
    if "ARROW_DEFAULT_MEMORY_POOL" in os.environ:
        return
    import pyarrow as pa

    pa.set_memory_pool(pa.system_memory_pool())


BATCH_GC_THRESHOLDS = (10_000, 10, 10)
"""Python's garbage collector in a worker: a young-generation collection every 10,000 container allocations
instead of 700. A worker's batches allocate millions of short-lived tuples and lists that reference counting
frees; collecting them 14 times as often only traversed them (100k paragraphs: 0.43 → 0.08 s of a worker's
time, the same peak resident set). Not in the writer: there each prepared batch (≈ 20 MB) reaches the flow
through Prefect's futures and states, which hold one another in cycles that only a full collection frees, and
collecting less often left them resident for longer (peak 715 → 1,004 MB at a million paragraphs); the flow
freezes the heap it starts with instead (`gc.freeze`: collections as often, over what the run allocated only;
1.07 → 0.50 s of collections per 100k)."""


def configure_worker() -> None:
    """A worker process's settings (the writer's are made when `wirecopy.warehouse` is imported): its peak
    resident set on the 100k corpus's batches 429 → 344 MB, ≈ 1.5 % more time (bench: a worker's batches), and
    its collector's thresholds (`BATCH_GC_THRESHOLDS`)."""
    set_glibc_thresholds()
    set_arrow_pool()
    gc.set_threshold(*BATCH_GC_THRESHOLDS)
