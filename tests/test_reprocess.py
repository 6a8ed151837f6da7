"""Reprocessing from stored raw documents equals a fresh ingest under the same settings."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest
from wirecopy.flows.ingest import ingest
from wirecopy.flows.reprocess import reprocess
from wirecopy.warehouse import sql
from wirecopy.warehouse.lsh_store import LshStore, store_directory
from wirecopy.warehouse.snapshot import writer_path

from tests.linkcheck import dedup_state, table_counts


def test_reprocess_after_a_settings_change_equals_fresh_ingest(
    prefect_harness, seeds_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    old, fresh = tmp_path / "old.duckdb", tmp_path / "fresh.duckdb"
    ingest(sources=[str(seeds_dir)], db=str(old))
    before = dedup_state(old)

    monkeypatch.setenv("WIRECOPY_DEDUP__B1_SHORTER", "0.99")  # stricter: the near copies and pull-quotes go away
    monkeypatch.setenv("WIRECOPY_DEDUP__B2_EACH", "0.99")
    assert reprocess(db=str(old)) == 5
    ingest(sources=[str(seeds_dir)], db=str(fresh))

    assert dedup_state(old) == dedup_state(fresh) != before
    old_counts, fresh_counts = table_counts(old), table_counts(fresh)
    assert old_counts.pop("ingest_runs") == 2 and fresh_counts.pop("ingest_runs") == 1  # the reprocess is a run
    assert old_counts == fresh_counts
    with duckdb.connect(str(old), read_only=True) as con:
        kind, documents, paragraphs, run = con.execute(
            "SELECT kind, documents_new, paragraphs_new, run_id FROM ingest_runs ORDER BY started_at DESC LIMIT 1"
        ).fetchone()
        assert (kind, documents) == ("reprocess", 5) and paragraphs == fresh_counts["paragraphs"]
        for table in ("documents", "paragraphs", "duplicate_links", "dedup_texts", "removed_segments"):
            orphans = con.execute(  # every derived row's run_id names a run: the reprocess's
                f"SELECT count(*) FROM {table} t WHERE t.run_id NOT IN (SELECT run_id FROM ingest_runs)"
            ).fetchone()[0]
            assert orphans == 0, table
        assert con.execute("SELECT DISTINCT run_id FROM paragraphs").fetchall() == [(run,)]
    writer = writer_path(old)  # the rebuild happens beside the writer's file, which readers never open
    assert not Path(str(writer) + ".rebuild").exists()
    assert not store_directory(Path(str(writer) + ".rebuild")).exists()
    assert not Path(str(writer) + ".rebuild.lock").exists()  # nothing of the rebuild is left beside it
    store = LshStore.load(store_directory(writer))  # the rebuilt file's LSH store moved in with it
    with duckdb.connect(str(old), read_only=True) as con:
        covered = con.execute(sql.SIGNED_TEXTS).fetchone()
    assert store is not None and (store.coverage.texts, store.coverage.xor) == covered


def test_reprocess_keeps_manual_boilerplate_decisions(prefect_harness, seeds_dir: Path, tmp_path: Path) -> None:
    """A human 'drop' decision is data, not derived state: it survives a rebuild and still applies."""
    import duckdb
    from wirecopy.warehouse.boilerplate import record_decision, text_hash_of
    from wirecopy.warehouse.snapshot import publish

    db = tmp_path / "decisions.duckdb"
    ingest(sources=[str(seeds_dir)], db=str(db))
    outlet = next(p.stem for p in sorted(seeds_dir.glob("002_*.txt")))
    heading = "آخر تطورات العمليات العسكرية بين أرمينيا وأذربيجان"
    record_decision(writer_path(db), outlet, text_hash_of(heading), "boilerplate", note="test")  # as the CLI does
    publish(db)

    def visible() -> bool:
        with duckdb.connect(str(db), read_only=True) as con:
            return con.execute("SELECT count(*) FROM paragraph_dedup WHERE text = ?", [heading]).fetchone()[0] == 1

    assert not visible()
    reprocess(db=str(db))
    assert not visible()
    with duckdb.connect(str(db), read_only=True) as con:
        assert con.execute("SELECT count(*) FROM boilerplate_overrides").fetchone()[0] == 1
    # deciding goes on after the rebuild: the copied decision keeps its id, the next one follows it
    assert record_decision(writer_path(db), outlet, text_hash_of(heading), "learned", note="reset") == 2
    publish(db)
    assert visible()


def test_a_rebuild_that_fails_leaves_the_warehouse_and_nothing_beside_it(
    prefect_harness, seeds_dir: Path, tmp_path: Path
) -> None:
    """A page that fails half-way: the warehouse is as it was, and no rebuild file, WAL, LSH store or lock stays."""
    from wirecopy.warehouse.reprocess import rebuild_path
    from wirecopy.warehouse.reprocess import reprocess as rebuild

    db = tmp_path / "w.duckdb"
    ingest(sources=[str(seeds_dir)], db=str(db))
    writer = writer_path(db)
    before = table_counts(writer)

    def failing(target: Path, page: list) -> None:
        raise RuntimeError("disk full")

    with pytest.raises(RuntimeError, match="disk full"):
        rebuild(writer, failing, page_size=2)
    assert table_counts(writer) == before
    leftovers = [p.name for p in writer.parent.iterdir() if p.name.startswith(rebuild_path(writer).name)]
    assert leftovers == []


def test_a_reprocess_is_recorded_when_it_fails_and_marks_killed_runs_first(
    prefect_harness, seeds_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A run killed before (its row `running`, its lock free) is marked interrupted with what it stored, before the
    rebuild stamps every row with its own id; a reprocess that cannot get the writer lock is a `failed` run."""
    from datetime import UTC, datetime

    from filelock import FileLock
    from wirecopy.warehouse.runs import start_run

    from wirecopy.models import RunSummary

    db = tmp_path / "w.duckdb"
    ingest(sources=[str(seeds_dir)], db=str(db))
    writer = writer_path(db)
    killed = start_run(writer, RunSummary(run_id="k" * 32), started_at=datetime.now(UTC), sources=[], settings={})
    killed.release()  # as when its process dies: the row stays `running`, nobody holds its lock

    assert reprocess(db=str(db)) == 5
    with duckdb.connect(str(db), read_only=True) as con:
        row = con.execute("SELECT status, error FROM ingest_runs WHERE run_id = ?", ["k" * 32]).fetchone()
    assert row[0] == "interrupted" and row[1].startswith("its process ended without recording the run's end")

    monkeypatch.setenv("WIRECOPY_LOCK_WAIT_SECONDS", "1")
    held = FileLock(f"{writer}.lock")
    held.acquire(timeout=0)  # another writer
    try:
        state = reprocess(db=str(db), return_state=True)
    finally:
        held.release()
    assert state.is_failed()
    with duckdb.connect(str(writer), read_only=True) as con:
        kind, status, error = con.execute(
            "SELECT kind, status, error FROM ingest_runs ORDER BY started_at DESC LIMIT 1"
        ).fetchone()
    assert (kind, status) == ("reprocess", "failed") and error.startswith(f"WarehouseBusy: warehouse {db} is busy")
