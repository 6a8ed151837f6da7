"""The `reprocess` flow: rebuild cleaned and deduplicated tables from stored raw documents."""

from __future__ import annotations

import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

from prefect import flow, get_run_logger, task
from prefect.runtime import flow_run
from wirecopy.warehouse.boilerplate import refresh_boilerplate
from wirecopy.warehouse.commit import Batch, CommitResult, commit_batch
from wirecopy.warehouse.reprocess import reprocess as rebuild_warehouse
from wirecopy.warehouse.runs import failure_reason, is_interruption, record_run, start_run
from wirecopy.warehouse.snapshot import publish, writer_for

from wirecopy.config import Settings, load_settings
from wirecopy.models import RawDocument, RunSummary
from wirecopy.progress import advance
from wirecopy.transform import clean_documents


@task(name="rebuild-page")
def rebuild_page(target: Path, raws: list[RawDocument], settings: Settings, run_id: str) -> tuple[CommitResult, int]:
    """Clean and load one page of raw documents into the rebuilt file: what it stored, and its clean errors."""
    documents, errors = clean_documents(raws)
    batch = Batch(run_id=run_id, documents=documents, errors=errors)
    result = commit_batch(
        target,
        batch,
        settings.dedup,
        wait_seconds=settings.lock_wait_seconds,
        store_raw=False,
        memory_limit=settings.ingest_memory_limit,
    )
    advance("reprocess", len(raws))
    return result, len(errors)


@flow(name="reprocess")
def reprocess(db: str | None = None, run_id: str | None = None) -> int:
    """Re-clean and re-deduplicate every stored raw document with the current rules and settings. The rebuilt
    rows carry one new run id, recorded in `ingest_runs` (kind `reprocess`) with what the rebuild stored."""
    settings = load_settings(db=Path(db) if db else None)
    published = settings.db  # rebuilt beside the writer's file, then published for readers (warehouse/snapshot.py)
    settings = settings.model_copy(update={"db": writer_for(settings)})
    boilerplate = settings.boilerplate
    summary, totals = RunSummary(run_id=run_id or uuid.uuid4().hex), CommitResult()
    started, clock = datetime.now(UTC), time.perf_counter()
    recorded = settings.model_dump(mode="json") | {"db": str(published)}
    # `running` from the start, as an ingest: runs killed before are marked interrupted first (with what their
    # batches stored, before the rebuild stamps every row with this run's id); a rebuild that fails says so
    handle = start_run(settings.db, summary, started_at=started, sources=[], settings=recorded,
                       flow_run_id=flow_run.id, wait_seconds=settings.lock_wait_seconds, kind="reprocess")  # fmt: skip

    def rebuild(target: Path, raws: list[RawDocument]) -> None:
        result, errors = rebuild_page(target, raws, settings, summary.run_id)
        totals.absorb(result)
        summary.inputs += len(raws)
        summary.errors += errors

    def after_rebuild(target: Path) -> None:
        refresh_boilerplate(target, boilerplate, wait_seconds=settings.lock_wait_seconds)
        summary.documents_new, summary.paragraphs = totals.documents_new, totals.paragraphs_new
        summary.duplicates, summary.boilerplate_removed = totals.links, totals.boilerplate_removed
        summary.seconds = time.perf_counter() - clock
        record_run(
            target, summary, started_at=started, finished_at=datetime.now(UTC), status="completed",
            sources=[], settings=recorded, flow_run_id=flow_run.id, wait_seconds=settings.lock_wait_seconds,
            kind="reprocess",
        )  # fmt: skip

    try:
        count = rebuild_warehouse(
            settings.db, rebuild, after_rebuild=after_rebuild, wait_seconds=settings.lock_wait_seconds
        )
    except BaseException as error:  # the warehouse is as it was: the run's row says why it is
        summary.seconds = time.perf_counter() - clock
        try:
            record_run(
                settings.db, summary, started_at=started, finished_at=datetime.now(UTC),
                status="interrupted" if is_interruption(error) else "failed", sources=[], settings=recorded,
                flow_run_id=flow_run.id, wait_seconds=settings.lock_wait_seconds, handle=handle, kind="reprocess",
                error=failure_reason(error),
            )  # fmt: skip
            publish(published, file_mode=settings.file_mode_bits, wait_seconds=settings.lock_wait_seconds)
        except Exception as unrecorded:  # the writer stays busy: the next run marks this one interrupted
            get_run_logger().error("reprocess run not recorded: %s: %s", type(unrecorded).__name__, unrecorded)
        raise
    handle.release()
    publish(published, file_mode=settings.file_mode_bits, wait_seconds=settings.lock_wait_seconds)
    get_run_logger().info("reprocessed %d raw documents into %s (run %s)", count, published, summary.run_id)
    return count
