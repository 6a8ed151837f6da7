"""The dedup engine's view of the warehouse: `DedupIndex` on a DuckDB connection plus the LSH store beside it."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa
from wirecopy.warehouse import sql
from wirecopy.warehouse.db import WarehouseBusy, session
from wirecopy.warehouse.lsh_store import Coverage, LshStore, SketchRows, rebuild, store_directory

from wirecopy.dedup import arrays
from wirecopy.dedup.engine import KeepKey, ParagraphRef, shingle_texts
from wirecopy.dedup.minhash import band_keys, signatures
from wirecopy.dedup.settings import DedupSettings
from wirecopy.dedup.shingles import ShingleBatch, distinct
from wirecopy.dedup.verify import Edge
from wirecopy.models import DedupMethod


def query_with_ids(con: duckdb.DuckDBPyConnection, statement: str, ids: Iterable, dtype, **params):
    """Run `statement` with the ids registered as Arrow table `ids(id)`; returns an Arrow table."""
    if isinstance(ids, np.ndarray):
        column = pa.array(arrays.unique(ids), type=dtype)
    else:
        column = pa.array(list(dict.fromkeys(ids)), type=dtype)
    con.register("ids", pa.table({"id": column}))
    try:
        return con.execute(statement, params or None).to_arrow_table()
    finally:
        con.unregister("ids")


REBUILD_CHUNK_ROWS = 50_000
"""Stored texts read at a time when the LSH store is rebuilt (≈ 30 MB of signatures and texts)."""


def open_lsh_store(db: Path, con: duckdb.DuckDBPyConnection, settings: DedupSettings) -> LshStore:
    """The LSH store of warehouse `db`, rebuilt from `dedup_texts` unless it covers exactly the texts stored
    with a signature, under the configured shingle, permutations, seed, bands and rows. Call under the writer
    lock."""
    texts, xor = con.execute(sql.SIGNED_TEXTS).fetchone()
    expected = Coverage(
        shingle=settings.shingle, num_perm=settings.num_perm, seed=settings.seed, bands=settings.bands,
        rows=settings.rows, texts=texts, xor=xor,
    )  # fmt: skip
    store = LshStore.load(store_directory(db))
    if store is not None and store.coverage == expected:
        return store
    check_sketch_settings(con, settings)  # the store is rebuilt from the stored signatures: they must fit
    store = rebuild(store_directory(db), expected, _stored_sketches(con, settings))
    if store.coverage != expected:
        raise RuntimeError(f"LSH store of {db} rebuilt to {store.coverage}, expected {expected}")
    return store


class SketchSettingsChanged(ValueError):
    """The warehouse's texts were sketched under another shingle, `num_perm` or seed than the configured ones."""


SKETCH_SAMPLE_TEXTS = 8
"""Stored texts sketched again under the configured settings before the LSH store is rebuilt."""


def check_sketch_settings(con: duckdb.DuckDBPyConnection, settings: DedupSettings) -> None:
    """Raise `SketchSettingsChanged` unless the stored texts' signatures were made under the configured shingle,
    `num_perm` and seed: a few stored texts are sketched again and compared. New texts are only comparable with
    stored ones sketched the same way, and an ingest never re-makes a stored signature (`wirecopy reprocess` re-makes
    them all); `bands` and `rows` may change (the LSH store is rebuilt from the stored signatures)."""
    sample = con.execute(sql.SAMPLE_SKETCHES, {"limit": SKETCH_SAMPLE_TEXTS}).fetchall()
    if not sample:
        return
    configured = f"shingle={settings.shingle}, num_perm={settings.num_perm}, seed={settings.seed}"
    again = signatures(shingle_texts([text for text, _ in sample], settings), settings.num_perm, settings.seed)
    for (_text, signature), made in zip(sample, again, strict=True):
        if len(signature) != settings.num_perm:
            raise SketchSettingsChanged(_changed_message(f"num_perm={len(signature)}", configured))
        if not np.array_equal(np.asarray(signature, dtype=np.uint32), made):
            raise SketchSettingsChanged(_changed_message("another shingle or seed", configured))


def _changed_message(stored: str, configured: str) -> str:
    return (
        f"the warehouse's texts were sketched with {stored}; the configuration asks {configured}. "
        "Set [dedup] (or WIRECOPY_DEDUP__*) back to the warehouse's settings, or run `wirecopy reprocess` to "
        "sketch every stored text again under the new ones"
    )


def _stored_sketches(con: duckdb.DuckDBPyConnection, settings: DedupSettings):
    """Every text stored with a signature, as `SketchRows` chunks."""
    for chunk in con.execute(sql.STORED_SKETCHES).to_arrow_reader(REBUILD_CHUNK_ROWS):
        hashes = chunk.column(0).to_numpy().astype(np.int64)
        matrix = chunk.column(3).flatten().to_numpy().astype(np.uint32).reshape(len(hashes), settings.num_perm)
        normalized = chunk.column(1).to_pylist()
        sizes = chunk.column(2).to_numpy()
        shingles = distinct(shingle_texts(normalized, settings))  # as the batch that stored them made them
        if not np.array_equal(shingles.counts(), sizes):
            raise RuntimeError("stored shingle counts differ from the texts' shingles under the configured shingle")
        yield SketchRows(
            hashes=hashes,
            band_keys=band_keys(matrix, settings.bands, settings.rows),
            signatures=matrix,
            sizes=sizes,
            normalized=normalized,
            shingles=shingles.hashes,
        )


class DuckDBIndex:
    """Read-side access to the persisted dedup index: DuckDB tables, and the LSH store for the lookups a batch
    makes by the thousand (band keys, then the candidates' signatures and texts)."""

    def __init__(self, con: duckdb.DuckDBPyConnection, lsh: LshStore):
        self.con = con
        self.lsh = lsh
        self._hashes = np.empty(0, dtype=np.int64)  # sorted text hashes met in band lookups …
        self._ordinals = np.empty(0, dtype=np.int64)  # … and their ordinals in the LSH store

    def known_texts(self, hashes: Iterable[int]) -> set[int]:
        table = query_with_ids(self.con, sql.KNOWN_TEXTS, hashes, pa.int64())
        return set(table.column(0).to_pylist())

    def band_members(self, keys: np.ndarray, cap: int) -> tuple[np.ndarray, np.ndarray]:
        found_keys, ordinals = self.lsh.members(keys, cap)
        hashes = self.lsh.hashes(ordinals)
        known = np.concatenate((self._hashes, hashes))
        order = np.argsort(known, kind="stable")
        self._hashes, self._ordinals = known[order], np.concatenate((self._ordinals, ordinals))[order]
        return found_keys, hashes

    def normalized_texts(self, hashes: Iterable[int]) -> dict[int, str]:
        wanted = arrays.unique(np.fromiter(hashes, dtype=np.int64))
        texts = self.lsh.texts(self._ordinals_of(wanted))
        return dict(zip(wanted.tolist(), texts, strict=True))

    def sketches(self, hashes: np.ndarray, num_perm: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        wanted = arrays.unique(hashes)
        signatures, sizes = self.lsh.sketches(self._ordinals_of(wanted))
        return wanted, signatures, sizes

    def shingle_sets(self, hashes: np.ndarray) -> ShingleBatch:
        return ShingleBatch(*self.lsh.shingle_sets(self._ordinals_of(hashes)))

    def _ordinals_of(self, hashes: np.ndarray) -> np.ndarray:
        """Store ordinals of texts returned by an earlier `band_members` (the only way stored candidates arise)."""
        positions = np.searchsorted(self._hashes, hashes)
        if len(hashes) and (positions.max() >= len(self._hashes) or (self._hashes[positions] != hashes).any()):
            raise KeyError("sketches asked for texts that no band lookup returned")
        return self._ordinals[positions]

    def edges_touching(self, hashes: Iterable[int]) -> list[Edge]:
        rows = query_with_ids(self.con, sql.EDGES_TOUCHING, hashes, pa.int64()).to_pylist()
        return [
            Edge(r["text_a"], r["text_b"], DedupMethod(r["method"]), r["similarity"], r["jaccard"], r["containment"])
            for r in rows
        ]

    def conflicts_among(self, hashes: Iterable[int]) -> set[tuple[int, int]]:
        rows = query_with_ids(self.con, sql.CONFLICTS_AMONG, hashes, pa.int64())
        return set(zip(rows.column(0).to_pylist(), rows.column(1).to_pylist(), strict=True))

    def paragraphs_of(self, hashes: Iterable[int]) -> list[ParagraphRef]:
        table = query_with_ids(self.con, sql.PARAGRAPHS_OF_TEXTS, hashes, pa.int64())
        paragraph_ids, text_hashes, published, fetched, doc_ids, positions = (c.to_pylist() for c in table.columns)
        return [
            ParagraphRef(paragraph_id, text_hash, KeepKey.of(published_at, fetched_at, doc_id, position))
            for paragraph_id, text_hash, published_at, fetched_at, doc_id, position in zip(
                paragraph_ids, text_hashes, published, fetched, doc_ids, positions, strict=True
            )
        ]

    def known_documents(self, doc_ids: Iterable[str], *, cleaned: bool = False) -> set[str]:
        """Ids already stored as raw documents (or, with `cleaned`, as clean documents)."""
        statement = sql.KNOWN_CLEAN_DOCUMENTS if cleaned else sql.KNOWN_DOCUMENTS
        table = query_with_ids(self.con, statement, doc_ids, pa.string())
        return set(table.column(0).to_pylist())


def stored_links(db: Path, links: list[str], *, wait_seconds: float) -> set[str]:
    """Links already stored as a raw document's url or source_uri (empty when the warehouse is missing or busy:
    documents already stored are recognised again at load, so fetching them is only wasted work)."""
    if not links or not db.exists():
        return set()
    try:
        with session(db, read_only=True, wait_seconds=wait_seconds) as con:
            return set(query_with_ids(con, sql.STORED_LINKS, links, pa.string()).column(0).to_pylist())
    except WarehouseBusy:
        return set()


def stored_document_ids(db: Path, *, wait_seconds: float) -> np.ndarray:
    """Ids and source keys (`wirecopy.models.source_key`) of every stored raw document as one sorted array of
    16-byte values (`wirecopy.pipeline.drop_stored` skips them before cleaning; 32 MB a million documents).
    Empty for a missing warehouse."""
    if not db.exists():
        return np.empty(0, dtype="S16")
    with session(db, read_only=True, wait_seconds=wait_seconds) as con:
        try:
            table = con.execute(sql.STORED_DOCUMENT_IDS).to_arrow_table()  # one scan for both keys
        except duckdb.CatalogException:  # a published file older than migration 014 (read-only: not migrated)
            table = con.execute(sql.STORED_DOCUMENT_IDS_BEFORE_014).to_arrow_table()
    return np.sort(np.concatenate([_fixed16(table.column(name).combine_chunks()) for name in table.column_names]))


def _fixed16(values: pa.Array) -> np.ndarray:
    fixed = values.cast(pa.binary(16))
    return np.frombuffer(fixed.buffers()[1], dtype="S16", count=len(fixed) + fixed.offset)[fixed.offset :]
