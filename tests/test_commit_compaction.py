"""DuckDB's small row groups: commits append them, every `COMPACT_EVERY_BATCHES`-th commit to a warehouse
(across runs) merges them, and neither changes what is stored."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import duckdb
from wirecopy.warehouse import commit
from wirecopy.warehouse.boilerplate import refresh_boilerplate
from wirecopy.warehouse.commit import Batch, commit_batch
from wirecopy.warehouse.runs import record_run

from tests.linkcheck import dedup_state, table_counts
from wirecopy.cleaning.learned import BoilerplateSettings
from wirecopy.dedup.settings import DedupSettings
from wirecopy.models import ContentType, RawDocument, RunSummary, content_hash
from wirecopy.transform import clean_document

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


def small_document(number: int):
    text = f"Report number {number}: the council met on day {number} and approved budget line {number * 7}."
    raw = RawDocument(
        source_uri=f"file:///in/{number}.txt", outlet="wire", content=text, content_type=ContentType.TEXT,
        content_hash=content_hash(text),
    )  # fmt: skip
    return raw, clean_document(raw)


def test_every_nth_commit_merges_whatever_run_it_belongs_to(tmp_path: Path, monkeypatch) -> None:
    every = 6  # COMPACT_EVERY_BATCHES commits, fewer of them
    monkeypatch.setattr(commit, "COMPACT_EVERY_BATCHES", every)
    db = tmp_path / "warehouse.duckdb"
    groups = []
    for number in range(1, 2 * every + 2):  # one run per commit, one paragraph each
        commit_batch(db, Batch(run_id=f"run{number}", documents=[small_document(number)]), SETTINGS)
        groups.append(row_groups(db, "paragraphs"))
    assert groups[: every - 1] == list(range(1, every))  # commits 1–5 append
    assert groups[every - 1] == 1  # the 6th merges the 5 small row groups and its own
    assert groups[every : 2 * every - 1] == list(range(2, every + 1))  # the count starts again
    assert groups[2 * every - 1] == 1 and groups[2 * every] == 2
    assert table_counts(db)["paragraphs"] == 2 * every + 1


def test_other_write_sessions_leave_the_merging_to_the_counted_commits(tmp_path: Path) -> None:
    """A run record or a boilerplate refresh after a run writes through its own session: its checkpoint must not
    merge the row groups the run's commits left (DuckDB's checkpoint would merge every table's)."""
    db = tmp_path / "warehouse.duckdb"
    for number in range(1, 4):
        commit_batch(db, Batch(run_id=f"run{number}", documents=[small_document(number)]), SETTINGS)
    assert row_groups(db, "paragraphs") == 3
    now = datetime.now(UTC)
    record_run(
        db, RunSummary(run_id="run3"), started_at=now, finished_at=now, status="completed", sources=[], settings={}
    )
    refresh_boilerplate(db, BoilerplateSettings())
    assert row_groups(db, "paragraphs") == 3


def test_a_warehouse_from_before_the_merge_counter_gets_it_at_its_next_commit(tmp_path: Path) -> None:
    db = tmp_path / "warehouse.duckdb"
    commit_batch(db, Batch(run_id="old", documents=[small_document(1)]), SETTINGS)
    with duckdb.connect(str(db)) as con:  # as a warehouse written before migration 005 was
        con.execute("DROP TABLE row_group_merges; DELETE FROM schema_migrations WHERE version = 5")
    commit_batch(db, Batch(run_id="new", documents=[small_document(2)]), SETTINGS)
    with duckdb.connect(str(db), read_only=True) as con:
        assert con.execute("SELECT commits_since FROM row_group_merges").fetchone()[0] == 1
    assert table_counts(db)["paragraphs"] == 2


def test_only_a_merging_write_connection_uses_more_threads(tmp_path: Path) -> None:
    """A merge rewrites many row groups and may share the cores; an ordinary commit's checkpoint keeps one thread
    (two would hold two tables' writes in memory at once)."""
    from wirecopy.warehouse import db as warehouse_db

    path = tmp_path / "warehouse.duckdb"
    for merging, expected in ((False, warehouse_db.WRITE_THREADS), (True, warehouse_db.MERGE_THREADS)):
        with warehouse_db.session(path, read_only=False, merge_row_groups=merging) as con:
            assert con.execute("SELECT current_setting('threads')").fetchone()[0] == expected
    assert warehouse_db.MERGE_THREADS > warehouse_db.WRITE_THREADS
