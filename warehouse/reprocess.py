"""Rebuild every derived table from the stored raw documents, without re-reading any source.

The rebuild goes into a new file beside the warehouse; the raw documents, runs, errors and any other kept
table are copied over, the documents are cleaned and deduplicated again with the current rules and
settings, and the new file replaces the old one atomically. Readers keep seeing the old warehouse until
the swap, and the result is exactly what a fresh ingest of the same raw documents would give.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

from wirecopy.warehouse import sql
from wirecopy.warehouse.db import session, writer_lock
from wirecopy.warehouse.lsh_store import store_directory

from wirecopy.models import RawDocument

KEPT_TABLES = ("raw_documents", "document_sources", "ingest_runs", "ingest_errors", "run_errors")
OPTIONAL_KEPT_TABLES = ("boilerplate_overrides",)


def rebuild_path(db: Path) -> Path:
    return db.with_name(db.name + ".rebuild")


def start_rebuild(db: Path, *, wait_seconds: float) -> Path:
    """Create the rebuild file with the current schema and copy the kept tables into it."""
    target = rebuild_path(db)
    for leftover in (target, Path(str(target) + ".wal")):
        leftover.unlink(missing_ok=True)
    shutil.rmtree(store_directory(target), ignore_errors=True)
    with session(target, read_only=False, wait_seconds=wait_seconds):
        pass  # schema via migrations
    with session(db, read_only=False, wait_seconds=wait_seconds) as con:
        con.execute(sql.ATTACH_FRESH.format(path=str(target).replace("'", "''")))
        try:
            existing = {row[0] for row in con.execute("SELECT table_name FROM duckdb_tables()").fetchall()}
            for table in KEPT_TABLES + tuple(t for t in OPTIONAL_KEPT_TABLES if t in existing):
                con.execute(sql.COPY_TO_FRESH.format(table=table))
        finally:
            con.execute(sql.DETACH_FRESH)
    return target


def raw_documents(db: Path, *, page_size: int, wait_seconds: float) -> Iterator[list[RawDocument]]:
    """Stored raw documents in stable pages, ordered by doc_id (keyset paging: no page re-reads earlier ones)."""
    after = ""
    while True:
        with session(db, read_only=True, wait_seconds=wait_seconds) as con:
            cursor = con.execute(sql.RAW_DOCUMENTS_PAGE, {"limit": page_size, "after": after})
            names = [d[0] for d in cursor.description]
            rows = [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
        if not rows:
            return
        after = rows[-1]["doc_id"]
        yield [RawDocument(**{k: v for k, v in row.items() if k != "doc_id"}) for row in rows]


def finish_rebuild(db: Path) -> None:
    """Replace the warehouse by the rebuilt file (atomic rename on the same filesystem)."""
    Path(str(db) + ".wal").unlink(missing_ok=True)  # the old file is closed and checkpointed
    # The LSH store follows its file. The old one goes first: should this be interrupted, a missing store is
    # rebuilt from the new file at the next ingest.
    shutil.rmtree(store_directory(db), ignore_errors=True)
    os.replace(rebuild_path(db), db)
    if store_directory(rebuild_path(db)).exists():
        os.replace(store_directory(rebuild_path(db)), store_directory(db))
    Path(str(rebuild_path(db)) + ".lock").unlink(missing_ok=True)  # its commits' lock: nobody else knew the file


def reprocess(
    db: Path,
    rebuild_batch: Callable[[Path, list[RawDocument]], None],
    *,
    after_rebuild: Callable[[Path], object] | None = None,
    page_size: int = 500,
    wait_seconds: float = 120.0,
) -> int:
    """Run the whole rebuild under the writer lock.

    `rebuild_batch` cleans and loads one page of raw documents into the new file; `after_rebuild` runs on the
    new file before it replaces the old one (e.g. to recompute derived boilerplate tables).
    """
    count = 0
    with writer_lock(db, wait_seconds=wait_seconds):
        try:
            target = start_rebuild(db, wait_seconds=wait_seconds)
            for page in raw_documents(target, page_size=page_size, wait_seconds=wait_seconds):
                rebuild_batch(target, page)
                count += len(page)
            if after_rebuild is not None:
                after_rebuild(target)
        except BaseException:
            discard_rebuild(db)  # the warehouse stays as it was; nothing half-built is left beside it
            raise
        finish_rebuild(db)
    return count


def discard_rebuild(db: Path) -> None:
    """Remove a rebuild that did not finish: its file, WAL, LSH store and lock."""
    rebuilt = rebuild_path(db)
    for leftover in (rebuilt, Path(f"{rebuilt}.wal"), Path(f"{rebuilt}.lock")):
        leftover.unlink(missing_ok=True)
    shutil.rmtree(store_directory(rebuilt), ignore_errors=True)
