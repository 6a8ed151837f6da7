"""The dedup engine's view of the warehouse: `DedupIndex` implemented on a DuckDB connection."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from warehouse import sql
from warehouse.db import WarehouseBusy, session
from wirecopy.dedup.engine import KeepKey, ParagraphRef
from wirecopy.dedup.verify import Edge
from wirecopy.models import DedupMethod


def query_with_ids(con: duckdb.DuckDBPyConnection, statement: str, ids: Iterable, dtype, **params):
    """Run `statement` with the ids registered as Arrow table `ids(id)`; returns an Arrow table."""
    if isinstance(ids, np.ndarray):
        column = pa.array(np.unique(ids), type=dtype)
    else:
        column = pa.array(list(dict.fromkeys(ids)), type=dtype)
    con.register("ids", pa.table({"id": column}))
    try:
        return con.execute(statement, params or None).to_arrow_table()
    finally:
        con.unregister("ids")


class DuckDBIndex:
    """Read-side queries against the persisted dedup index."""

    def __init__(self, con: duckdb.DuckDBPyConnection):
        self.con = con

    def known_texts(self, hashes: Iterable[int]) -> set[int]:
        table = query_with_ids(self.con, sql.KNOWN_TEXTS, hashes, pa.int64())
        return set(table.column(0).to_pylist())

    def band_members(self, keys: np.ndarray, cap: int) -> tuple[np.ndarray, np.ndarray]:
        table = query_with_ids(self.con, sql.BAND_MEMBERS, keys, pa.int64(), cap=cap)
        return (
            table.column(0).to_numpy().astype(np.int64),
            table.column(1).to_numpy().astype(np.int64),
        )

    def normalized_texts(self, hashes: Iterable[int]) -> dict[int, str]:
        table = query_with_ids(self.con, sql.NORMALIZED_TEXTS, hashes, pa.int64())
        return dict(zip(table.column(0).to_pylist(), table.column(1).to_pylist(), strict=True))

    def sketches(self, hashes: np.ndarray, num_perm: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        table = query_with_ids(self.con, sql.SKETCHES, hashes, pa.int64())
        ids = table.column("text_hash").to_numpy().astype(np.int64)
        flat = pc.list_flatten(table.column("signature")).to_numpy().astype(np.uint32)
        matrix = flat.reshape(len(ids), num_perm)
        return ids, matrix, table.column("shingle_count").to_numpy().astype(np.int64)

    def edges_touching(self, hashes: Iterable[int]) -> list[Edge]:
        rows = query_with_ids(self.con, sql.EDGES_TOUCHING, hashes, pa.int64()).to_pylist()
        return [
            Edge(r["text_a"], r["text_b"], DedupMethod(r["method"]), r["similarity"], r["jaccard"], r["containment"])
            for r in rows
        ]

    def paragraphs_of(self, hashes: Iterable[int]) -> list[ParagraphRef]:
        rows = query_with_ids(self.con, sql.PARAGRAPHS_OF_TEXTS, hashes, pa.int64()).to_pylist()
        return [
            ParagraphRef(
                r["paragraph_id"],
                r["text_hash"],
                KeepKey.of(r["published_at"], r["fetched_at"], r["doc_id"], r["position"]),
            )
            for r in rows
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
