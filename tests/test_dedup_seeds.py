"""The dedup engine on the real seeds: exactly the true links, and batching never changes the result."""

from __future__ import annotations

import random
from pathlib import Path

from wirecopy.warehouse.commit import Batch, commit_batch

from tests.linkcheck import dedup_state, ingest_in_batches, links
from wirecopy.dedup.settings import DedupSettings

SETTINGS = DedupSettings()

# (copy outlet, copy prefix) → (canonical outlet, canonical prefix); 000↔003 direction is checked separately
EXPECTED_WITHIN_004 = {
    "وتم الإبلاغ عن صفارات الإنذار": "تم الإبلاغ عن صفارات الإنذار",
    "وصفت وزارة الدفاع الأذربيجانية": "ووصفت وزارة الدفاع الأذربيجانية",
    "قالت الخارجية الأذربيجانية": "من جانبها، قالت الخارجية الأذربيجانية",
}
SHARED_000_003 = [
    "حرب الأسابيع الـ6 في 2020",
    "ومنذ الصراع الذي استمر 6 أسابيع",
    "صراع على أنقاض الاتحاد السوفيتي",
    "وتسبب الصراع بين البلدين",
    "وخاضت الجمهوريتان السوفيتيتان",
]


def test_links_are_exactly_the_true_ones(db_path: Path, seed_documents) -> None:
    ingest_in_batches(db_path, seed_documents, [list(range(len(seed_documents)))])
    found = links(db_path)
    within_004 = {
        next(p for p in EXPECTED_WITHIN_004 if link["copy_text"].startswith(p)): link
        for link in found
        if link["copy_outlet"] == "004"
    }
    assert set(within_004) == set(EXPECTED_WITHIN_004)
    for copy_prefix, link in within_004.items():
        assert link["canon_outlet"] == "004"
        assert link["canon_text"].startswith(EXPECTED_WITHIN_004[copy_prefix])
    cross = [link for link in found if link["copy_outlet"] != "004"]
    assert sorted(next(p for p in SHARED_000_003 if link["copy_text"].startswith(p)) for link in cross) == sorted(
        SHARED_000_003
    )
    for link in cross:
        assert {link["copy_outlet"], link["canon_outlet"]} == {"000", "003"}
    assert len(found) == len(EXPECTED_WITHIN_004) + len(SHARED_000_003)


def test_methods_name_what_happened(db_path: Path, seed_documents) -> None:
    ingest_in_batches(db_path, seed_documents, [list(range(len(seed_documents)))])
    method = {link["copy_text"][:20]: link["method"] for link in links(db_path)}
    assert method["حرب الأسابيع الـ6 في"] == "exact"
    assert method["ومنذ الصراع الذي است"] == "near"
    assert method["وصفت وزارة الدفاع ال"] == "containment"
    assert method["قالت الخارجية الأذرب"] == "containment"


def test_baerbock_reports_of_001_and_003_are_not_linked(db_path: Path, seed_documents) -> None:
    ingest_in_batches(db_path, seed_documents, [list(range(len(seed_documents)))])
    assert not [link for link in links(db_path) if "بيربوك" in link["copy_text"] or "بيربوك" in link["canon_text"]]


def test_incremental_equals_batch_for_shuffled_batches(tmp_path: Path, seed_documents) -> None:
    reference = tmp_path / "all-at-once.duckdb"
    ingest_in_batches(reference, seed_documents, [list(range(len(seed_documents)))])
    expected = dedup_state(reference)
    rng = random.Random(7)
    for attempt in range(4):
        order = list(range(len(seed_documents)))
        rng.shuffle(order)
        cut = sorted(rng.sample(range(1, len(order)), k=rng.randint(1, len(order) - 1)))
        batches = [order[a:b] for a, b in zip([0, *cut], [*cut, len(order)], strict=True)]
        db = tmp_path / f"incremental-{attempt}.duckdb"
        ingest_in_batches(db, seed_documents, batches)
        assert dedup_state(db) == expected, batches


def test_late_arriving_earlier_original_takes_over(tmp_path: Path, seed_documents) -> None:
    """003 first, then 000 marked as published earlier: 000's paragraphs become canonical."""
    from datetime import UTC, datetime

    by_outlet = {raw.outlet[:3]: (raw, doc) for raw, doc in seed_documents}
    raw0, doc0 = by_outlet["000"]
    raw3, doc3 = by_outlet["003"]
    earlier = doc0.model_copy(update={"published_at": datetime(2023, 9, 19, 8, tzinfo=UTC)})
    later = doc3.model_copy(update={"published_at": datetime(2023, 9, 19, 12, tzinfo=UTC)})
    db = tmp_path / "late.duckdb"
    commit_batch(db, Batch(run_id="r1", documents=[(raw3, later)]), SETTINGS)
    assert links(db) == []
    commit_batch(db, Batch(run_id="r2", documents=[(raw0, earlier)]), SETTINGS)
    found = links(db)
    assert len(found) == len(SHARED_000_003)
    assert all(link["canon_outlet"] == "000" and link["copy_outlet"] == "003" for link in found)


def test_syndication_view_names_outlets_first_outlet_and_lag(tmp_path: Path, seed_documents) -> None:
    """000 published at 08:00 and 003 at 12:00 share five paragraphs: 000 is first, each copy lags 4 hours."""
    from datetime import UTC, datetime, timedelta

    import duckdb

    by_outlet = {raw.outlet[:3]: (raw, doc) for raw, doc in seed_documents}
    raw0, doc0 = by_outlet["000"]
    raw3, doc3 = by_outlet["003"]
    db = tmp_path / "syndication.duckdb"
    documents = [
        (raw0, doc0.model_copy(update={"published_at": datetime(2023, 9, 19, 8, tzinfo=UTC)})),
        (raw3, doc3.model_copy(update={"published_at": datetime(2023, 9, 19, 12, tzinfo=UTC)})),
    ]
    commit_batch(db, Batch(run_id="r", documents=documents), SETTINGS)
    with duckdb.connect(str(db), read_only=True) as con:
        rows = con.execute("SELECT first_outlet, outlets, paragraphs, outlet_count, copies FROM syndication").fetchall()
    assert len(rows) == len(SHARED_000_003)
    for first_outlet, outlets, paragraphs, outlet_count, copies in rows:
        assert first_outlet == raw0.outlet and outlets == sorted([raw0.outlet, raw3.outlet])
        assert paragraphs == 2 and outlet_count == 2
        assert copies == [{"outlet": raw3.outlet, "lag": timedelta(hours=4)}]


def test_run_counts_only_the_batch_own_links(tmp_path: Path, seed_documents) -> None:
    """000 then 003: the second batch reports the five links of 003's paragraphs, the first none."""
    by_outlet = {raw.outlet[:3]: pair for pair in seed_documents for raw in [pair[0]]}
    db = tmp_path / "counts.duckdb"
    first = commit_batch(db, Batch(run_id="r1", documents=[by_outlet["000"]]), SETTINGS)
    second = commit_batch(db, Batch(run_id="r2", documents=[by_outlet["003"]]), SETTINGS)
    raw3, doc3 = by_outlet["003"]
    mirror = raw3.model_copy(update={"outlet": "mirror", "source_uri": raw3.source_uri + "#mirror"})
    mirror_doc = doc3.model_copy(update={"doc_id": mirror.doc_id, "outlet": "mirror", "source_uri": mirror.source_uri})
    third = commit_batch(db, Batch(run_id="r3", documents=[(mirror, mirror_doc)]), SETTINGS)
    assert sum(first.links.values()) == 0
    assert sum(second.links.values()) == len(SHARED_000_003)
    # every mirrored paragraph is a copy; 003's own five links, re-computed in the touched clusters, are not counted
    assert sum(third.links.values()) == len(doc3.paragraphs)
