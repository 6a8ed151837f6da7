"""What a batch's write leaves behind: nothing when it fails, and row groups no larger than wirecopy's size."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest
from wirecopy.warehouse import db as warehouse_db
from wirecopy.warehouse.commit import Batch, commit_batch

from tests.linkcheck import dedup_state, table_counts
from wirecopy.dedup.settings import DedupSettings
from wirecopy.models import CleanDocument, ContentType, RawDocument, content_hash

SETTINGS = DedupSettings()


def synthetic_documents(count: int, paragraphs: int) -> list[tuple[RawDocument, CleanDocument]]:
    documents = []
    for d in range(count):
        body = [f"document {d} paragraph {p} " + " ".join(f"w{(d * 31 + p * 7 + k) % 997}" for k in range(12))
                for p in range(paragraphs)]  # fmt: skip
        text = "\n".join(body)
        raw = RawDocument(
            source_uri=f"test://{d}", outlet=f"outlet{d % 3}", content=text, content_type=ContentType.TEXT,
            content_hash=content_hash(text),
        )  # fmt: skip
        clean = CleanDocument(doc_id=raw.doc_id, source_uri=raw.source_uri, outlet=raw.outlet, paragraphs=body)
        documents.append((raw, clean))
    return documents


def test_a_failed_write_raises_duckdbs_own_error_and_changes_nothing(tmp_path: Path, seed_documents) -> None:
    db = tmp_path / "warehouse.duckdb"
    first, rest = seed_documents[:2], seed_documents[2:]
    commit_batch(db, Batch(run_id="first", documents=first), SETTINGS)
    before_counts, before_state = table_counts(db), dedup_state(db)

    with pytest.raises(duckdb.Error) as failure:  # a pool this small fails the COMMIT itself
        commit_batch(db, Batch(run_id="starved", documents=rest), SETTINGS, write_memory_limit="2MB")
    assert "no transaction is active" not in str(failure.value)  # DuckDB's own error, not a failed ROLLBACK's
    assert "memory" in str(failure.value).lower() or "allocate" in str(failure.value).lower()
    assert table_counts(db) == before_counts
    assert dedup_state(db) == before_state

    commit_batch(db, Batch(run_id="rest", documents=rest), SETTINGS)  # the LSH store still matches the file
    reference = tmp_path / "reference.duckdb"
    commit_batch(reference, Batch(run_id="all", documents=seed_documents), SETTINGS)
    assert dedup_state(db) == dedup_state(reference)


def test_row_groups_hold_at_most_the_configured_rows(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr(warehouse_db, "ROW_GROUP_SIZE", 2048)
    db = tmp_path / "warehouse.duckdb"
    commit_batch(db, Batch(run_id="run", documents=synthetic_documents(250, 20)), SETTINGS)  # 5,000 paragraphs
    with duckdb.connect(str(db), read_only=True) as con:
        sizes = con.execute(
            "SELECT row_group_id, max(start + count) - min(start) FROM pragma_storage_info('paragraphs') "
            "WHERE column_name = 'text' GROUP BY ALL ORDER BY 1"
        ).fetchall()
        total = con.execute("SELECT count(*) FROM paragraphs").fetchone()[0]
    assert total == 5000
    assert [rows for _, rows in sizes] == [2048, 2048, 904]
