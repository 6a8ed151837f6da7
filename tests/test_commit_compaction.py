"""DuckDB's small row groups: batches inside a run only append, a compacting commit merges them, and neither
changes what is stored."""

from __future__ import annotations

from pathlib import Path

import duckdb

from tests.linkcheck import dedup_state, table_counts
from warehouse.commit import COMPACT_EVERY_BATCHES, Batch, commit_batch, compacts
from wirecopy.dedup.settings import DedupSettings

SETTINGS = DedupSettings()


def row_groups(db: Path, table: str) -> int:
    with duckdb.connect(str(db), read_only=True) as con:
        query = f"SELECT count(DISTINCT row_group_id) FROM pragma_storage_info('{table}')"
        return con.execute(query).fetchone()[0]


def test_batches_append_row_groups_and_the_compacting_commit_merges_them(tmp_path: Path, seed_documents) -> None:
    reference = tmp_path / "one-batch.duckdb"
    commit_batch(reference, Batch(run_id="run", documents=seed_documents), SETTINGS)

    db = tmp_path / "many-batches.duckdb"
    *inside, last = seed_documents
    for document in inside:
        commit_batch(db, Batch(run_id="run", documents=[document]), SETTINGS, compact=False)
    appended = row_groups(db, "paragraphs")
    assert appended == len(inside)  # one row group per commit, none merged
    commit_batch(db, Batch(run_id="run", documents=[last]), SETTINGS, compact=True)
    assert row_groups(db, "paragraphs") == 1

    assert dedup_state(db) == dedup_state(reference)
    assert table_counts(db) == table_counts(reference)


def test_a_run_compacts_every_sixteenth_batch_and_its_last() -> None:
    chosen = [n for n in range(40) if compacts(n, last=n == 39)]
    assert chosen == [COMPACT_EVERY_BATCHES - 1, 2 * COMPACT_EVERY_BATCHES - 1, 39]
    assert compacts(0, last=True)  # a single-batch run merges as DuckDB always did
