"""`wirecopy report`: read the warehouse read-only, aggregate in DuckDB, write one self-contained HTML file."""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from pydantic import BaseModel

from wirecopy.reports.data import ReportOptions, collect
from wirecopy.reports.html import render
from wirecopy.warehouse.db import session


class ReportResult(BaseModel):
    path: Path
    bytes: int
    seconds: float
    syndicated_clusters: int


def default_report_path(db: Path) -> Path:
    """Where scheduled runs write the report: beside the warehouse (`warehouse.duckdb` → `warehouse.report.html`)."""
    return db.with_name(db.stem + ".report.html")


def shows_current(db: Path, out: Path) -> bool:
    """Whether the report at `out` was made from the warehouse file as it is now (`stamp_version`): a scheduled
    tick with nothing new to ingest rewrites the report only when an ad-hoc run published since, or a refresh
    failed."""
    try:
        return out.stat().st_mtime_ns == warehouse_version(db)
    except FileNotFoundError:
        return False


def warehouse_version(db: Path) -> int:
    """The published warehouse file's version: its modification time (each publish replaces the file)."""
    return db.stat().st_mtime_ns


def stamp_version(out: Path, version: int) -> None:
    """Give the report the modification time of the warehouse version it was made from."""
    os.utime(out, ns=(time.time_ns(), version))


def write_report(
    db: Path,
    out: Path,
    options: ReportOptions | None = None,
    *,
    wait_seconds: float = 10.0,
    on_step: Callable[[str], None] | None = None,
    file_mode: int | None = None,
) -> ReportResult:
    """Build the report of `db` into `out` (written to a temporary file, then renamed: readers never see half).
    `on_step` is called after each aggregation step (wirecopy.reports.data.STEPS) and once more, "write".
    `file_mode`: the file's permissions (the report quotes article text: the warehouse's `file_mode` beside it);
    None leaves them to the umask."""
    options = options or ReportOptions()
    clock = time.perf_counter()
    with session(db, read_only=True, wait_seconds=wait_seconds) as con:
        data = collect(con, options, generated_at=datetime.now(UTC), database=db.name, on_step=on_step)
    page = render(data).encode("utf-8")
    out.parent.mkdir(parents=True, exist_ok=True)
    partial = out.with_name(f".{out.name}.{os.getpid()}.tmp")
    try:
        partial.unlink(missing_ok=True)  # left by a killed process of the same pid
        descriptor = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666 if file_mode is None else file_mode)
        with os.fdopen(descriptor, "wb") as handle:  # never readable beyond `file_mode`, not even while written
            handle.write(page)
        if file_mode is not None:
            os.chmod(partial, file_mode)  # exactly that mode, whatever the umask
        partial.replace(out)
    finally:
        partial.unlink(missing_ok=True)
    if on_step:
        on_step("write")
    return ReportResult(
        path=out,
        bytes=len(page),
        seconds=round(time.perf_counter() - clock, 3),
        syndicated_clusters=data.totals["syndicated_clusters"],
    )
