"""The `ingest_runs` table: one row per run, written when the run ends (completed or failed)."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import pyarrow as pa

from warehouse import sql
from warehouse.db import session
from wirecopy.models import RunSummary

RUN_SCHEMA = pa.schema([
    ("run_id", pa.string()), ("flow_run_id", pa.string()), ("started_at", pa.timestamp("us", tz="UTC")),
    ("finished_at", pa.timestamp("us", tz="UTC")), ("status", pa.string()), ("sources", pa.list_(pa.string())),
    ("inputs", pa.int32()), ("documents_new", pa.int32()), ("documents_seen", pa.int32()),
    ("paragraphs_new", pa.int32()), ("exact_links", pa.int32()), ("near_links", pa.int32()),
    ("containment_links", pa.int32()), ("boilerplate_removed", pa.int32()), ("errors", pa.int32()),
    ("seconds", pa.float64()), ("stage_seconds", pa.string()), ("settings", pa.string()),
])  # fmt: skip


def record_run(
    db: Path,
    summary: RunSummary,
    *,
    started_at: datetime,
    finished_at: datetime,
    status: str,
    sources: list[str],
    settings: dict,
    flow_run_id: str | None = None,
    wait_seconds: float = 120.0,
) -> None:
    row = {
        "run_id": summary.run_id,
        "flow_run_id": flow_run_id,
        "started_at": started_at,
        "finished_at": finished_at,
        "status": status,
        "sources": sources,
        "inputs": summary.inputs,
        "documents_new": summary.documents_new,
        "documents_seen": summary.documents_seen,
        "paragraphs_new": summary.paragraphs,
        "exact_links": summary.duplicates.get("exact", 0),
        "near_links": summary.duplicates.get("near", 0),
        "containment_links": summary.duplicates.get("containment", 0),
        "boilerplate_removed": summary.boilerplate_removed,
        "errors": summary.errors,
        "seconds": summary.seconds,
        "stage_seconds": json.dumps(summary.stage_seconds),
        "settings": json.dumps(settings, default=str),
    }
    with session(db, read_only=False, wait_seconds=wait_seconds) as con:
        con.register("batch", pa.Table.from_pylist([row], schema=RUN_SCHEMA))
        try:
            con.execute(sql.INSERT_RUN)
        finally:
            con.unregister("batch")
