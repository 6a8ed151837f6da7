"""The `reprocess` flow: rebuild cleaned and deduplicated tables from stored raw documents."""

from __future__ import annotations

from pathlib import Path

from prefect import flow, get_run_logger, task
from wirecopy.warehouse.boilerplate import refresh_boilerplate
from wirecopy.warehouse.commit import Batch, commit_batch
from wirecopy.warehouse.reprocess import reprocess as rebuild_warehouse
from wirecopy.warehouse.snapshot import publish, writer_for

from wirecopy.config import Settings, load_settings
from wirecopy.models import RawDocument
from wirecopy.progress import advance
from wirecopy.transform import clean_documents


@task(name="rebuild-page")
def rebuild_page(target: Path, raws: list[RawDocument], settings: Settings, run_id: str) -> int:
    documents, errors = clean_documents(raws)
    batch = Batch(run_id=run_id, documents=documents, errors=errors)
    commit_batch(
        target,
        batch,
        settings.dedup,
        wait_seconds=settings.lock_wait_seconds,
        store_raw=False,
        memory_limit=settings.ingest_memory_limit,
    )
    advance("reprocess", len(raws))
    return len(documents)


@flow(name="reprocess")
def reprocess(db: str | None = None, run_id: str = "reprocess") -> int:
    """Re-clean and re-deduplicate every stored raw document with the current rules and settings."""
    settings = load_settings(db=Path(db) if db else None)
    published = settings.db  # rebuilt beside the writer's file, then published for readers (warehouse/snapshot.py)
    settings = settings.model_copy(update={"db": writer_for(settings)})
    boilerplate = settings.boilerplate
    count = rebuild_warehouse(
        settings.db,
        lambda target, raws: rebuild_page(target, raws, settings, run_id),
        after_rebuild=lambda target: refresh_boilerplate(target, boilerplate, wait_seconds=settings.lock_wait_seconds),
        wait_seconds=settings.lock_wait_seconds,
    )
    publish(published, file_mode=settings.file_mode_bits, wait_seconds=settings.lock_wait_seconds)
    get_run_logger().info("reprocessed %d raw documents into %s", count, published)
    return count
