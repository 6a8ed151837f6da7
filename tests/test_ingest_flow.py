"""End to end through a real Prefect flow run into a real DuckDB file."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest
from wirecopy.flows.ingest import ingest

from tests.linkcheck import links, table_counts


@pytest.fixture(scope="module")
def seeded(prefect_harness, seeds_dir: Path, tmp_path_factory) -> Path:
    db = tmp_path_factory.mktemp("seeded") / "warehouse.duckdb"
    summary = ingest(sources=[str(seeds_dir)], db=str(db))
    assert summary.documents_new == 5
    return db


def clean_paragraphs(db: Path, outlet_prefix: str) -> list[str]:
    with duckdb.connect(str(db), read_only=True) as con:
        rows = con.execute(
            "SELECT text FROM paragraph_dedup WHERE outlet LIKE ? ORDER BY position", [outlet_prefix + "%"]
        ).fetchall()
    return [r[0] for r in rows]


def test_five_documents(seeded: Path) -> None:
    assert table_counts(seeded)["documents"] == 5


def test_ad_markers_and_source_line_removed_from_001(seeded: Path) -> None:
    paragraphs = clean_paragraphs(seeded, "001")
    assert len(paragraphs) > 20
    assert not [p for p in paragraphs if "[ad_" in p or p.strip() == "المصدر"]


def test_tweet_removed_from_000(seeded: Path) -> None:
    text = "\n".join(clean_paragraphs(seeded, "000"))
    for fragment in ("В Ереване", "Sota_Vision", "pic.twitter.com", "Люди скандируют", "Никол Пашинян"):
        assert fragment not in text
    assert "باشينيان يتصل بماكرون وبلينكن" in text


def test_removed_segments_kept_with_reason(seeded: Path) -> None:
    with duckdb.connect(str(seeded), read_only=True) as con:
        rules = dict(con.execute("SELECT text, rule FROM removed_segments").fetchall())
    assert "المصدر" in rules
    assert any("Sota_Vision" in text for text in rules)
    assert all(rule for rule in rules.values())


@pytest.mark.parametrize("prefix", ["ومنذ الصراع الذي استمر 6 أسابيع", "وتسبب الصراع بين البلدين", "وخاضت الجمهوريتان"])
def test_syndicated_paragraphs_of_000_and_003_share_one_canonical(seeded: Path, prefix: str) -> None:
    found = [link for link in links(seeded) if link["copy_text"].startswith(prefix)]
    assert len(found) == 1
    assert {found[0]["copy_outlet"], found[0]["canon_outlet"]} == {"000", "003"}
    assert found[0]["canon_text"].startswith(prefix)


def test_repeated_sirens_paragraph_of_004_links_to_first_occurrence(seeded: Path) -> None:
    found = [link for link in links(seeded) if "صفارات الإنذار" in link["copy_text"]]
    assert len(found) == 1
    assert found[0]["copy_outlet"] == found[0]["canon_outlet"] == "004"
    assert found[0]["canon_position"] < found[0]["copy_position"]


def test_2020_article_002_shares_nothing(seeded: Path) -> None:
    assert not [link for link in links(seeded) if "002" in (link["copy_outlet"], link["canon_outlet"])]


def test_second_ingest_adds_rows_only_to_runs(seeded: Path, seeds_dir: Path) -> None:
    before = table_counts(seeded)
    summary = ingest(sources=[str(seeds_dir)], db=str(seeded))
    after = table_counts(seeded)
    assert summary.documents_new == 0 and summary.documents_seen == 5
    assert after.pop("ingest_runs") == before.pop("ingest_runs") + 1
    assert after == before


def test_run_row_and_summary_recorded(seeded: Path) -> None:
    with duckdb.connect(str(seeded), read_only=True) as con:
        status, docs, stages = con.execute(
            "SELECT status, documents_new, stage_seconds FROM ingest_runs ORDER BY started_at LIMIT 1"
        ).fetchone()
    assert status == "completed" and docs == 5
    assert {"extract", "transform", "load"} <= set(__import__("json").loads(stages))


@pytest.mark.parametrize("limits", [{"batch_files": 2}, {"batch_bytes": 1}], ids=["2 files", "1 byte: a file each"])
def test_small_batches_give_the_same_warehouse(
    prefect_harness, seeds_dir: Path, seeded: Path, tmp_path: Path, limits: dict
) -> None:
    from tests.linkcheck import dedup_state

    db = tmp_path / "batched.duckdb"
    summary = ingest(sources=[str(seeds_dir)], db=str(db), **limits)
    assert summary.documents_new == 5
    assert dedup_state(db) == dedup_state(seeded)
    batched, whole = table_counts(db), table_counts(seeded)
    assert batched.pop("ingest_runs") == 1
    whole.pop("ingest_runs")
    assert batched == whole
