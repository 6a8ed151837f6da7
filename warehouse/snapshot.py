"""Readers never block the writer: the warehouse file users open is a published, read-only snapshot.

DuckDB lets one process open a file read-write or any number of processes open it read-only, never both: a
notebook or the DuckDB CLI holding the warehouse open used to stop every ingest. So the file named by `--db`,
`WIRECOPY_DB` or `./warehouse.duckdb` is never opened read-write by wirecopy. Ingests write to their own file
in a private folder beside it, and publish after each run:

    warehouse.duckdb                        the published snapshot: `wirecopy sql`, notebooks, the DuckDB CLI
    warehouse.duckdb.writer/                mode 0700 (0750 when `file_mode` lets the group read)
        warehouse.duckdb                    the writer's file (+ .wal while a write is open)
        warehouse.duckdb.lsh/               the LSH store of the dedup index
        warehouse.duckdb.lock               the writer lock (one read-plan-write cycle at a time)
        warehouse.duckdb.runs/              one lock file per running ingest (warehouse/runs.py)

Publishing (`publish`) holds the writer lock and a read-write connection to the writer's file (so no other
process writes to it meanwhile), checkpoints it and makes `publish.tmp` in the private folder equal to it, sets
its mode, syncs it and renames it over the published file. A reader that has the old file open keeps reading
the old file (its inode stays until it closes it); a reader that opens the name after the rename sees the new
one. Neither waits, and neither ever sees half a run.

`publish.tmp` is made the cheapest safe way:
- a reflink of the writer's file where the file system has them (btrfs, XFS): constant time;
- else **patched**: the file published before the current one is kept as `previous.duckdb` (a hard link). No
  reader can open it by name any more, and when no process still holds DuckDB's lock on it (an open file
  description lock is tried, which conflicts with DuckDB's locks even in this process), only the 256 KB blocks
  that differ from the writer's file are rewritten: a run changes ~1 % of a large warehouse's blocks;
- else (first publish, no hard links, or a reader still on that old file) a full in-kernel copy.
Disk: the writer's file, the published one and `previous.duckdb`: three copies of the warehouse.

A warehouse from before this layout (a file written in place, its `.lsh/` beside it) is adopted by the first
write: it is copied into the writer's folder and its LSH store moved there.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
import shutil
import struct
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import duckdb
from wirecopy.warehouse.db import NotAWarehouse, foreign_tables, is_duckdb_file, session, writer_lock
from wirecopy.warehouse.lsh_store import store_directory

DEFAULT_FILE_MODE = 0o600
_FICLONE = 0x40049409  # ioctl: share the extents of a file (btrfs, XFS, …), copying nothing


def writer_directory(published: Path) -> Path:
    return published.with_name(published.name + ".writer")


def writer_path(published: Path) -> Path:
    """The file ingests write to, for the published warehouse file `published`."""
    return writer_directory(published) / published.name


def directory_mode(file_mode: int) -> int:
    """The writer folder's mode: the owner's rwx, plus r-x for the group or others who may read the files."""
    mode = 0o700
    if file_mode & 0o040:
        mode |= 0o050
    if file_mode & 0o004:
        mode |= 0o005
    return mode


def prepare_writer(published: Path, *, file_mode: int = DEFAULT_FILE_MODE, wait_seconds: float = 120.0) -> Path:
    """The writer's file for `published`, its private folder created (and a pre-snapshot warehouse adopted)."""
    published = Path(published)
    directory = writer_directory(published)
    writer = writer_path(published)
    if not writer.exists() and published.is_file() and not is_duckdb_file(published):
        # as DuckDB says it, before anything is made beside a file that is no warehouse
        raise duckdb.IOException(f'The file "{published}" exists, but it is not a valid DuckDB database file!')
    if not writer.exists() and published.is_file() and (problem := foreign_tables(published)) is not None:
        raise NotAWarehouse(f"warehouse {published}: {problem}")  # another program's database: nothing is made
    published.parent.mkdir(parents=True, exist_ok=True)
    directory.mkdir(mode=directory_mode(file_mode), exist_ok=True)
    os.chmod(directory, directory_mode(file_mode))
    if writer.exists() or not published.exists():
        return writer
    with writer_lock(writer, wait_seconds=wait_seconds):
        if writer.exists():
            return writer
        if Path(f"{published}.wal").exists():  # written in place by an older wirecopy that did not close it
            with session(published, read_only=False, wait_seconds=wait_seconds) as con:
                con.execute("CHECKPOINT")
        partial = directory / "adopt.tmp"
        _copy(published, partial)
        os.replace(partial, writer)
        legacy_store = store_directory(published)
        if legacy_store.is_dir() and not store_directory(writer).exists():
            os.replace(legacy_store, store_directory(writer))
    return writer


@dataclass(frozen=True)
class Published:
    """One publication: the file's bytes, how it was made (reflink, patch, copy), the 256 KB blocks written
    when patched, and how long it took (checkpoint + copy or patch + sync + rename)."""

    bytes: int
    method: str
    seconds: float
    blocks_written: int | None = None


def writer_for(settings) -> Path:
    """The writer's file for the configured warehouse (`settings.db`, published), prepared."""
    return prepare_writer(settings.db, file_mode=settings.file_mode_bits, wait_seconds=settings.lock_wait_seconds)


def publish(published: Path, *, file_mode: int = DEFAULT_FILE_MODE, wait_seconds: float = 120.0) -> Published | None:
    """Replace the published file by a copy of the writer's file; None when nothing was ever written."""
    published = Path(published)
    writer = writer_path(published)
    if not writer.exists():
        return None
    start = time.perf_counter()
    directory = writer_directory(published)
    partial, previous = directory / "publish.tmp", directory / PREVIOUS
    with writer_lock(writer, wait_seconds=wait_seconds):
        # the connection holds DuckDB's lock on the file: nobody writes to it while it is copied
        with session(writer, read_only=False, wait_seconds=wait_seconds) as con:
            con.execute("CHECKPOINT warehouse")
            method, blocks = _make_partial(writer, partial, previous, published)
        os.chmod(partial, file_mode)
        os.chmod(writer, file_mode)
        _fsync(partial)
        previous.unlink(missing_ok=True)
        if published.exists():
            _link_quietly(published, previous)  # the next publish patches it once no reader holds it
        os.replace(partial, published)
        _fsync(directory)
        _fsync(published.parent)
    seconds = time.perf_counter() - start
    return Published(bytes=published.stat().st_size, method=method, seconds=seconds, blocks_written=blocks)


PREVIOUS = "previous.duckdb"
PATCH_BLOCK = 1 << 18  # DuckDB's block size


def _make_partial(writer: Path, partial: Path, previous: Path, published: Path) -> tuple[str, int | None]:
    """Make `partial` equal to `writer`: a reflink, else a patched unused older snapshot, else a full copy.
    Returns the method and, when patched, the number of blocks written."""
    if _reflinks_work(partial.parent):
        previous.unlink(missing_ok=True)
        return _copy(writer, partial), None
    for candidate in (partial, previous):  # a publish cut short leaves `partial`: patching mends any content
        if not candidate.exists() or _same_file(candidate, published):
            continue
        if candidate != partial:
            os.replace(candidate, partial)
        written = _patch_unless_held(writer, partial)
        if written is not None:
            return "patch", written
    return _copy(writer, partial), None


def _patch_unless_held(source: Path, target: Path) -> int | None:
    """Rewrite the blocks of `target` that differ from `source` (their number), unless a process holds a lock
    on `target` (a DuckDB reader that opened it while it was published): None, `target` untouched, then."""
    set_lock = getattr(fcntl, "F_OFD_SETLK", None)
    if set_lock is None:  # not Linux: no lock that sees this process's own readers, so never patch
        return None
    fd = os.open(target, os.O_RDWR)
    try:
        try:  # an open file description lock conflicts with DuckDB's POSIX locks, even in this process
            fcntl.fcntl(fd, set_lock, struct.pack("hhqqi4x", fcntl.F_WRLCK, os.SEEK_SET, 0, 0, 0))
        except OSError as error:
            if error.errno in (errno.EAGAIN, errno.EACCES):
                return None
            raise
        return _patch(source, fd)
    finally:
        os.close(fd)  # releases the lock


def _patch(source: Path, target_fd: int, block: int = PATCH_BLOCK) -> int:
    """Write into `target_fd` every block of `source` it lacks or holds differently; the number written. The
    file is compared in `PATCH_THREADS` contiguous spans at once (reads and compares release the GIL)."""
    size = source.stat().st_size
    share = -(-size // block // PATCH_THREADS) * block or block
    spans = [(start, min(size, start + share)) for start in range(0, size, share)]
    with open(source, "rb", buffering=0) as src:
        if len(spans) < 2:
            written = sum(_patch_span(src.fileno(), target_fd, start, stop, block) for start, stop in spans)
        else:
            with ThreadPoolExecutor(len(spans)) as pool:
                found = pool.map(lambda span: _patch_span(src.fileno(), target_fd, *span, block), spans)
                written = sum(found)
    os.ftruncate(target_fd, size)
    return written


PATCH_THREADS = 2
"""Spans of a file compared at once: the comparison is bound by reading both files from the page cache, and a
publish runs when the run's workers are done. A million-paragraph warehouse (1.8 GB): 0.42 s in one span,
0.25 s in two, 0.24 s in three."""


def _patch_span(source_fd: int, target_fd: int, start: int, stop: int, block: int) -> int:
    """`_patch` over bytes [start, stop) of the files."""
    written = 0
    new, old = bytearray(block), bytearray(block)
    for offset in range(start, stop, block):
        got = os.preadv(source_fd, [new], offset)
        have = os.preadv(target_fd, [old], offset)
        if have != got or (new != old if got == block else new[:got] != old[:got]):  # whole: memcmp, no copy
            os.pwrite(target_fd, memoryview(new)[:got], offset)
            written += 1
    return written


def _reflinks_work(directory: Path) -> bool:
    """Whether this file system shares extents between files (tried on two empty files)."""
    a, b = directory / "reflink-probe.a", directory / "reflink-probe.b"
    try:
        with open(a, "wb") as src, open(b, "wb") as dst:
            fcntl.ioctl(dst.fileno(), _FICLONE, src.fileno())
        return True
    except OSError:
        return False
    finally:
        a.unlink(missing_ok=True)
        b.unlink(missing_ok=True)


def _same_file(a: Path, b: Path) -> bool:
    try:
        return os.path.samefile(a, b)
    except FileNotFoundError:
        return False


def _link_quietly(source: Path, target: Path) -> None:
    with contextlib.suppress(OSError):  # no hard links here: every publish then copies in full
        os.link(source, target)


def _copy(source: Path, target: Path) -> str:
    """Copy a file: a reflink when the file system has them, else the kernel's copy (copy_file_range)."""
    target.unlink(missing_ok=True)
    with open(source, "rb") as src, open(target, "wb") as dst:
        try:
            fcntl.ioctl(dst.fileno(), _FICLONE, src.fileno())
            return "reflink"
        except OSError as error:
            if error.errno not in (errno.EOPNOTSUPP, errno.ENOTTY, errno.EXDEV, errno.EINVAL, errno.EPERM):
                raise
        shutil.copyfileobj(src, dst) if not hasattr(os, "copy_file_range") else _copy_range(src, dst)
    return "copy"


def _copy_range(src, dst) -> None:
    size = os.fstat(src.fileno()).st_size
    copied = 0
    while copied < size:
        sent = os.copy_file_range(src.fileno(), dst.fileno(), size - copied)
        if sent == 0:
            break
        copied += sent


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def remove_writer_state(published: Path) -> None:
    """Forget the writer's folder (tests and `make clean`): the next write adopts the published file."""
    shutil.rmtree(writer_directory(published), ignore_errors=True)
