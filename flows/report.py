"""`refresh_report`: at each scheduled tick, rewrite the syndication report beside the warehouse when the warehouse
changed since it was written (after the tick's own ingest, an ad-hoc run's or a failed refresh) and link it from a
Prefect link artifact (key `syndication-report`) of the run. A failure is logged, never fatal: the ingest has
committed and the next tick writes the report again."""

from __future__ import annotations

from pathlib import Path

from prefect import get_run_logger, task
from prefect.artifacts import create_link_artifact

from wirecopy.config import Settings
from wirecopy.reports.build import (
    ReportResult,
    default_report_path,
    shows_current,
    stamp_version,
    warehouse_version,
    write_report,
)


@task(name="report")
def report(db: Path, out: Path, wait_seconds: float, file_mode: int) -> ReportResult:
    return write_report(db, out, wait_seconds=wait_seconds, file_mode=file_mode)


def refresh_report(settings: Settings) -> Path | None:
    """Write `<warehouse>.report.html` (with the warehouse's `file_mode`) and link it from the run, unless it shows
    the warehouse as it is already; None when there is no warehouse yet or the report could not be written."""
    logger = get_run_logger()
    out = default_report_path(settings.db).absolute()
    if not settings.db.exists():
        return None
    if shows_current(settings.db, out):
        logger.info("syndication report %s is up to date", out)
        return out
    try:
        version = warehouse_version(settings.db)  # before reading: a publish meanwhile makes the report stale
        result = report(settings.db, out, settings.lock_wait_seconds, settings.file_mode_bits)
        stamp_version(out, version)
    except Exception as error:
        logger.warning("syndication report not refreshed (next run retries): %s: %s", type(error).__name__, error)
        return None
    create_link_artifact(
        key="syndication-report",
        link=out.as_uri(),
        link_text=f"syndication report ({result.syndicated_clusters:,} syndicated clusters, {result.bytes // 1024} KB)",
        description="wirecopy syndication report, refreshed by this run",
    )
    logger.info("syndication report → %s (%d bytes, %.2fs)", out, result.bytes, result.seconds)
    return out
