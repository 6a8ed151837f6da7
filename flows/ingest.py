"""The `ingest` flow: extract → transform → load, as thin Prefect tasks over plain functions."""

from __future__ import annotations

import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

from prefect import flow, get_run_logger, task
from prefect.artifacts import create_markdown_artifact
from prefect.context import get_run_context

from connectors.files import SourceLimits
from connectors.sources import iter_sources
from warehouse.commit import Batch, CommitResult, commit_batch
from warehouse.db import WarehouseBusy
from warehouse.runs import record_run
from wirecopy.config import Settings, load_settings
from wirecopy.models import CleanDocument, IngestError, RawDocument, RunSummary
from wirecopy.report import summary_markdown
from wirecopy.transform import clean_document


@task(name="extract", retries=2, retry_delay_seconds=[1, 5])
def extract(sources: list[str], max_file_bytes: int) -> tuple[list[RawDocument], list[IngestError]]:
    raws: list[RawDocument] = []
    errors: list[IngestError] = []
    for item in iter_sources(sources, limits=SourceLimits(max_bytes=max_file_bytes)):
        (errors if isinstance(item, IngestError) else raws).append(item)
    return raws, errors


@task(name="transform")
def transform(raws: list[RawDocument]) -> tuple[list[tuple[RawDocument, CleanDocument]], list[IngestError]]:
    documents, errors = [], []
    for raw in raws:
        try:
            cleaned = clean_document(raw)
        except Exception as error:  # one broken document must not sink the run
            cleaned = IngestError(source_uri=raw.source_uri, stage="clean", reason=f"{type(error).__name__}: {error}")
        if isinstance(cleaned, IngestError):
            errors.append(cleaned)
        else:
            documents.append((raw, cleaned))
    return documents, errors


def _retry_when_busy(task, task_run, state) -> bool:
    try:
        state.result()
    except WarehouseBusy:
        return True
    except Exception:
        return False
    return False


@task(name="load", retries=2, retry_delay_seconds=[2, 10], retry_condition_fn=_retry_when_busy)
def load(db: Path, batch: Batch, settings: Settings) -> CommitResult:
    return commit_batch(db, batch, settings.dedup, wait_seconds=settings.lock_wait_seconds)


@flow(name="ingest", log_prints=False)
def ingest(sources: list[str], db: str | None = None) -> RunSummary:
    """Ingest files, directories, globs and URLs into the warehouse, deduplicating every paragraph."""
    settings = load_settings(db=Path(db) if db else None)
    logger = get_run_logger()
    started = datetime.now(UTC)
    clock = time.perf_counter()
    summary = RunSummary(run_id=uuid.uuid4().hex)
    stages: dict[str, float] = {}

    t = time.perf_counter()
    raws, read_errors = extract(sources, settings.max_file_bytes)
    stages["extract"] = time.perf_counter() - t
    t = time.perf_counter()
    documents, clean_errors = transform(raws)
    stages["transform"] = time.perf_counter() - t
    errors = read_errors + clean_errors
    batch = Batch(run_id=summary.run_id, documents=documents, errors=errors)
    status = "completed"
    t = time.perf_counter()
    try:
        result = load(settings.db, batch, settings)
    except Exception:
        status = "failed"
        raise
    finally:
        stages["load"] = time.perf_counter() - t
        if status == "failed":
            result = CommitResult()
        summary.inputs = len(raws) + len(read_errors)
        summary.documents_new = result.documents_new
        summary.documents_seen = result.documents_seen
        summary.paragraphs = result.paragraphs_new
        summary.duplicates = result.links
        summary.boilerplate_removed = result.boilerplate_removed
        summary.errors = len(errors)
        summary.error_messages = [f"{e.source_uri}: {e.stage}: {e.reason}" for e in errors]
        summary.stage_seconds = {k: round(v, 4) for k, v in stages.items()}
        summary.seconds = time.perf_counter() - clock
        _record(settings, summary, started, status, sources)
    for message in summary.error_messages:
        logger.warning("input error: %s", message)
    logger.info("ingest summary: %s", summary.model_dump_json(exclude={"error_messages"}))
    create_markdown_artifact(key="ingest-summary", markdown=summary_markdown(summary), description="wirecopy run")
    return summary


def _record(settings: Settings, summary: RunSummary, started: datetime, status: str, sources: list[str]) -> None:
    context = get_run_context()
    flow_run_id = str(context.flow_run.id) if getattr(context, "flow_run", None) else None
    record_run(
        settings.db,
        summary,
        started_at=started,
        finished_at=datetime.now(UTC),
        status=status,
        sources=sources,
        settings=settings.model_dump(mode="json"),
        flow_run_id=flow_run_id,
        wait_seconds=settings.lock_wait_seconds,
    )
