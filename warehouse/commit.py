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
from wirecopy.warehouse import process_memory, sql
from wirecopy.warehouse.db import session, transaction, writer_lock
from wirecopy.warehouse.index import DuckDBIndex, open_lsh_store, query_with_ids
from wirecopy.warehouse.lsh_store import SketchRows

from wirecopy.dedup.ahead import Ahead
from wirecopy.dedup.engine import DedupPlan, KeepKey, NewTexts, ParagraphRef
from wirecopy.dedup.match import match_batch
from wirecopy.dedup.settings import DedupSettings
from wirecopy.models import CleanDocument, IngestError, Paragraph, RawDocument, content_hash
from wirecopy.transform import ParagraphRow, paragraphs_of


@dataclass
class Batch:
    run_id: str
    documents: list[tuple[RawDocument, CleanDocument]] = field(default_factory=list)
    errors: list[IngestError] = field(default_factory=list)
    ahead: Ahead | None = None  # paragraph rows and sketches of the documents, made in a worker (same settings)


@dataclass
class CommitResult:
    documents_new: int = 0
    documents_seen: int = 0
    paragraphs_new: int = 0
    boilerplate_removed: int = 0
    links: dict[str, int] = field(default_factory=dict)

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
    with writer_lock(db, wait_seconds=wait_seconds):
        if not db.exists():
            with session(db, read_only=False, wait_seconds=wait_seconds):
                pass  # creates the file and applies migrations
        with session(db, read_only=True, wait_seconds=wait_seconds, memory_limit=memory_limit) as con:
            index = DuckDBIndex(con, open_lsh_store(db, con, settings))
            known = index.known_documents((raw.doc_id for raw, _ in batch.documents), cleaned=not store_raw)
            fresh = _unique_new(batch.documents, known)
            result.documents_seen = len(batch.documents) - len(fresh)
            paragraphs = _paragraph_rows(fresh, batch.ahead)
            made = batch.ahead.sketches if batch.ahead is not None else None
            plan = match_batch(*_engine_input(fresh, paragraphs), index, settings, made)  # the dedup decisions
            del made
            if compact is None:
                compact = merges_row_groups(commits_since_merge(con))
        result.documents_new = len(fresh)
        result.paragraphs_new = len(paragraphs)
        result.boilerplate_removed = sum(len(doc.removed) for _, doc in fresh)
        result.links = plan.counts()
        with session(
            db, read_only=False, wait_seconds=wait_seconds, memory_limit=write_memory_limit or memory_limit,
            merge_row_groups=compact, checkpoint_at_close=True,
        ) as con:  # fmt: skip
            _write(con, batch, fresh if store_raw else [], fresh, paragraphs, plan, merges=compact)
            sketches = _sketch_rows(plan.new_texts)
            del plan, paragraphs, fresh  # DuckDB's checkpoint at close, the write's memory peak, runs without them
            process_memory.return_free_heap()
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


def _unique_new(documents, known: set[str]) -> list[tuple[RawDocument, CleanDocument]]:
    seen = set(known)
    fresh = []
    for raw, doc in sorted(documents, key=lambda pair: pair[0].doc_id):
        if raw.doc_id not in seen:
            seen.add(raw.doc_id)
            fresh.append((raw, doc))
    return fresh


def _paragraph_rows(fresh, ahead: Ahead | None) -> list[ParagraphRow]:
    """The fresh documents' paragraph rows: made ahead by a worker, or here."""
    if ahead is None:
        return paragraphs_of([doc for _, doc in fresh])
    return [row for _, doc in fresh for row in ahead.paragraphs[doc.doc_id]]


def _engine_input(fresh, paragraphs: list[Paragraph]):
    docs = {doc.doc_id: doc for _, doc in fresh}
    refs, normalized = [], {}
    for p in paragraphs:
        doc = docs[p.doc_id]
        h = p.text_hash
        normalized[h] = p.normalized
        refs.append(ParagraphRef(p.paragraph_id, h, KeepKey.of(doc.published_at, doc.fetched_at, p.doc_id, p.position)))
    return refs, normalized


def _insert(con: duckdb.DuckDBPyConnection, table: str, rows: list[dict], schema: pa.Schema, ignore=False):
    if rows:
        _insert_arrow(con, table, pa.Table.from_pylist(rows, schema=schema), ignore=ignore)


def _insert_arrow(con: duckdb.DuckDBPyConnection, table: str, data: pa.Table, ignore=False):
    con.register("batch", data)
    try:
        con.execute((sql.INSERT_IGNORE if ignore else sql.INSERT).format(table=table))
    finally:
        con.unregister("batch")


def _write(con, batch: Batch, raws, fresh, paragraphs: list[Paragraph], plan: DedupPlan, merges: bool) -> None:
    now = datetime.now(UTC)
    run = batch.run_id
    with transaction(con):
        _insert_arrow(con, "raw_documents", _raw_table(raws, run, now))
        _insert_arrow(con, "documents", _doc_table(fresh, run))
        _insert_arrow(con, "paragraphs", _paragraph_table(paragraphs, run))
        removed = [(doc.doc_id, s) for _, doc in fresh for s in doc.removed]
        _insert_columns(con, "removed_segments", REMOVED_SCHEMA, {
            "doc_id": [doc_id for doc_id, _ in removed], "line_no": [s.line_no for _, s in removed],
            "text": [s.text for _, s in removed], "rule": [s.rule for _, s in removed], "run_id": [run] * len(removed),
        })  # fmt: skip
        _insert(con, "ingest_errors", [_error_row(e, run, now) for e in batch.errors], ERROR_SCHEMA, ignore=True)
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


def _raw_table(raws, run: str, now: datetime) -> pa.Table:
    names = [name for name in RAW_SCHEMA.names if name not in ("doc_id", "content_type", "run_id", "ingested_at")]
    columns = {name: [getattr(raw, name) for raw, _ in raws] for name in names}
    columns |= {
        "doc_id": [raw.doc_id for raw, _ in raws], "content_type": [raw.content_type.value for raw, _ in raws],
        "run_id": [run] * len(raws), "ingested_at": [now] * len(raws),
    }  # fmt: skip
    return pa.table({name: columns[name] for name in RAW_SCHEMA.names}, schema=RAW_SCHEMA)


def _doc_table(fresh, run: str) -> pa.Table:
    names = [name for name in DOC_SCHEMA.names if name not in ("paragraph_count", "run_id")]
    columns = {name: [getattr(doc, name) for _, doc in fresh] for name in names}
    columns |= {"paragraph_count": [len(doc.paragraphs) for _, doc in fresh], "run_id": [run] * len(fresh)}
    return pa.table({name: columns[name] for name in DOC_SCHEMA.names}, schema=DOC_SCHEMA)


def _paragraph_table(paragraphs, run: str) -> pa.Table:
    columns = {name: [getattr(p, name) for p in paragraphs] for name in PARAGRAPH_SCHEMA.names if name != "run_id"}
    return pa.table(columns | {"run_id": [run] * len(paragraphs)}, schema=PARAGRAPH_SCHEMA)


TS = pa.timestamp("us", tz="UTC")
RAW_SCHEMA = pa.schema([
    ("doc_id", pa.string()), ("source_uri", pa.string()), ("outlet", pa.string()),
    ("content_type", pa.string()), ("content_hash", pa.string()), ("content", pa.string()),
    ("fetched_at", TS), ("title", pa.string()), ("published_at", TS), ("url", pa.string()),
    ("run_id", pa.string()), ("ingested_at", TS),
])  # fmt: skip
DOC_SCHEMA = pa.schema([
    ("doc_id", pa.string()), ("source_uri", pa.string()), ("outlet", pa.string()), ("title", pa.string()),
    ("author", pa.string()), ("published_at", TS), ("fetched_at", TS), ("canonical_url", pa.string()),
    ("language", pa.string()), ("paragraph_count", pa.int32()), ("run_id", pa.string()),
])  # fmt: skip
PARAGRAPH_SCHEMA = pa.schema([
    ("paragraph_id", pa.string()), ("doc_id", pa.string()), ("position", pa.int32()), ("text", pa.string()),
    ("text_hash", pa.int64()), ("token_count", pa.int32()), ("run_id", pa.string()),
])  # fmt: skip
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
    )


def _edge_row(e, run: str) -> dict:
    return {
        "text_a": min(e.a, e.b), "text_b": max(e.a, e.b), "method": e.method.value, "similarity": e.similarity,
        "jaccard": e.jaccard, "containment": e.containment, "run_id": run,
    }  # fmt: skip
