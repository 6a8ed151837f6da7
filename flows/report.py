"""`refresh_report`: after a scheduled ingest, rewrite the syndication report beside the warehouse and link it
from a Prefect link artifact (key `syndication-report`) of the run. A failure is logged, never fatal: the
ingest has committed and the next run writes the report again."""

from __future__ import annotations

from pathlib import Path

from prefect import get_run_logger, task
from prefect.artifacts import create_link_artifact

from wirecopy.config import Settings
from wirecopy.reports.build import ReportResult, default_report_path, write_report


@task(name="report")
def report(db: Path, out: Path, wait_seconds: float, file_mode: int) -> ReportResult:
    return write_report(db, out, wait_seconds=wait_seconds, file_mode=file_mode)


def refresh_report(settings: Settings) -> Path | None:
    """Write `<warehouse>.report.html` (with the warehouse's `file_mode`) and link it from the run; None when it
    could not be written."""
    logger = get_run_logger()
    out = default_report_path(settings.db).absolute()
    try:
        result = report(settings.db, out, settings.lock_wait_seconds, settings.file_mode_bits)
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
