"""DuckDB connections: numbered migrations, bounded retry on the single-writer file lock, write lock."""

from __future__ import annotations

import re
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


@cache
def migrations() -> tuple[tuple[int, str, str], ...]:
    """(version, name, sql) for every file in warehouse/migrations, in order."""
    found = []
    for entry in resources.files("warehouse").joinpath("migrations").iterdir():
        match = _MIGRATION_NAME.match(entry.name)
        if match:
            found.append((int(match.group(1)), match.group(2), entry.read_text(encoding="utf-8")))
    return tuple(sorted(found))


def apply_migrations(con: duckdb.DuckDBPyConnection) -> list[int]:
    """Apply pending migrations, each in its own transaction; returns the versions applied."""
    con.execute(
        "CREATE TABLE IF NOT EXISTS schema_migrations "
        "(version INTEGER PRIMARY KEY, name VARCHAR NOT NULL, applied_at TIMESTAMPTZ NOT NULL)"
    )
    done = {row[0] for row in con.execute("SELECT version FROM schema_migrations").fetchall()}
    applied = []
    for version, name, sql in migrations():
        if version in done:
            continue
        con.execute("BEGIN TRANSACTION")
        try:
            con.execute(sql)
            con.execute("INSERT INTO schema_migrations VALUES (?, ?, ?)", [version, name, datetime.now(UTC)])
            con.execute("COMMIT")
        except Exception:
            con.execute("ROLLBACK")
            raise
        applied.append(version)
    return applied


def _is_lock_error(error: Exception) -> bool:
    text = str(error).lower()
    return "lock" in text or "being used by another process" in text


def connect(
    path: Path,
    *,
    read_only: bool,
    wait_seconds: float = 30.0,
    memory_limit: str | None = None,
    merge_row_groups: bool = True,
) -> duckdb.DuckDBPyConnection:
    """Open the warehouse, retrying with backoff while another process holds the file.

    `memory_limit` caps DuckDB's buffer pool for this connection (e.g. "256MB"); None keeps DuckDB's default.
    `merge_row_groups=False` stops this connection's checkpoints from merging small row groups (DuckDB appends
    every commit as new row groups and merges them at later checkpoints; see `commit_batch`).
    """
    if read_only and not path.exists():
        raise WarehouseMissing(f"no warehouse at {path}: run `wirecopy ingest` first")
    if not read_only:
        path.parent.mkdir(parents=True, exist_ok=True)
    deadline = time.monotonic() + wait_seconds
    delay = 0.05
    while True:
        try:
            config: dict[str, object] = {"memory_limit": memory_limit} if memory_limit else {}
            if not merge_row_groups:
                config["max_vacuum_tasks"] = 0
            con = duckdb.connect(str(path), read_only=read_only, config=config)
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
            apply_migrations(con)
        return con


@contextmanager
def session(
    path: Path,
    *,
    read_only: bool,
    wait_seconds: float = 30.0,
    memory_limit: str | None = None,
    merge_row_groups: bool = True,
) -> Iterator[duckdb.DuckDBPyConnection]:
    """A connection closed on exit: keep write windows short."""
    con = connect(
        path, read_only=read_only, wait_seconds=wait_seconds, memory_limit=memory_limit,
        merge_row_groups=merge_row_groups,
    )  # fmt: skip
    try:
        yield con
    finally:
        con.close()


@contextmanager
def writer_lock(path: Path, *, wait_seconds: float = 300.0) -> Iterator[None]:
    """Serialise read-plan-write cycles of ingests across processes (a lock file beside the database)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    lock = FileLock(str(path) + ".lock")
    try:
        lock.acquire(timeout=wait_seconds)
    except Timeout as error:
        raise WarehouseBusy(
            f"another ingest has been writing to {path} for over {wait_seconds:.0f}s; inputs left for the next run"
        ) from error
    try:
        yield
    finally:
        lock.release()
