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
process writes to it meanwhile), checkpoints it, copies it to a temporary file in the private folder (a
reflink where the file system has them, else an in-kernel copy), sets its mode, syncs it and renames it over
the published file. A reader that has the old file open keeps reading the old file (its inode stays until it
closes it); a reader that opens the name after the rename sees the new one. Neither waits, and neither ever
sees half a run. The cost is one sequential copy of the file per published run (docs/warehouse.md gives the
measurements at 100k and 1M paragraphs).

A warehouse from before this layout (a file written in place, its `.lsh/` beside it) is adopted by the first
write: it is copied into the writer's folder and its LSH store moved there.
"""

from __future__ import annotations

import errno
import fcntl
import os
import shutil
import time
from dataclasses import dataclass
from pathlib import Path

from wirecopy.warehouse.db import session, writer_lock
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
    """One publication: bytes copied, how, and how long it took (checkpoint + copy + sync + rename)."""

    bytes: int
    method: str
    seconds: float


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
    partial = writer_directory(published) / "publish.tmp"
    with writer_lock(writer, wait_seconds=wait_seconds):
        # the connection holds DuckDB's lock on the file: nobody writes to it while it is copied
        with session(writer, read_only=False, wait_seconds=wait_seconds) as con:
            con.execute("CHECKPOINT warehouse")
            method = _copy(writer, partial)
        os.chmod(partial, file_mode)
        os.chmod(writer, file_mode)
        _fsync(partial)
        os.replace(partial, published)
        _fsync(published.parent)
    return Published(bytes=published.stat().st_size, method=method, seconds=time.perf_counter() - start)


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
