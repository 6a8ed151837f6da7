"""Order independence on a chained-edit corpus: the (paragraph → canonical, method) map is a function of the set of
stored documents, whatever the batch sizes, the order, a reprocess, or a late earlier-published original."""

from __future__ import annotations

from pathlib import Path

import pytest
from wirecopy.warehouse.commit import Batch, commit_batch
from wirecopy.warehouse.reprocess import reprocess

from tests.chained_corpus import chained_documents
from tests.linkcheck import dedup_state, ingest_in_batches
from wirecopy.dedup.settings import DedupSettings
from wirecopy.transform import clean_documents

ARTICLES = 1000


@pytest.fixture(scope="module")
def corpus(seeds_dir: Path):
    return chained_documents(seeds_dir, ARTICLES)


@pytest.fixture(scope="module")
def reference(corpus, tmp_path_factory) -> tuple[Path, set]:
    db = tmp_path_factory.mktemp("order") / "reference.duckdb"
    ingest_in_batches(db, corpus, _cut(list(range(len(corpus))), 500))
    return db, dedup_state(db)


def _cut(order: list[int], size: int) -> list[list[int]]:
    return [order[i : i + size] for i in range(0, len(order), size)]


def test_corpus_has_chains_of_every_method(reference) -> None:
    methods = {row[3] for row in reference[1]}
    assert {"exact", "near", "containment"} <= methods
    assert sum(row[3] is not None for row in reference[1]) > ARTICLES  # thousands of links, not a toy


@pytest.mark.parametrize("reverse", [False, True], ids=["in-order", "reversed"])
def test_batches_of_37_give_the_same_map(corpus, reference, tmp_path: Path, reverse: bool) -> None:
    order = list(range(len(corpus)))[:: -1 if reverse else 1]
    ingest_in_batches(tmp_path / "w.duckdb", corpus, _cut(order, 37))
    assert dedup_state(tmp_path / "w.duckdb") == reference[1]


def test_one_document_per_batch_gives_the_same_map(corpus, tmp_path: Path) -> None:
    """Batches of one are slow through a real warehouse (a commit each): the first 100 documents, both orders."""
    first = list(range(100))
    ingest_in_batches(tmp_path / "whole.duckdb", corpus, [first])
    expected = dedup_state(tmp_path / "whole.duckdb")
    for name, order in (("forward", first), ("backward", first[::-1])):
        ingest_in_batches(tmp_path / f"{name}.duckdb", corpus, _cut(order, 1))
        assert dedup_state(tmp_path / f"{name}.duckdb") == expected, name


def test_late_earlier_originals_take_over(corpus, reference, tmp_path: Path) -> None:
    by_date = sorted(range(len(corpus)), key=lambda i: corpus[i][0].published_at)
    early, rest = by_date[:100], by_date[100:]
    ingest_in_batches(tmp_path / "late.duckdb", corpus, [*_cut(rest, 250), early])
    assert dedup_state(tmp_path / "late.duckdb") == reference[1]


def test_reprocess_gives_the_same_map(corpus, reference, tmp_path: Path) -> None:
    db = tmp_path / "reprocessed.duckdb"
    ingest_in_batches(db, corpus, _cut(list(range(len(corpus))), 300))

    def rebuild(target: Path, raws) -> None:
        documents, errors = clean_documents(raws)
        commit_batch(target, Batch(run_id="reprocess", documents=documents, errors=errors), DedupSettings(),
                     store_raw=False)  # fmt: skip

    assert reprocess(db, rebuild, page_size=128) == len(corpus)
    assert dedup_state(db) == reference[1]
