"""Reprocessing from stored raw documents equals a fresh ingest under the same settings."""

from __future__ import annotations

from pathlib import Path

import pytest

from flows.ingest import ingest
from flows.reprocess import reprocess
from tests.linkcheck import dedup_state, table_counts


def test_reprocess_after_a_settings_change_equals_fresh_ingest(
    prefect_harness, seeds_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    old, fresh = tmp_path / "old.duckdb", tmp_path / "fresh.duckdb"
    ingest(sources=[str(seeds_dir)], db=str(old))
    before = dedup_state(old)

    monkeypatch.setenv("WIRECOPY_DEDUP__NEAR_THRESHOLD", "0.95")  # stricter: the 000/003 near copies go away
    assert reprocess(db=str(old)) == 5
    ingest(sources=[str(seeds_dir)], db=str(fresh))

    assert dedup_state(old) == dedup_state(fresh) != before
    old_counts, fresh_counts = table_counts(old), table_counts(fresh)
    assert old_counts.pop("ingest_runs") == 1 and fresh_counts.pop("ingest_runs") == 1
    assert old_counts == fresh_counts
    assert not Path(str(old) + ".rebuild").exists()
