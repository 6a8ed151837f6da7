"""The Python API behind `import wirecopy` (wirecopy/__init__.py imports it lazily, on first use)."""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Sequence
from datetime import datetime
from pathlib import Path

import duckdb
from pydantic import TypeAdapter

from wirecopy.dedup.settings import DedupSettings
from wirecopy.exports import ExportFormat, ExportResult, export_tables
from wirecopy.models import RunSummary
from wirecopy.reports.build import ReportResult, write_report
from wirecopy.reports.data import ReportOptions
from wirecopy.warehouse import sql

PathLike = str | Path


def _db(db: PathLike | None) -> Path:
    from wirecopy.config import load_settings

    return load_settings(db=Path(db) if db is not None else None).db


def ingest(sources: PathLike | Iterable[PathLike], db: PathLike | None = None, **options) -> RunSummary:
    """Ingest files, directories, globs, URLs and feeds into `db` (default: $WIRECOPY_DB, else
    ./warehouse.duckdb) with the `ingest` flow, in this process; returns the run summary. `sources` is one
    source (a string or path) or several. `options` are the flow's other parameters (batch_files, batch_bytes,
    fetch_retries, …). With no PREFECT_API_URL, Prefect starts a temporary local server for the run."""
    from wirecopy.flows.ingest import ingest as ingest_flow

    one = isinstance(sources, str | bytes | os.PathLike)  # not its characters, one source each
    return ingest_flow(sources=[str(sources)] if one else [str(s) for s in sources], db=str(_db(db)), **options)


def connect(db: PathLike | None = None, *, wait_seconds: float = 10.0) -> duckdb.DuckDBPyConnection:
    """A read-only DuckDB connection to the published warehouse. Ingests write to their own file and publish by a
    rename, so they never wait for it and it keeps the snapshot it opened; it waits up to `wait_seconds` only while
    another program holds the file read-write."""
    from wirecopy.warehouse.db import connect as open_warehouse

    return open_warehouse(_db(db), read_only=True, wait_seconds=wait_seconds)


def report(
    db: PathLike | None = None,
    out: PathLike = "report.html",
    *,
    since: datetime | str | None = None,
    until: datetime | str | None = None,
    outlets: str | Sequence[str] = (),
    wait_seconds: float = 10.0,
) -> ReportResult:
    """Write the syndication report (one self-contained HTML file) to `out`; `outlets`: one outlet or several."""
    from wirecopy.config import load_settings

    settings = load_settings(db=Path(db) if db is not None else None)
    options = ReportOptions(
        since=since, until=until, outlets=(outlets,) if isinstance(outlets, str) else tuple(outlets)
    )
    return write_report(settings.db, Path(out), options, wait_seconds=wait_seconds, file_mode=settings.file_mode_bits)


def export(
    db: PathLike | None = None,
    out: PathLike = "export",
    *,
    format: str = "parquet",
    tables: str | Sequence[str] | None = None,
    since: datetime | str | None = None,
    partition_rows: int = 1_000_000,
    wait_seconds: float = 10.0,
) -> ExportResult:
    """Export public tables (default: all; one name or several) to the folder `out` as parquet, csv or jsonl; `since`
    a datetime or an ISO date or time (UTC when it names no zone), as `report` takes it."""
    tables = [tables] if isinstance(tables, str) else tables
    return export_tables(
        _db(db), Path(out), format=ExportFormat(format.lower()), tables=list(tables) if tables else None,
        since=TypeAdapter(datetime | None).validate_python(since), partition_rows=partition_rows,
        wait_seconds=wait_seconds,
    )  # fmt: skip


def dedup_settings(con: duckdb.DuckDBPyConnection) -> DedupSettings:
    """The dedup settings of the warehouse's latest completed run that stored paragraphs (num_perm, seed, shingle:
    what its signatures used; a failed run, or one that stored nothing, made none); the defaults when none did."""
    row = con.execute(sql.LATEST_DEDUP_SETTINGS).fetchone()
    return DedupSettings(**json.loads(row[0])) if row and row[0] else DedupSettings()


def signatures(con: duckdb.DuckDBPyConnection, paragraph_ids: Iterable[str]) -> dict:
    """Stored MinHash signatures as `datasketch.LeanMinHash`, keyed by paragraph id, in the order asked.
    A paragraph shorter than `short_min_tokens` has no signature (None: matched exactly only); an unknown id
    raises KeyError. Use them with datasketch's own `MinHashLSH(num_perm=…)`."""
    from datasketch import LeanMinHash

    ids = list(dict.fromkeys(paragraph_ids))
    seed = dedup_settings(con).seed
    found = dict(con.execute(sql.PARAGRAPH_SIGNATURES, {"ids": ids}).fetchall())
    missing = [i for i in ids if i not in found]
    if missing:
        raise KeyError(f"no paragraph {', '.join(missing[:5])}{' …' if len(missing) > 5 else ''} in the warehouse")
    return {
        i: None if found[i] is None else LeanMinHash(seed=seed, hashvalues=found[i], scheme="affine32") for i in ids
    }


def shingles(text: str, settings: DedupSettings | None = None) -> list[int]:
    """The 32-bit shingle hashes wirecopy computes for a paragraph: its matching form (normalised, dateline and
    agency tags cut), then word 3-grams, or single words below `min_tokens` words (wirecopy.dedup.engine)."""
    from wirecopy.dedup.engine import shingle_texts
    from wirecopy.dedup.normalize import normalize_batch

    return shingle_texts(normalize_batch([text]), settings or DedupSettings()).of(0).tolist()


def minhash(text: str, settings: DedupSettings | None = None):
    """A paragraph's MinHash computed by datasketch itself (`MinHash.update_batch` over `shingles(text)`), as a
    LeanMinHash: equal to the stored signature of the same text under the same settings (texts under
    `short_min_tokens` words are stored without one)."""
    from datasketch import LeanMinHash, MinHash

    settings = settings or DedupSettings()
    sketch = MinHash(num_perm=settings.num_perm, seed=settings.seed, hashfunc=int, scheme="affine32")
    sketch.update_batch(shingles(text, settings))
    return LeanMinHash(sketch)
