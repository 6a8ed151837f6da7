"""Read duplicate links back from a warehouse as readable (outlet, text-prefix) pairs."""

from __future__ import annotations

from pathlib import Path

import duckdb

LINKS = """
SELECT split_part(c.outlet, '_', 1) AS copy_outlet, c.position AS copy_position, c.text AS copy_text,
       split_part(k.outlet, '_', 1) AS canon_outlet, k.position AS canon_position, k.text AS canon_text,
       c.method, c.similarity, c.cluster_id
FROM paragraph_dedup c JOIN paragraph_dedup k ON k.paragraph_id = c.canonical_id
WHERE c.method IS NOT NULL
"""


def links(db: Path) -> list[dict]:
    with duckdb.connect(str(db), read_only=True) as con:
        cursor = con.execute(LINKS)
        names = [d[0] for d in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


WORK_QUEUES = {"boilerplate_pending"}  # emptied by the end of every run: their contents between commits vary


def table_counts(db: Path) -> dict[str, int]:
    """Rows of every table, but the work queues."""
    with duckdb.connect(str(db), read_only=True) as con:
        tables = [r[0] for r in con.execute("SELECT table_name FROM duckdb_tables()").fetchall()]
        return {t: con.execute(f'SELECT count(*) FROM "{t}"').fetchone()[0] for t in tables if t not in WORK_QUEUES}


def dedup_state(db: Path) -> set[tuple]:
    """Everything that defines the dedup outcome, independent of run ids and insertion order."""
    with duckdb.connect(str(db), read_only=True) as con:
        return set(
            con.execute(
                "SELECT paragraph_id, canonical_id, cluster_id, method, round(similarity, 6) FROM paragraph_dedup"
            ).fetchall()
        )


def ingest_in_batches(db: Path, documents, batches: list[list[int]], between=None) -> None:
    """Commit `documents[i] for i in batch` per batch, with default dedup settings; `between(n)` after batch n."""
    from wirecopy.warehouse.commit import Batch, commit_batch

    from wirecopy.dedup.settings import DedupSettings

    settings = DedupSettings()
    for number, members in enumerate(batches):
        commit_batch(db, Batch(run_id=f"run-{number}", documents=[documents[i] for i in members]), settings)
        if between is not None:
            between(number)
