"""DuckDB connections: numbered migrations, bounded retry on the single-writer file lock, write lock."""

from __future__ import annotations

import re
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from functools import cache
from importlib import resources
from pathlib import Path

import duckdb
from filelock import FileLock, Timeout

_MIGRATION_NAME = re.compile(r"^(\d{3})_([a-z0-9_]+)\.sql$")


class WarehouseBusy(RuntimeError):
    """The warehouse stayed locked by another process for longer than the allowed wait."""


class WarehouseMissing(FileNotFoundError):
    """A read was asked of a warehouse file that does not exist yet."""


class NotAWarehouse(ValueError):
    """The file is a DuckDB database, but not one that wirecopy made."""


def target_problem(db: Path) -> str | None:
    """Why an ingest cannot write the warehouse file `db` (checked before a run starts), or None."""
    try:
        if db.is_dir():
            return f"warehouse {db} is a directory: name a file in it, e.g. {db / 'warehouse.duckdb'}"
        folder = db.absolute().parent
        while not folder.exists() and folder != folder.parent:  # missing folders are made by the first write
            folder = folder.parent
        if not folder.is_dir():
            return f"warehouse {db}: {folder} is a file, not a folder"
    except OSError as error:  # a folder on the way that cannot be entered
        return f"warehouse {db}: cannot reach it ({error.strerror or error}: {error.filename or db})"
    try:  # a real file: permission bits say nothing for root, nor for /proc or a read-only mount
        with tempfile.TemporaryFile(dir=folder):
            pass
    except OSError as error:
        return (
            f"warehouse {db}: cannot write in {folder} ({error.strerror or error}); the warehouse keeps files beside it"
        )
    if db.exists():
        try:
            duckdb_file = is_duckdb_file(db)
        except OSError as error:
            return f"warehouse {db} cannot be read: {error.strerror or error}"
        if not duckdb_file:
            return f"warehouse {db} is not a DuckDB database file (a wirecopy warehouse is made by its first ingest)"
        return foreign_tables(db)
    return None


def is_duckdb_file(path: Path) -> bool:
    """Whether the file starts as a DuckDB database does (its magic bytes after the header's checksum); an
    empty file counts as one (DuckDB makes a database of it)."""
    with open(path, "rb") as handle:
        head = handle.read(12)
    return not head or head[8:12] == b"DUCK"


def foreign_tables(db: Path) -> str | None:
    """Why the DuckDB file `db` is not a wirecopy warehouse, or None (also when it cannot be opened now: busy)."""
    try:
        with duckdb.connect(str(db), read_only=True) as con:
            tables = _tables(con)
    except duckdb.Error:
        return None
    if tables and "schema_migrations" not in tables:
        return f"warehouse {db}: {_not_ours(tables)}"
    return None


def _tables(con: duckdb.DuckDBPyConnection) -> set[str]:
    query = "SELECT table_name FROM duckdb_tables() WHERE database_name = current_database()"
    return {row[0] for row in con.execute(query).fetchall()}


def _not_ours(tables: set[str]) -> str:
    shown = ", ".join(sorted(tables)[:3]) + (", …" if len(tables) > 3 else "")
    return f"the DuckDB file holds tables ({shown}) but no schema_migrations: not a wirecopy warehouse"


@cache
def migrations() -> tuple[tuple[int, str, str], ...]:
    """(version, name, sql) for every file in warehouse/migrations, in order."""
    found = []
    for entry in resources.files("wirecopy.warehouse").joinpath("migrations").iterdir():
        match = _MIGRATION_NAME.match(entry.name)
        if match:
            found.append((int(match.group(1)), match.group(2), entry.read_text(encoding="utf-8")))
    return tuple(sorted(found))


@contextmanager
def transaction(con: duckdb.DuckDBPyConnection) -> Iterator[duckdb.DuckDBPyConnection]:
    """BEGIN … COMMIT, rolled back when the body raises. A COMMIT that fails has already been rolled back by
    DuckDB and raises its own error (a ROLLBACK after it would only add "no transaction is active")."""
    con.execute("BEGIN TRANSACTION")
    try:
        yield con
    except BaseException:
        con.execute("ROLLBACK")
        raise
    con.execute("COMMIT")


def apply_migrations(con: duckdb.DuckDBPyConnection) -> list[int]:
    """Apply pending migrations, each in its own transaction; returns the versions applied. A database that holds
    tables but no `schema_migrations` was not made by wirecopy: NotAWarehouse, and nothing is created in it."""
    tables = _tables(con)
    if tables and "schema_migrations" not in tables:
        raise NotAWarehouse(_not_ours(tables))
    con.execute(
        "CREATE TABLE IF NOT EXISTS schema_migrations "
        "(version INTEGER PRIMARY KEY, name VARCHAR NOT NULL, applied_at TIMESTAMPTZ NOT NULL)"
    )
    done = {row[0] for row in con.execute("SELECT version FROM schema_migrations").fetchall()}
    applied = []
    for version, name, sql in migrations():
        if version in done:
            continue
        with transaction(con):
            con.execute(sql)
            con.execute("INSERT INTO schema_migrations VALUES (?, ?, ?)", [version, name, datetime.now(UTC)])
        applied.append(version)
    return applied


_LOCK_ERROR = re.compile(r"could not set lock on file|conflicting lock|being used by another process", re.IGNORECASE)


def _is_lock_error(error: Exception) -> bool:
    """DuckDB's messages for a file another process holds (not any message with "lock" in it: "failed to pin
    block" is an out-of-memory error)."""
    return _LOCK_ERROR.search(str(error)) is not None


ROW_GROUP_SIZE = 16_384
"""Rows per row group in what wirecopy writes (DuckDB's default: 122,880). DuckDB appends every commit as new
row groups and merges small ones at a later checkpoint; a merge holds about one new row group of each table in
memory, which for the text tables (`paragraphs`, `dedup_texts`) at the default size was ≈ 130 MB on top of the
buffer pool (bench/dedup.py). Any DuckDB reads the file whatever its row group size."""


WRITE_THREADS = 1
"""DuckDB threads of a read-write connection. Its checkpoint then writes one table at a time: with two threads
two tables' merges were in memory at once (+10 MB peak RSS in bench/dedup.py), and an ordinary commit is no
faster."""

MERGE_THREADS = 2
"""DuckDB threads of the write connection of a commit that merges row groups (`merge_row_groups=True`): its
checkpoint rewrites every table's small row groups since the last merge, the longest pause of a long ingest, on a
core the workers leave free then (at that scale they wait for the writer). A million paragraphs in 52 commits of
16 MB, back to back: the three merging checkpoints 4.0 / 6.7 / 7.7 s with one thread, 3.0 / 5.0 / 5.5 s with two."""


def _attach(path: Path, config: dict[str, object]) -> duckdb.DuckDBPyConnection:
    """A read-write connection: the row group size is an option of ATTACH, not of `duckdb.connect`."""
    config = {"temp_directory": f"{path}.tmp", "threads": WRITE_THREADS, **config}  # spills beside the file
    con = duckdb.connect(config=config)
    try:
        quoted = str(path).replace("'", "''")
        con.execute(f"ATTACH '{quoted}' AS warehouse (ROW_GROUP_SIZE {ROW_GROUP_SIZE})")
        con.execute("USE warehouse")
    except BaseException:
        con.close()
        raise
    return con


def connect(
    path: Path,
    *,
    read_only: bool,
    wait_seconds: float = 30.0,
    memory_limit: str | None = None,
    merge_row_groups: bool = False,
    checkpoint_at_close: bool = False,
    config: dict[str, object] | None = None,
) -> duckdb.DuckDBPyConnection:
    """Open the warehouse, retrying with backoff while another process holds the file.

    `config`: more DuckDB options (e.g. `wirecopy.query.READ_ONLY_CONFIG` for a connection that cannot touch
    any other file).

    `memory_limit` caps DuckDB's buffer pool for this connection (e.g. "256MB"); None keeps DuckDB's default.
    `merge_row_groups=True` lets this connection's checkpoint merge the small row groups of every table (DuckDB
    appends every commit as new row groups). Only the commits that `commit_batch` picks do: any other write
    session (a run record, a boilerplate refresh) would merge the whole warehouse's backlog at its close.
    `checkpoint_at_close=True`: a COMMIT only writes the WAL (DuckDB otherwise checkpoints inside a COMMIT
    whose WAL passes 16 MB); the checkpoint runs when the connection closes.
    """
    if read_only and not path.exists():
        raise WarehouseMissing(f"no warehouse at {path}: run `wirecopy ingest` first")
    if not read_only:
        path.parent.mkdir(parents=True, exist_ok=True)
    deadline = time.monotonic() + wait_seconds
    delay = 0.05
    while True:
        try:
            options: dict[str, object] = {"memory_limit": memory_limit} if memory_limit else {}
            if not merge_row_groups:
                options["max_vacuum_tasks"] = 0
            elif not read_only:
                options["threads"] = MERGE_THREADS
            if checkpoint_at_close:
                options["checkpoint_threshold"] = "1TB"
            options |= config or {}
            con = duckdb.connect(str(path), read_only=True, config=options) if read_only else _attach(path, options)
        except duckdb.Error as error:
            if not _is_lock_error(error) or time.monotonic() >= deadline:
                if _is_lock_error(error):
                    raise WarehouseBusy(
                        f"warehouse {path} is locked by another process (waited {wait_seconds:.0f}s)"
                    ) from error
                raise
            time.sleep(delay)
            delay = min(delay * 2, 1.0)
            continue
        if not read_only:
            try:
                apply_migrations(con)
            except BaseException:
                con.close()
                raise
        return con


@contextmanager
def session(path: Path, *, read_only: bool, **options) -> Iterator[duckdb.DuckDBPyConnection]:
    """A connection (`connect` and its options) closed on exit: keep write windows short."""
    con = connect(path, read_only=read_only, **options)
    try:
        yield con
    finally:
        con.close()


def _published_name(path: Path) -> Path:
    """The warehouse users name for a writer's file (`w.duckdb.writer/w.duckdb` → `w.duckdb`), else `path`."""
    return path.parent.parent / path.name if path.parent.name == path.name + ".writer" else path


@contextmanager
def writer_lock(path: Path, *, wait_seconds: float = 300.0) -> Iterator[None]:
    """Serialise read-plan-write cycles of ingests across processes (a lock file beside the database)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    lock = FileLock(str(path) + ".lock")
    try:
        lock.acquire(timeout=wait_seconds)
    except Timeout as error:
        raise WarehouseBusy(
            f"warehouse {_published_name(path)} is busy: another wirecopy process (an ingest, reprocess or "
            f"boilerplate change) has held its writer lock for over {wait_seconds:.0f}s; run this again later"
        ) from error
    try:
        yield
    finally:
        lock.release()
