"""Allocator settings for a process that loads the warehouse: memory a batch frees goes back to the OS.

An ingest handles one batch at a time and frees what the batch allocated, but three allocators keep freed pages
by default, so the resident set carries one batch's peak into the next and the peaks stack up:
- DuckDB's bundled jemalloc keeps dirty pages for seconds (`DUCKDB_JE_MALLOC_CONF`, read when duckdb loads);
- glibc raises its mmap threshold after every large free (up to 32 MB), after which NumPy's scratch arrays come
  from the heap and stay resident when freed;
- pyarrow's default pool (mimalloc) keeps freed segments.
Together these were ≈ 120 MB of the indexing process's peak (bench/dedup.py). Settings already present in the
environment win.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import sys

GLIBC_MMAP_THRESHOLD = 1 << 20
"""Allocations from 1 MB up are mapped and unmapped on free; below it, the heap is trimmed above 1 MB free."""

_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3  # mallopt parameters, from glibc's malloc.h


def set_duckdb_allocator() -> None:
    """Must run before `import duckdb`."""
    os.environ.setdefault("DUCKDB_JE_MALLOC_CONF", "dirty_decay_ms:0,muzzy_decay_ms:0")


def set_glibc_thresholds() -> None:
    """Fixed glibc thresholds (a fixed one also turns off glibc's raising of it); no-op off glibc."""
    if not sys.platform.startswith("linux") or "MALLOC_MMAP_THRESHOLD_" in os.environ:
        return
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):  # musl and other C libraries
        return
    mallopt(_M_MMAP_THRESHOLD, GLIBC_MMAP_THRESHOLD)
    mallopt(_M_TRIM_THRESHOLD, GLIBC_MMAP_THRESHOLD)


def return_free_heap() -> None:
    """Give the C heap's free pages back to the OS (glibc's malloc_trim; a few ms). Freed small blocks are
    spread over the heap, which the thresholds above only trim from its top."""
    if sys.platform.startswith("linux"):
        with contextlib.suppress(OSError, AttributeError):  # musl and other C libraries
            ctypes.CDLL(None).malloc_trim(0)


def set_arrow_pool() -> None:
    """pyarrow allocates through the C library (with the thresholds above) instead of its own pool."""
    if "ARROW_DEFAULT_MEMORY_POOL" in os.environ:
        return
    import pyarrow as pa

    pa.set_memory_pool(pa.system_memory_pool())
