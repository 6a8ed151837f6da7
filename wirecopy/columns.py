"""A batch of documents as one Arrow table: what a worker sends and what the load stage plans and writes from.

One row per (raw, clean) document pair: the raw document's fields, the clean document's, its paragraphs and
removed segments as list columns, and, when the match step's inputs were made ahead
(`wirecopy.dedup.ahead.PARAGRAPH_FIELDS`), each paragraph's id, matching form, text hash and token count. The
writer never turns it back into one object per document or paragraph.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from wirecopy.dedup import ahead as matching
from wirecopy.models import CleanDocument, RawDocument
from wirecopy.transform import paragraph_fields

TS = pa.timestamp("us", tz="UTC")
REMOVED = pa.struct([("line_no", pa.int32()), ("text", pa.string()), ("rule", pa.string())])
DOCUMENTS = pa.schema([
    ("doc_id", pa.string()), ("source_uri", pa.string()), ("outlet", pa.string()), ("content", pa.string()),
    ("content_type", pa.string()), ("content_hash", pa.string()), ("fetched_at", TS), ("raw_title", pa.string()),
    ("raw_published_at", TS), ("url", pa.string()), ("entry_title", pa.string()), ("entry_published_at", TS),
    ("title", pa.string()), ("author", pa.string()),
    ("published_at", TS), ("clean_fetched_at", TS), ("canonical_url", pa.string()), ("language", pa.string()),
    ("paragraphs", pa.list_(pa.string())), ("removed", pa.list_(REMOVED)),
])  # fmt: skip
"""`fetched_at` is the raw document's capture time, `clean_fetched_at` the clean document's (the same when the
transform made it); `raw_title` / `raw_published_at` are what the source said, `title` / `published_at` what
cleaning kept."""
_RAW_FIELDS = {
    "source_uri": "source_uri", "outlet": "outlet", "content": "content", "content_hash": "content_hash",
    "fetched_at": "fetched_at", "raw_title": "title", "raw_published_at": "published_at", "url": "url",
    "entry_title": "entry_title", "entry_published_at": "entry_published_at",
}  # fmt: skip
_CLEAN_FIELDS = {
    "title": "title", "author": "author", "published_at": "published_at", "clean_fetched_at": "fetched_at",
    "canonical_url": "canonical_url", "language": "language", "paragraphs": "paragraphs",
}  # fmt: skip
DOCUMENTS_AHEAD = pa.schema(list(DOCUMENTS) + [pa.field(name, kind) for name, kind in matching.PARAGRAPH_FIELDS])


def documents_table(pairs: list[tuple[RawDocument, CleanDocument]], ahead: matching.Ahead | None = None) -> pa.Table:
    """The pairs as one table (`DOCUMENTS`, or `DOCUMENTS_AHEAD` with the paragraph columns of `ahead`).

    A clean document must be its raw document's: same id, source and outlet (ValueError otherwise)."""
    for raw, doc in pairs:
        if (doc.doc_id, doc.source_uri, doc.outlet) != (raw.doc_id, raw.source_uri, raw.outlet):
            raise ValueError(f"clean document {doc.doc_id} ({doc.source_uri}) is not raw document {raw.doc_id}")
    columns = {
        "doc_id": [raw.doc_id for raw, _ in pairs],
        "content_type": [raw.content_type.value for raw, _ in pairs],
        "removed": [[(s.line_no, s.text, s.rule) for s in doc.removed] for _, doc in pairs],
    }
    columns |= {column: [getattr(raw, name) for raw, _ in pairs] for column, name in _RAW_FIELDS.items()}
    columns |= {column: [getattr(doc, name) for _, doc in pairs] for column, name in _CLEAN_FIELDS.items()}
    columns = {name: columns[name] for name in DOCUMENTS.names}
    if ahead is None:
        return pa.table(columns, schema=DOCUMENTS)
    columns |= matching.paragraph_columns([doc for _, doc in pairs], ahead)
    return pa.table(columns, schema=DOCUMENTS_AHEAD)


def has_paragraph_columns(table: pa.Table) -> bool:
    """Whether the table carries the paragraph columns made ahead."""
    return all(name in table.column_names for name, _ in matching.PARAGRAPH_FIELDS)


def array(table: pa.Table, name: str) -> pa.Array:
    """One column as a single array (of the column's type, also when the table has no rows)."""
    column = table.column(name)
    return column.combine_chunks() if column.num_chunks != 1 else column.chunk(0)


PARAGRAPHS = pa.schema([
    ("paragraph_id", pa.string()), ("doc_id", pa.string()), ("position", pa.int32()), ("text", pa.string()),
    ("normalized", pa.string()), ("text_hash", pa.int64()), ("token_count", pa.int32()),
])  # fmt: skip


def paragraph_table(documents: pa.Table) -> pa.Table:
    """Every paragraph of the documents (`PARAGRAPHS`), in document then position order: the paragraph columns
    made ahead, or made here when the table has none (`transform.paragraph_fields`, the same values)."""
    lists = array(documents, "paragraphs")
    lengths = lists.value_lengths().to_numpy(zero_copy_only=False).astype(np.int64)
    starts = np.cumsum(lengths) - lengths
    positions = np.arange(int(lengths.sum()), dtype=np.int64) - np.repeat(starts, lengths)
    doc_ids = array(documents, "doc_id").take(pa.array(np.repeat(np.arange(len(lengths)), lengths)))
    texts = lists.flatten()
    if has_paragraph_columns(documents):
        fields = [array(documents, name).flatten() for name, _ in matching.PARAGRAPH_FIELDS]
    else:
        fields = paragraph_fields(doc_ids.to_pylist(), positions.tolist(), texts.to_pylist())
    ids, normalized, hashes, counts = fields
    columns = [ids, doc_ids, positions.astype(np.int32), texts, normalized, hashes, counts]
    return pa.table(dict(zip(PARAGRAPHS.names, columns, strict=True)), schema=PARAGRAPHS)
