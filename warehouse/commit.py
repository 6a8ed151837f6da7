"""Load stage: one batch of documents into the warehouse, deduplicated against everything stored.

The warehouse provides the index lookups (`warehouse.index.DuckDBIndex`) and the commit; the dedup decisions are
made by the dedup engine's match step (`wirecopy.dedup.match.match_batch`), called here under the writer lock so
that it sees exactly the state the batch is committed on.

Concurrency contract: the whole read-plan-write cycle runs under the cross-process writer lock; the
plan is computed on a read-only connection, and the read-write connection is held only for the single
transaction that writes the batch. Readers therefore never see half a batch and wait at most for that
one transaction. The LSH store beside the file (`warehouse/lsh_store.py`) is read during the plan and
extended after the commit, still under the writer lock.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa
from wirecopy.warehouse import sql
from wirecopy.warehouse.db import session, transaction, writer_lock
from wirecopy.warehouse.index import DuckDBIndex, open_lsh_store, query_with_ids
from wirecopy.warehouse.lsh_store import SketchRows

from wirecopy import process_memory
from wirecopy.cleaning.learned import body_hash
from wirecopy.columns import PARAGRAPHS, TS, array, documents_table, paragraph_table
from wirecopy.dedup.engine import DedupPlan, KeepKey, NewTexts, ParagraphColumns
from wirecopy.dedup.match import match_batch
from wirecopy.dedup.settings import DedupSettings
from wirecopy.models import CleanDocument, DedupMethod, IngestError, RawDocument, content_hash, source_key


@dataclass
class Batch:
    """One batch to commit: its documents as (raw, clean) pairs, or as one table (`wirecopy.columns`: what a
    worker sends, planned and written without an object per document), and its errors. `sketches`: the match
    step's sketches of the table's texts, made ahead under the same dedup settings (with its paragraph columns)."""

    run_id: str
    documents: list[tuple[RawDocument, CleanDocument]] = field(default_factory=list)
    errors: list[IngestError] = field(default_factory=list)
    table: pa.Table | None = None
    sketches: NewTexts | None = None


@dataclass
class CommitResult:
    documents_new: int = 0
    documents_seen: int = 0
    paragraphs_new: int = 0
    boilerplate_removed: int = 0
    links: dict[str, int] = field(default_factory=lambda: {method.value: 0 for method in DedupMethod})

    def absorb(self, other: CommitResult) -> None:
        """Add another batch's counts to these (one run loads several batches)."""
        self.documents_new += other.documents_new
        self.documents_seen += other.documents_seen
        self.paragraphs_new += other.paragraphs_new
        self.boilerplate_removed += other.boilerplate_removed
        for method, count in other.links.items():
            self.links[method] = self.links.get(method, 0) + count


COMPACT_EVERY_BATCHES = 16
"""Every 16th commit to a warehouse merges DuckDB's small row groups (the commits in between only append).

Measured at a million paragraphs in 10,000-paragraph commits (bench/dedup.py): each small row group left at
a table's end costs every later commit ≈ 3 ms (40 of them: +0.10 s a commit), while a merge also rewrites the
one or two nearly full row groups before the small ones (DuckDB merges any run of row groups that fits in
fewer), up to 32,000 raw documents: 3–10 s for a merge every 16 commits, 14–16 s every 64."""


def merges_row_groups(commits_since_merge: int) -> bool:
    """Whether the next commit merges DuckDB's small row groups, given the commits since the last one that did."""
    return commits_since_merge + 1 >= COMPACT_EVERY_BATCHES


INGEST_MEMORY_LIMIT = "48MB"
"""DuckDB buffer pool of an ingest's connections: a batch needs little, and the pool would otherwise grow with
the file (and a merge of row groups fills whatever pool it has). 48 MB holds a batch of `batch_bytes` (16 MB
of text or HTML, tested); 32 MB ran out of pinned memory in a checkpoint (bench/dedup.py at 960,000
paragraphs), and 64 MB did with a 100 MB batch of HTML."""


def commit_batch(
    db: Path,
    batch: Batch,
    settings: DedupSettings,
    *,
    wait_seconds: float = 300.0,
    store_raw: bool = True,
    memory_limit: str = INGEST_MEMORY_LIMIT,
    write_memory_limit: str | None = None,
    compact: bool | None = None,
) -> CommitResult:
    """Plan dedup for the batch's new documents and write everything in one transaction.

    `store_raw=False` is the reprocess path: raw documents are already stored, only derived rows are written.
    `write_memory_limit` (default: `memory_limit`) is the writing connection's pool.
    DuckDB (≥ 1.4) writes each commit as new row groups and, by default, merges small ones at every checkpoint,
    rewriting the table's tail again and again (0.1–0.4 s per merging commit). Here only every
    `COMPACT_EVERY_BATCHES`-th commit to the warehouse merges (counted in `row_group_merges`, across runs);
    `compact=True` or `False` overrides that for this commit.
    The COMMIT writes the WAL; DuckDB's checkpoint (writing and merging row groups) runs when the connection
    closes, once the batch's objects are dropped; the LSH store is extended after that.
    """
    result = CommitResult()
    documents = batch.table if batch.table is not None else documents_table(batch.documents)
    with writer_lock(db, wait_seconds=wait_seconds):
        if not db.exists():
            with session(db, read_only=False, wait_seconds=wait_seconds):
                pass  # creates the file and applies migrations
        with session(db, read_only=True, wait_seconds=wait_seconds, memory_limit=memory_limit) as con:
            index = DuckDBIndex(con, open_lsh_store(db, con, settings))
            known = index.known_documents(array(documents, "doc_id").to_pylist(), cleaned=not store_raw)
            kept = _unique_new(documents, known)
            fresh = documents.take(pa.array(kept, pa.int64()))
            result.documents_seen = documents.num_rows - fresh.num_rows
            places = _places_seen(documents, kept, batch.run_id) if store_raw else None
            paragraphs = paragraph_table(fresh)
            plan = match_batch(  # the decisions
                *_engine_input(fresh, paragraphs, batch.sketches is not None), index, settings, batch.sketches
            )
            if compact is None:
                compact = merges_row_groups(commits_since_merge(con))
        result.documents_new = fresh.num_rows
        result.paragraphs_new = paragraphs.num_rows
        result.boilerplate_removed = len(array(fresh, "removed").flatten())
        result.links = plan.counts()
        with session(
            db, read_only=False, wait_seconds=wait_seconds, memory_limit=write_memory_limit or memory_limit,
            merge_row_groups=compact, checkpoint_at_close=True,
        ) as con:  # fmt: skip
            _write(con, batch, fresh, paragraphs, plan, merges=compact, store_raw=store_raw, places=places)
            sketches = _sketch_rows(plan.new_texts)
            del plan, paragraphs, fresh, documents  # DuckDB's checkpoint at close, the write's memory peak, runs
            process_memory.return_free_heap()  # without them
        if sketches is not None:  # after the commit: a crash before this append only costs a rebuild of the store
            index.lsh.append(sketches)
    return result


def commits_since_merge(con: duckdb.DuckDBPyConnection) -> int:
    """Commits since the last merge of row groups; 0 for a warehouse created before migration 005 (its write
    session, which applies the migration, is next)."""
    try:
        return con.execute(sql.COMMITS_SINCE_MERGE).fetchone()[0]
    except duckdb.CatalogException:
        return 0


def _unique_new(documents: pa.Table, known: set[str]) -> list[int]:
    """The rows of the documents not stored yet, each id once (its first row), in id order."""
    ids = array(documents, "doc_id").to_pylist()
    seen, keep = set(known), []
    for row in sorted(range(len(ids)), key=ids.__getitem__):
        if ids[row] not in seen:
            seen.add(ids[row])
            keep.append(row)
    return keep


def _places_seen(documents: pa.Table, kept: list[int], run: str) -> pa.Table | None:
    """The places (path or URL) the batch met stored documents, or documents of its own, again: a row for each
    source key that is not the key of a document stored now (`document_sources`); None when there is none.
    `kept`: the rows stored now (`_unique_new`); only the other rows' keys are computed."""
    columns = [array(documents, name).to_pylist() for name in ("doc_id", "source_uri", "content_hash")]
    places = list(zip(*columns, strict=True))
    stored_now = {places[row][1:] for row in kept}
    rows = {}
    for row in sorted(set(range(len(places))).difference(kept)):
        doc_id, uri, content = places[row]
        if (uri, content) not in stored_now:
            rows.setdefault(source_key(uri, content), (doc_id, uri))
    if not rows:
        return None
    return pa.table({
        "source_key": list(rows), "doc_id": [doc_id for doc_id, _ in rows.values()],
        "source_uri": [uri for _, uri in rows.values()], "run_id": [run] * len(rows),
    })  # fmt: skip


def _engine_input(
    fresh: pa.Table, paragraphs: pa.Table, sketched: bool
) -> tuple[ParagraphColumns, dict[int, str] | None]:
    """The match step's view of the paragraphs: ids, text hashes and what makes their keep-rule keys; and text hash
    → matching form, unless the batch's texts were `sketched` ahead (the sketches carry the forms it needs)."""
    documents = zip(array(fresh, "doc_id").to_pylist(), *(_epoch_us(fresh, name) for name in ("published_at",
                    "clean_fetched_at")), strict=True)  # fmt: skip
    # the key without its last field, the position, once per document
    heads = [KeepKey.of(published, fetched, doc_id, 0)[:-1] for doc_id, published, fetched in documents]
    lengths = array(fresh, "paragraphs").value_lengths().to_numpy(zero_copy_only=False).astype(np.int64)
    hashes = array(paragraphs, "text_hash").to_numpy().astype(np.int64)
    columns = ParagraphColumns(
        ids=array(paragraphs, "paragraph_id").to_pylist(),
        hashes=hashes,
        documents=np.repeat(np.arange(len(heads), dtype=np.int64), lengths),  # paragraphs in document order
        positions=array(paragraphs, "position").to_numpy().astype(np.int64),
        heads=heads,
    )
    if sketched:
        return columns, None
    return columns, dict(zip(hashes.tolist(), array(paragraphs, "normalized").to_pylist(), strict=True))


def _epoch_us(table: pa.Table, name: str) -> list[int | None]:
    """A timestamp column as microseconds since 1970 (what `KeepKey` holds), None where null."""
    return array(table, name).cast(TS).cast(pa.int64()).to_pylist()


def _insert(con: duckdb.DuckDBPyConnection, table: str, rows: list[dict], schema: pa.Schema, ignore=False):
    if rows:
        _insert_arrow(con, table, pa.Table.from_pylist(rows, schema=schema), ignore=ignore)


def _insert_arrow(con: duckdb.DuckDBPyConnection, table: str, data: pa.Table, ignore=False):
    con.register("batch", data)
    try:
        con.execute((sql.INSERT_IGNORE if ignore else sql.INSERT).format(table=table))
    finally:
        con.unregister("batch")


def _write(con, batch: Batch, fresh: pa.Table, paragraphs: pa.Table, plan: DedupPlan, merges: bool,
           store_raw: bool, places: pa.Table | None = None) -> None:  # fmt: skip
    now = datetime.now(UTC)
    run = batch.run_id
    with transaction(con):
        if store_raw:
            _insert_arrow(con, "raw_documents", _raw_table(fresh, run, now))
        if places is not None:  # a place already recorded keeps its first row
            _insert_arrow(con, "document_sources", places, ignore=True)
        _insert_arrow(con, "documents", _doc_table(fresh, paragraphs, run))
        _insert_arrow(con, "paragraphs", _with_run(paragraphs.drop_columns(["normalized"]), run, PARAGRAPH_SCHEMA))
        _insert_arrow(con, "removed_segments", _removed_table(fresh, run))
        error_rows = [_error_row(e, run, now) for e in batch.errors]
        _insert(con, "ingest_errors", error_rows, ERROR_SCHEMA, ignore=True)  # a failure met before: its first row
        _insert(con, "run_errors", [{"run_id": run, "error_id": row["error_id"]} for row in error_rows],
                RUN_ERROR_SCHEMA, ignore=True)  # fmt: skip
        if plan.new_texts is not None and len(plan.new_texts):
            _insert_arrow(con, "dedup_texts", _texts_table(plan.new_texts, run))
        _insert(con, "dedup_edges", [_edge_row(e, run) for e in plan.new_edges], EDGE_SCHEMA)
        conflicts = [dict(zip(("text_a", "text_b"), c.pair, strict=True)) | {"kind": c.kind, "run_id": run}
                     for c in plan.new_conflicts]  # fmt: skip
        _insert(con, "dedup_conflicts", conflicts, CONFLICT_SCHEMA)
        query_with_ids(con, sql.DELETE_LINKS, plan.reassigned, pa.string())
        links = plan.links
        _insert_columns(con, "duplicate_links", LINK_SCHEMA, {
            "paragraph_id": [k.paragraph_id for k in links], "canonical_id": [k.canonical_id for k in links],
            "cluster_id": [k.cluster_id for k in links], "method": [k.method.value for k in links],
            "similarity": [k.similarity for k in links], "run_id": [run] * len(links),
        })  # fmt: skip
        query_with_ids(con, sql.RECORD_PENDING_TEXTS, plan.relinked_texts, pa.int64())  # learned boilerplate
        con.execute(sql.RECORD_COMMIT, {"merged": merges})


def _insert_columns(con: duckdb.DuckDBPyConnection, table: str, schema: pa.Schema, columns: dict[str, list]):
    """Insert rows given column by column (no dict per row: 3-5× cheaper than `pa.Table.from_pylist`)."""
    if columns[schema.names[0]]:
        _insert_arrow(con, table, pa.table(columns, schema=schema))


def _with_run(table: pa.Table, run: str, schema: pa.Schema) -> pa.Table:
    """The table with its run id column, in the schema's column order and types."""
    table = table.append_column("run_id", pa.array([run] * table.num_rows, pa.string()))
    return table.select(schema.names).cast(schema)


def _raw_table(fresh: pa.Table, run: str, now: datetime) -> pa.Table:
    raw = fresh.select(["doc_id", "source_uri", "outlet", "content_type", "content_hash", "content", "fetched_at",
                        "raw_title", "raw_published_at", "url", "entry_title", "entry_published_at"])  # fmt: skip
    raw = raw.rename_columns({"raw_title": "title", "raw_published_at": "published_at"})
    raw = raw.append_column("ingested_at", pa.array([now] * raw.num_rows, TS))
    return _with_run(raw, run, RAW_SCHEMA)


def _doc_table(fresh: pa.Table, paragraphs: pa.Table, run: str) -> pa.Table:
    docs = fresh.select(["doc_id", "source_uri", "outlet", "title", "author", "published_at", "clean_fetched_at",
                         "canonical_url", "language"]).rename_columns({"clean_fetched_at": "fetched_at"})  # fmt: skip
    lengths = array(fresh, "paragraphs").value_lengths()
    docs = docs.append_column("paragraph_count", lengths.cast(pa.int32()))
    docs = docs.append_column("body_hash", pa.array(body_hashes(paragraphs, lengths), pa.string()))
    return _with_run(docs, run, DOC_SCHEMA)


def body_hashes(paragraphs: pa.Table, lengths: pa.Array) -> list[str]:
    """Each document's `learned.body_hash` (migration 012 computes the same in SQL for the documents stored before
    it). `paragraphs` are in document order, `lengths` their count per document."""
    hashes = array(paragraphs, "text_hash").to_pylist()
    ends = np.cumsum(lengths.to_numpy(zero_copy_only=False)).tolist()
    return [body_hash(hashes[start:end]) for start, end in zip([0, *ends][:-1], ends, strict=True)]


def _removed_table(fresh: pa.Table, run: str) -> pa.Table:
    lists = array(fresh, "removed")
    lengths = lists.value_lengths().to_numpy(zero_copy_only=False).astype(np.int64)
    doc_ids = array(fresh, "doc_id").take(pa.array(np.repeat(np.arange(len(lengths)), lengths)))
    segments = lists.flatten()
    removed = pa.table({
        "doc_id": doc_ids, "line_no": segments.field("line_no"), "text": segments.field("text"),
        "rule": segments.field("rule"),
    })  # fmt: skip
    return _with_run(removed, run, REMOVED_SCHEMA)


RAW_SCHEMA = pa.schema([
    ("doc_id", pa.string()), ("source_uri", pa.string()), ("outlet", pa.string()),
    ("content_type", pa.string()), ("content_hash", pa.string()), ("content", pa.string()),
    ("fetched_at", TS), ("title", pa.string()), ("published_at", TS), ("url", pa.string()),
    ("entry_title", pa.string()), ("entry_published_at", TS), ("run_id", pa.string()), ("ingested_at", TS),
])  # fmt: skip
DOC_SCHEMA = pa.schema([
    ("doc_id", pa.string()), ("source_uri", pa.string()), ("outlet", pa.string()), ("title", pa.string()),
    ("author", pa.string()), ("published_at", TS), ("fetched_at", TS), ("canonical_url", pa.string()),
    ("language", pa.string()), ("paragraph_count", pa.int32()), ("body_hash", pa.string()), ("run_id", pa.string()),
])  # fmt: skip
PARAGRAPH_SCHEMA = pa.schema([f for f in PARAGRAPHS if f.name != "normalized"] + [pa.field("run_id", pa.string())])
REMOVED_SCHEMA = pa.schema([
    ("doc_id", pa.string()), ("line_no", pa.int32()), ("text", pa.string()), ("rule", pa.string()),
    ("run_id", pa.string()),
])  # fmt: skip
ERROR_SCHEMA = pa.schema([
    ("error_id", pa.string()), ("run_id", pa.string()), ("source_uri", pa.string()), ("stage", pa.string()),
    ("reason", pa.string()), ("occurred_at", TS),
])  # fmt: skip
EDGE_SCHEMA = pa.schema([
    ("text_a", pa.int64()), ("text_b", pa.int64()), ("method", pa.string()), ("similarity", pa.float64()),
    ("jaccard", pa.float64()), ("containment", pa.float64()), ("run_id", pa.string()),
])  # fmt: skip
RUN_ERROR_SCHEMA = pa.schema([("run_id", pa.string()), ("error_id", pa.string())])
CONFLICT_SCHEMA = pa.schema([
    ("text_a", pa.int64()), ("text_b", pa.int64()), ("kind", pa.string()), ("run_id", pa.string()),
])  # fmt: skip
LINK_SCHEMA = pa.schema([
    ("paragraph_id", pa.string()), ("canonical_id", pa.string()), ("cluster_id", pa.string()),
    ("method", pa.string()), ("similarity", pa.float64()), ("run_id", pa.string()),
])  # fmt: skip


def _error_row(error: IngestError, run: str, now: datetime) -> dict:
    error_id = content_hash(f"{error.source_uri}\x00{error.stage}\x00{error.reason}")
    return error.model_dump() | {"error_id": error_id, "run_id": run, "occurred_at": now}


def _texts_table(texts: NewTexts, run: str) -> pa.Table:
    n_perm = texts.signatures.shape[1]
    offsets = np.zeros(len(texts) + 1, dtype=np.int32)
    np.cumsum(np.where(texts.eligible, n_perm, 0), out=offsets[1:])
    signature = pa.ListArray.from_arrays(
        pa.array(offsets), pa.array(texts.signatures.ravel()), mask=pa.array(~texts.eligible)
    )
    return pa.table({
        "text_hash": texts.hashes, "normalized": texts.normalized, "token_count": texts.token_counts,
        "shingle_count": texts.shingle_counts, "signature": signature, "run_id": [run] * len(texts),
    })  # fmt: skip


def _sketch_rows(texts: NewTexts | None) -> SketchRows | None:
    """What the LSH store keeps of the batch's new texts: those with a signature."""
    if texts is None:
        return None
    eligible = texts.eligible
    return SketchRows(
        hashes=texts.hashes[eligible],
        band_keys=texts.bands,
        signatures=texts.signatures,
        sizes=texts.shingle_counts[eligible],
        normalized=[text for text, keep in zip(texts.normalized, eligible.tolist(), strict=True) if keep],
        shingles=texts.shingles.hashes,
        band_order=texts.band_order,
    )


def _edge_row(e, run: str) -> dict:
    return {
        "text_a": min(e.a, e.b), "text_b": max(e.a, e.b), "method": e.method.value, "similarity": e.similarity,
        "jaccard": e.jaccard, "containment": e.containment, "run_id": run,
    }  # fmt: skip
