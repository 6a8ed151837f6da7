"""The stateless stages as plain functions: batch planning by reference, stored-document skipping, the Arrow
exchange between workers and the writer, and the in-order pipeline."""

from __future__ import annotations

import itertools
import json
import random
from concurrent.futures import Future
from pathlib import Path

import numpy as np
import pytest
from wirecopy.connectors.files import SourceLimits
from wirecopy.connectors.jsonl import read_jsonl, split_lines
from wirecopy.flows.engines import in_order

from wirecopy.dedup.settings import DedupSettings
from wirecopy.models import Paragraph, source_key
from wirecopy.pipeline import (
    BatchRef,
    drop_stored,
    failed_batch,
    id_array,
    load_input,
    plan_batches,
    prepare_arrow,
    prepare_batch,
    prepared_errors,
    prepared_header,
    read_batch,
    to_arrow,
)
from wirecopy.transform import ParagraphRow, paragraphs_of

NOTHING_STORED = np.empty(0, dtype="S16")


def _jsonl(path: Path, articles: int, seed: int = 3) -> Path:
    rng = random.Random(seed)
    lines = []
    for number in range(articles):
        if number % 11 == 5:
            lines.append("")  # blank lines are skipped, and keep the numbering
        elif number % 13 == 7:
            lines.append("{not json")
        else:
            words = " ".join(f"w{rng.randrange(300)}" for _ in range(rng.randint(10, 60)))
            lines.append(json.dumps({"outlet": f"o{number % 3}", "text": f"{words}.\n[ad_1]\n{words} again."}))
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.mark.parametrize("part_bytes", [1, 300, 4096, 10**9])
@pytest.mark.parametrize("block_bytes", [7, 1000, 1 << 20])
@pytest.mark.parametrize("max_line_bytes", [200, 20 * 1024 * 1024])  # 200: the longer lines are errors
def test_line_ranges_read_exactly_the_whole_file(
    tmp_path: Path, part_bytes: int, block_bytes: int, max_line_bytes: int
) -> None:
    path = _jsonl(tmp_path / "a.jsonl", 120)
    whole = list(read_jsonl(path, outlet="x", fetched_at=None, max_line_bytes=max_line_bytes))
    assert len(whole) == 120 - 11  # every line but the blank ones: a document or an error
    ranges = split_lines(path, part_bytes, block_bytes)
    assert ranges[0].start == 0 and ranges[-1].end == path.stat().st_size
    assert all(a.end == b.start for a, b in itertools.pairwise(ranges))
    read = [
        record
        for part in ranges
        for record in read_jsonl(path, outlet="x", fetched_at=None, max_line_bytes=max_line_bytes, part=part)
    ]
    assert read == whole


def test_plan_batches_cuts_large_jsonl_and_bounds_bytes_and_files(tmp_path: Path) -> None:
    big = _jsonl(tmp_path / "big.jsonl", 200)
    small = [tmp_path / f"s{i}.txt" for i in range(5)]
    for path in small:
        path.write_text("A body line long enough to be a paragraph of its own.\n", encoding="utf-8")
    planned = [(path, tmp_path) for path in [*small[:2], big, *small[2:]]]
    refs = plan_batches(planned, batch_bytes=5_000, batch_files=2)
    assert [ref.number for ref in refs] == list(range(len(refs)))
    assert all(len(ref.parts) <= 2 for ref in refs)
    assert all(sum(p.size for p in ref.parts) <= 5_000 or len(ref.parts) == 1 for ref in refs)
    cut = [p for ref in refs for p in ref.parts if p.path == str(big)]
    assert len(cut) > 3 and all(p.end is not None for p in cut)
    assert [p.path for ref in refs for p in ref.parts if p.path != str(big)] == [str(p) for p in small]
    # the batches read what the files hold, in order
    limits = SourceLimits()
    by_batch = [item for ref in refs for kind in read_batch(ref, limits) for item in kind if item.source_uri]
    assert sum(1 for item in by_batch if "#L" in item.source_uri) == 200 - len(range(5, 200, 11))
    assert BatchRef.model_validate_json(refs[1].model_dump_json()) == refs[1]  # a reference is a few paths


def test_only_an_input_larger_than_a_batch_starts_with_smaller_batches(tmp_path: Path) -> None:
    path = _jsonl(tmp_path / "a.jsonl", 200)
    size = path.stat().st_size
    assert len(plan_batches([(path, None)], batch_bytes=size, batch_files=100)) == 1
    ramped = plan_batches([(path, None)], batch_bytes=size - 1, batch_files=100)
    sizes = [sum(part.size for part in ref.parts) for ref in ramped]
    # about 1/8, 1/4 and 1/2 of a batch (files are cut at line ends), then the rest
    assert len(sizes) >= 4 and sizes[0] < size // 4 and sizes[1] < size // 4 < sizes[2] < size // 2


def test_stored_documents_are_dropped_by_source_key_before_cleaning(tmp_path: Path) -> None:
    """The stored ids hold each stored document's id and the keys of the places it was read from: what was read
    from the same place is dropped; the same document met at a new place goes on, for the writer to record it."""
    path = _jsonl(tmp_path / "a.jsonl", 60)
    ref = plan_batches([(path, None)], batch_bytes=10**9, batch_files=10)[0]
    first = prepare_batch(ref, NOTHING_STORED, SourceLimits())
    assert first.skipped == 0 and len(first.documents) > 40
    half = [raw.source_key for raw, _ in first.documents[::2]]
    again = prepare_batch(ref, id_array(half), SourceLimits())
    assert again.skipped == len(half)
    assert [raw.doc_id for raw, _ in again.documents] == [raw.doc_id for raw, _ in first.documents[1::2]]
    assert again.errors == first.errors  # the bad lines are reported again: they were never stored
    raws = [raw for raw, _ in first.documents]
    assert drop_stored(raws, NOTHING_STORED) == (raws, 0)
    assert drop_stored(raws, id_array([r.source_key for r in raws])) == ([], len(raws))
    assert drop_stored(raws, id_array([r.doc_id for r in raws])) == (raws, 0)  # stored, but read from elsewhere
    recorded = {str(tmp_path): str(tmp_path / "inbox")}  # read from a claim, recorded where it was dropped
    at_drop = id_array([source_key(str(tmp_path / "inbox" / "a.jsonl") + r.source_uri[len(str(path)) :],
                                   r.content_hash) for r in raws])  # fmt: skip
    assert drop_stored(raws, at_drop) == (raws, 0)
    assert drop_stored(raws, at_drop, recorded) == ([], len(raws))


def test_arrow_exchange_sends_the_documents_table_of_the_records(tmp_path: Path, seeds_dir: Path) -> None:
    from wirecopy.connectors.sources import plan_files

    from wirecopy.columns import DOCUMENTS, documents_table

    planned, _ = plan_files([str(seeds_dir), str(_jsonl(tmp_path / "a.jsonl", 40))])
    ref = plan_batches(planned, batch_bytes=10**9, batch_files=100)[0]
    prepared = prepare_batch(ref, NOTHING_STORED, SourceLimits())
    data = to_arrow(prepared)
    assert set(data) == {"documents", "errors", "header"} and all(isinstance(v, bytes) for v in data.values())
    back = load_input(data, DedupSettings())
    # raw and clean documents, removed segments, dates with their zones: the table the records make
    assert back.table.equals(documents_table(prepared.documents)) and back.table.schema == DOCUMENTS
    assert back.table.column("published_at").to_pylist() == [doc.published_at for _, doc in prepared.documents]
    assert back.errors == prepared.errors and prepared_errors(data) == prepared.errors
    assert back.sketches is None  # nothing made ahead: the writer makes it
    assert prepared_header(data)["documents"] == len(prepared.documents) == back.table.num_rows
    assert load_input(prepare_arrow(ref, NOTHING_STORED, 20_000_000), DedupSettings()).table.equals(back.table)


def test_paragraph_table_from_columns_made_ahead_equals_the_one_made_by_the_writer(seed_documents) -> None:
    from wirecopy.columns import documents_table, paragraph_table
    from wirecopy.dedup.ahead import make_ahead

    ahead = make_ahead([doc for _, doc in seed_documents], DedupSettings())
    made_ahead = paragraph_table(documents_table(seed_documents, ahead))
    made_here = paragraph_table(documents_table(seed_documents))
    assert made_ahead.equals(made_here) and made_here.num_rows == sum(len(d.paragraphs) for _, d in seed_documents)
    rows = paragraphs_of([doc for _, doc in seed_documents])
    assert made_here.to_pylist() == [row.model_dump() for row in rows]


def test_a_clean_document_must_be_its_raw_documents(seed_documents) -> None:
    from wirecopy.columns import documents_table

    (raw, doc), (other, _) = seed_documents[:2]
    with pytest.raises(ValueError, match="is not raw document"):
        documents_table([(other, doc)])
    assert documents_table([(raw, doc)]).num_rows == 1


def test_a_failed_batch_is_one_error_per_part(tmp_path: Path) -> None:
    path = _jsonl(tmp_path / "a.jsonl", 100)
    ref = plan_batches([(path, None)], batch_bytes=2_000, batch_files=10)[1]
    failed = failed_batch(ref, MemoryError("worker killed"))
    assert len(failed.errors) == len(ref.parts)
    assert all(e.stage == "prepare" and "worker killed" in e.reason and "#L" in e.source_uri for e in failed.errors)


def test_in_order_yields_in_submission_order_and_bounds_what_is_in_flight() -> None:
    submitted: list[int] = []
    futures: dict[int, Future] = {}

    def submit(item: int) -> Future:
        submitted.append(item)
        futures[item] = Future()
        return futures[item]

    seen = []
    for item, future in in_order(submit, range(10), depth=3):
        assert len(submitted) - len(seen) <= 4  # the one handed out plus at most `depth` ahead
        future.set_result(item * 2)
        seen.append(future.result())
        if item < 7:
            assert len(submitted) == item + 4  # the next one was submitted before this one was handed out
    assert seen == [i * 2 for i in range(10)] and submitted == list(range(10))
    with pytest.raises(ValueError):
        next(in_order(submit, [1], depth=0))


def test_paragraph_rows_hold_what_a_paragraph_model_holds() -> None:
    from wirecopy.models import CleanDocument

    doc = CleanDocument(doc_id="d", source_uri="u", outlet="o", paragraphs=["Hello,  World!", "قال الوزير"])
    rows = paragraphs_of([doc])
    assert set(ParagraphRow.__slots__) == set(Paragraph.model_fields)
    assert [Paragraph(**row.model_dump()).model_dump() for row in rows] == [row.model_dump() for row in rows]
    assert "normalized" not in rows[0].model_dump(exclude={"normalized"})
    assert rows[0].normalized == "hello world" and rows[1].token_count == 2
