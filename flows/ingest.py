"""The `ingest` flow: plan → fetch → prepare (read, skip stored, clean) → load → learn boilerplate, as thin tasks.

Files, directories and globs are listed by `plan` and grouped into batches by reference (`wirecopy.pipeline`:
paths, line ranges of large JSONL files). Each batch is prepared by `prepare` — in this process, or ahead of
the writer by the `[compute]` engine's workers (`wirecopy.flows.engines`) — and committed by `load` in plan order;
the tasks exchange batch references and Arrow buffers, and neither caches nor persists results.

Every http(s) source is fetched by its own `fetch` task run, retried with exponential backoff only when the
`FetchError` is retryable (5xx, 408/425/429, timeouts, connection failures). An RSS/Atom feed is expanded to its
article links; links already stored (raw_documents.url or source_uri) are skipped after one read-only
query, the rest are fetched concurrently. Politeness (delay and concurrency per host) is enforced by
`wirecopy.connectors.http.HOST_LIMITER`, shared by the task runner's threads (it is per process: a process-based
task runner would need a shared limiter). A fetch that fails becomes an `IngestError` (stage "fetch")
and the run goes on.

Private addresses: fetching from loopback/private networks is refused unless the caller passes a
`fetch_policy` that allows it or the `[fetch]` configuration does (`allow_private_addresses = true`, or
`allowed_private_networks = ["127.0.0.1/32"]`; env WIRECOPY_FETCH__ALLOWED_PRIVATE_NETWORKS).
"""

from __future__ import annotations

import gc
import itertools
import time
import uuid
from concurrent.futures import Future
from contextlib import ExitStack, closing
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal

import numpy as np
from prefect import flow, get_run_logger, task
from prefect.artifacts import create_markdown_artifact
from prefect.cache_policies import NO_CACHE
from prefect.context import FlowRunContext, get_run_context
from prefect.task_runners import ThreadPoolTaskRunner
from wirecopy.connectors.feeds import FeedEntry, feed_entries, is_feed, newest_first, with_entry_metadata
from wirecopy.connectors.http import FetchError, FetchPolicy, fetch_failure, fetch_url
from wirecopy.connectors.sources import is_url, plan_files
from wirecopy.flows import ahead
from wirecopy.flows.engines import check_scheduler, dask_task_runner
from wirecopy.flows.prepared import (
    BatchEngine,
    LocalEngine,
    ahead_key,
    prepare_arguments,
    prepared_batches,
    run_settings,
    timed,
)
from wirecopy.flows.signals import stop_signals
from wirecopy.warehouse.boilerplate import BoilerplateRefresh, refresh_boilerplate
from wirecopy.warehouse.commit import Batch, CommitResult, commit_batch
from wirecopy.warehouse.db import WarehouseBusy
from wirecopy.warehouse.index import stored_document_ids, stored_links
from wirecopy.warehouse.runs import RunHandle, failure_reason, is_interruption, record_run, start_run
from wirecopy.warehouse.snapshot import publish, writer_for

from wirecopy.batching import batches
from wirecopy.cleaning.learned import BoilerplateSettings
from wirecopy.config import ComputeSettings, Settings
from wirecopy.dedup.settings import DedupSettings
from wirecopy.models import IngestError, RawDocument, RunSummary
from wirecopy.pipeline import (
    BatchRef,
    load_input,
    plan_batches,
    prepare_arrow,
    prepare_documents,
    prepared_errors,
    prepared_header,
    to_arrow,
)
from wirecopy.progress import advance
from wirecopy.provenance import Relocations, relocated_documents, relocated_errors, relocated_uri
from wirecopy.reports import summary_markdown
from wirecopy.spool import Prepared, SpoolDirectory, SpooledBatch, opened

FETCH_WORKERS = 16


# --- plain functions -------------------------------------------------------------------------------


def _content_bytes(raw: RawDocument) -> int:
    return len(raw.content.encode("utf-8"))


def retry_delays(first_delay: float, retries: int) -> list[float]:
    """Exponential backoff: first_delay, 2×, 4×, …"""
    return [first_delay * 2**attempt for attempt in range(retries)]


# --- tasks -----------------------------------------------------------------------------------------


@task(name="plan", retries=2, retry_delay_seconds=[1, 5])
def plan(
    paths: list[str], follow_symlinks_outside_root: bool = False, all_types: bool = False
) -> tuple[list[tuple[Path, Path | None]], list[IngestError]]:
    """List every file the path sources name (cheap); reading happens batch by batch."""
    return plan_files(paths, follow_symlinks_outside_root=follow_symlinks_outside_root, all_types=all_types)


@task(
    name="prepare",
    task_run_name="prepare batch {ref.number} ({ref.first}…)",
    cache_policy=NO_CACHE,
    persist_result=False,
)
def prepare(
    ref: BatchRef,
    stored: np.ndarray,
    max_file_bytes: int,
    outlet: str | None = None,
    dedup: DedupSettings | None = None,
    handed: Future | None = None,
    spool_to: str | None = None,
    relocations: dict[str, str] | None = None,
) -> dict[str, bytes] | SpooledBatch:
    """Read one batch of files, skip the stored documents, clean the rest (and, with `dedup`, make the match
    step's inputs: paragraph rows, sketches): Arrow IPC buffers. Runs where the task runs (in the flow's process,
    a Dask worker); `handed`: the same work already handed to a process of the local engine's pool, in plan
    order (threads would reach the pool in any order), which this task run waits for (its batch comes back as a
    file, `wirecopy.spool`). `outlet` replaces the outlet rule's for every document. `spool_to`: a file to write
    the batch into instead of returning its bytes (a worker on the writer's machine). `relocations`: the folders
    read → recorded, for the stored check (`pipeline.drop_stored`)."""
    if handed is not None:
        return handed.result()
    return prepare_arrow(ref, stored, max_file_bytes, outlet, dedup, spool_to, relocations)


def _retry_when_retryable(task, task_run, state) -> bool:
    try:
        state.result()
    except FetchError as error:
        return error.retryable
    except Exception:
        return False
    return False


@task(
    name="fetch",
    task_run_name="fetch {url}",
    retries=2,
    retry_delay_seconds=retry_delays(2.0, 2),
    retry_condition_fn=_retry_when_retryable,
    cache_policy=NO_CACHE,
)
def fetch(url: str, policy: FetchPolicy) -> RawDocument:
    return fetch_url(url, policy=policy)


def _retry_when_busy(task, task_run, state) -> bool:
    try:
        state.result()
    except WarehouseBusy:
        return True
    except Exception:
        return False
    return False


@task(
    name="load",
    task_run_name="load batch {number}",
    retries=2,
    retry_delay_seconds=[2, 10],
    retry_condition_fn=_retry_when_busy,
    cache_policy=NO_CACHE,
    persist_result=False,
)
def load(
    db: Path,
    run_id: str,
    number: int,
    prepared: Prepared,
    errors: list[IngestError],
    settings: Settings,
    relocations: Relocations | None = None,
) -> CommitResult:
    """Commit one prepared batch (Arrow IPC) and `errors` (the batch's own and any recorded with it, as they are
    recorded) in one transaction; stored documents it skipped count as seen. `relocations`: folders read →
    folders recorded as the documents' sources."""
    batch = load_input(prepared, settings.dedup)
    table = relocated_documents(batch.table, relocations or {})
    result = commit_batch(
        db,
        Batch(run_id=run_id, errors=errors, table=table, sketches=batch.sketches),
        settings.dedup,
        wait_seconds=settings.lock_wait_seconds,
        memory_limit=settings.ingest_memory_limit,
    )
    result.documents_seen += batch.skipped
    return result


@task(name="learn_boilerplate", retries=2, retry_delay_seconds=[2, 10], retry_condition_fn=_retry_when_busy)
def learn_boilerplate(db: Path, settings: BoilerplateSettings, wait_seconds: float) -> BoilerplateRefresh:
    return refresh_boilerplate(db, settings, wait_seconds=wait_seconds)


# --- orchestration ---------------------------------------------------------------------------------


def _results(submitted: list, retries: int) -> tuple[list[tuple[object, RawDocument]], list[IngestError]]:
    """Wait for (key, url, future) triples; a failed fetch becomes an IngestError keyed by its URL."""
    done: list[tuple[object, RawDocument]] = []
    errors: list[IngestError] = []
    for key, url, future in submitted:
        try:
            done.append((key, future.result()))
        except FetchError as error:
            errors.append(fetch_failure(error, retries))
        except Exception as error:  # a bug must not sink the run
            errors.append(IngestError(source_uri=url, stage="fetch", reason=f"{url}: {type(error).__name__}: {error}"))
    return done, errors


def _fetch_sources(
    urls: list[str],
    db: Path,
    policy: FetchPolicy,
    retries: int,
    first_delay: float,
    max_feed_entries: int,
    wait_seconds: float,
) -> tuple[list[RawDocument], list[IngestError], int, int]:
    """Fetch URLs, expanding feeds; returns documents, errors, how many stored links were skipped and how many
    feed entries were left for later runs (over `max_feed_entries` per feed, newest first)."""
    fetcher = fetch.with_options(retries=retries, retry_delay_seconds=retry_delays(first_delay, retries))
    documents: list[RawDocument] = []
    feeds: list[list[FeedEntry]] = []
    done, errors = _results([(url, url, fetcher.submit(url, policy)) for url in dict.fromkeys(urls)], retries)
    for url, raw in done:
        if not is_feed(raw):
            documents.append(raw)
            continue
        found = feed_entries(raw)
        if not found:
            errors.append(IngestError(source_uri=url, stage="fetch", reason=f"{url}: feed has no entries with links"))
        feeds.append(found)
    given = set(urls)
    wanted = list(dict.fromkeys(e.link for found in feeds for e in found if e.link not in given))
    stored = stored_links(db, wanted, wait_seconds=wait_seconds)
    entries: dict[str, FeedEntry] = {}
    deferred: set[str] = set()
    for found in feeds:
        fresh = [e for e in found if e.link not in given and e.link not in stored and e.link not in entries]
        chosen, rest = newest_first(fresh, max_feed_entries)
        entries.update((e.link, e) for e in chosen)
        deferred.update(e.link for e in rest)
    done, article_errors = _results([(e, e.link, fetcher.submit(e.link, policy)) for e in entries.values()], retries)
    documents += [with_entry_metadata(raw, entry) for entry, raw in done]
    return documents, errors + article_errors, len(stored), len(deferred - entries.keys())


@flow(name="ingest", log_prints=False, task_runner=ThreadPoolTaskRunner(max_workers=FETCH_WORKERS))
def ingest(
    sources: list[str],
    db: str | None = None,
    fetch_policy: FetchPolicy | None = None,
    fetch_retries: int | None = None,
    fetch_retry_delay_seconds: float | None = None,
    max_feed_entries: int | None = None,
    batch_files: int | None = None,
    batch_bytes: int | None = None,
    engine: Literal["local", "dask"] | None = None,
    workers: int | None = None,
    outlet: str | None = None,
    recorded_as: dict[str, str] | None = None,
    all_file_types: bool = False,
    run_id: str | None = None,
) -> RunSummary:
    """Ingest files, directories, globs, URLs and RSS/Atom feeds into the warehouse, deduplicating every
    paragraph. Files and fetched pages are read, cleaned and loaded in batches of at most `batch_files` inputs
    and `batch_bytes` bytes, one transaction per batch, so memory stays bounded whatever the input size.
    Parameters left at None come from the configuration (`wirecopy config`): `fetch_policy` from `[fetch]`,
    the rest from `[fetch]`, `batch_files` and `batch_bytes`; `engine` and `workers` from `[compute]`. `outlet`
    records every input under that outlet instead of the outlet rule's (connectors/outlets.py). `recorded_as`: a
    folder read → the folder its files are recorded under (`wirecopy.provenance`; the inbox's claimed files: the
    run is recorded with kind `inbox`).
    `all_file_types`: folders and globs give files of every type (the inbox: a file dropped there is read, and
    refused with its reason when it is no article), not only those an article may come as.
    `run_id`: the run's id in `ingest_runs` (default: a new one), for a caller that reads the outcome from the
    warehouse should the Prefect API go away during the run."""
    settings = run_settings(db, engine, workers)
    published = settings.db  # readers' snapshot; this run writes to its own file beside it (warehouse/snapshot.py)
    settings = settings.model_copy(update={"db": writer_for(settings)})
    boilerplate = settings.boilerplate
    policy = fetch_policy or settings.fetch.policy()
    fetch_retries = settings.fetch.retries if fetch_retries is None else fetch_retries
    if fetch_retry_delay_seconds is None:
        fetch_retry_delay_seconds = settings.fetch.retry_delay_seconds
    max_feed_entries = settings.fetch.max_feed_entries if max_feed_entries is None else max_feed_entries
    batch_files = settings.batch_files if batch_files is None else batch_files
    batch_bytes = settings.batch_bytes if batch_bytes is None else batch_bytes
    logger = get_run_logger()
    started = datetime.now(UTC)
    clock = time.perf_counter()
    summary = RunSummary(run_id=run_id or uuid.uuid4().hex)
    stages: dict[str, float] = {}
    urls = [s.strip() for s in sources if is_url(s)]
    paths = [s for s in sources if not is_url(s)]
    totals, errors, inputs = CommitResult(), [], 0
    status = "failed"
    taken = None
    failure: str | None = None
    relocations = recorded_as or {}
    recorded_sources = [source if is_url(source) else relocated_uri(source, relocations) for source in sources]
    kind = "inbox" if recorded_as is not None else "ingest"  # the inbox's runs say so in `wirecopy runs`
    run = start_run(settings.db, summary, started_at=started, sources=recorded_sources, settings={},
                    flow_run_id=_flow_run_id(), wait_seconds=settings.lock_wait_seconds, kind=kind)  # fmt: skip
    gc.freeze()  # collections skip what the run started with (process_memory.BATCH_GC_THRESHOLDS says why)
    try:
        if settings.compute.engine == "dask" and settings.compute.address:
            check_scheduler(settings.compute.address)  # whether or not this run needs a worker
        with timed(stages, "extract"):
            planned, plan_errors = (
                plan(paths, settings.follow_symlinks_outside_root, all_file_types) if paths else ([], [])
            )
        with timed(stages, "fetch"):
            fetched, fetch_errors, skipped, summary.feed_entries_deferred = _fetch_sources(
                urls, settings.db, policy, fetch_retries, fetch_retry_delay_seconds, max_feed_entries,
                settings.lock_wait_seconds,
            )  # fmt: skip
        if skipped:  # stored documents, met again: counted like a stored file
            logger.info("%d feed article links already stored, not fetched again", skipped)
            totals.documents_seen += skipped
        if summary.feed_entries_deferred:
            logger.warning("%d feed entries over max_feed_entries left for later runs", summary.feed_entries_deferred)
        inputs = len(planned) + len(plan_errors) + len(fetched) + len(fetch_errors) + skipped
        refs = plan_batches(planned, batch_bytes, batch_files)
        fetched_chunks = batches(fetched, _content_bytes, batch_bytes, batch_files)
        stored = stored_document_ids(settings.db, wait_seconds=settings.lock_wait_seconds)
        claimed = ahead.claim(ahead_key(refs, stored, settings, outlet))
        if claimed is not None and isinstance(claimed.producer, LocalEngine):
            _observe(claimed.producer)
        taken = claimed.take() if claimed else None
        if taken is not None:
            logger.info("%d batches prepared before the flow run started", claimed.pulled)
        late_errors = relocated_errors(plan_errors, relocations) + fetch_errors  # recorded with the last batch
        count = len(refs) + len(fetched_chunks)
        if not count and late_errors:
            fetched_chunks, count = [[]], 1  # nothing to load but errors to record
        units = [ref.files for ref in refs] + [len(chunk) for chunk in fetched_chunks]
        advance("ingest", len(late_errors) + skipped, total=inputs)  # feed links already stored: done
        from_files = taken
        if from_files is None:
            engine = _engine(settings, stored, outlet, relocations)
            from_files = prepared_batches(refs, stored, settings, stages, outlet, engine, relocations)
        with closing(from_files), stop_signals() as stop:  # stops the workers
            from_fetches = (
                to_arrow(prepare_documents(chunk, stored, outlet=outlet, dedup=settings.dedup))
                for chunk in fetched_chunks
            )
            for number, batch in enumerate(itertools.chain(from_files, from_fetches)):
                stop.check()  # a stop whose exception was lost in flight
                extra = late_errors if number == count - 1 else []
                header, batch_errors = prepared_header(batch), relocated_errors(prepared_errors(batch), relocations)
                for name, seconds in header["seconds"].items():
                    stages[name] = stages.get(name, 0.0) + seconds
                if header["documents"] or batch_errors or extra or not settings.db.exists():
                    with timed(stages, "load"):
                        loaded = load(
                            settings.db, summary.run_id, number, batch, batch_errors + extra, settings, relocations
                        )
                        totals.absorb(loaded)
                else:  # every document already stored, nothing failed: no transaction to make
                    totals.documents_seen += header["skipped"]
                errors += batch_errors + extra
                advance("ingest", units[number])
            stop.check()
        status = "completed"
    except BaseException as error:
        if is_interruption(error):  # Ctrl-C, SIGTERM, Prefect's cancellation: recorded as interrupted
            status = "interrupted"
        failure = failure_reason(error)  # the row says why, not only the console
        raise
    finally:
        gc.unfreeze()
        if taken is not None:  # the stages of the work done ahead, and how long it ran before this run took it
            taken.close()  # (closed already, unless the run failed before its batches)
            for name, seconds in claimed.stages.items():
                stages[name] = stages.get(name, 0.0) + seconds
            stages["ahead"] = claimed.seconds
        if status == "completed":
            stages["boilerplate"] = _learn(settings, boilerplate, logger)
        summary.inputs = inputs
        summary.documents_new = totals.documents_new
        summary.documents_seen = totals.documents_seen
        summary.paragraphs = totals.paragraphs_new
        summary.duplicates = totals.links
        summary.boilerplate_removed = totals.boilerplate_removed
        summary.errors = len(errors)
        summary.error_messages = [f"{e.source_uri}: {e.stage}: {e.reason}" for e in errors]
        summary.stage_seconds = {k: round(v, 4) for k, v in stages.items()}
        summary.seconds = time.perf_counter() - clock
        recorded = settings.model_dump(mode="json") | {
            "db": str(published),
            "boilerplate": boilerplate.model_dump(mode="json"),
            "fetch": policy.model_dump(mode="json") | {"retries": fetch_retries, "max_feed_entries": max_feed_entries},
            "batch_files": batch_files,
            "batch_bytes": batch_bytes,
        }
        summary.status = status
        _record(settings, summary, started, status, recorded_sources, recorded, run, kind, failure)
        if status != "interrupted":
            stages["publish"] = _publish(published, settings, logger)
            summary.stage_seconds = {k: round(v, 4) for k, v in stages.items()}
    for message in summary.error_messages:
        logger.warning("input error: %s", message)
    logger.info("ingest summary: %s", summary.model_dump_json(exclude={"error_messages"}))
    create_markdown_artifact(key="ingest-summary", markdown=summary_markdown(summary), description="wirecopy run")
    return summary


class _DaskEngine:
    """The dask engine for `prepared.prepared_batches`: each batch a `prepare` task run on prefect-dask's runner.
    A run of one batch cleans it in the flow's process: a `LocalCluster` takes seconds to start. The workers of
    a `LocalCluster` (no `address`) share the writer's machine and hand their batches back as spool files
    (`wirecopy.spool`); those of a scheduler at `address` may not, and return bytes."""

    alone_max_bytes = float("inf")

    def __init__(self, compute: ComputeSettings, arguments: dict) -> None:
        self.compute, self.arguments = compute, arguments
        self._spool: SpoolDirectory | None = None

    def warm(self) -> None:
        """Nothing: a cluster starts when a batch needs it (a run of stored input starts none)."""

    def start(self, stack: ExitStack) -> None:
        if not self.compute.address:
            self._spool = SpoolDirectory()
        self._runner = stack.enter_context(dask_task_runner(self.compute))

    def close(self) -> None:
        """The spool directory, if any (the runner stops with the stack `start` was given)."""
        if self._spool is not None:
            self._spool.close()

    def submit(self, ref: BatchRef) -> object:
        spool_to = self._spool.file_for(ref.number) if self._spool is not None else None
        return self._runner.submit(prepare, parameters={"ref": ref, **self.arguments, "spool_to": spool_to})

    def result(self, ref: BatchRef, submitted: object) -> Prepared:
        return opened(submitted.result())


def _engine(settings: Settings, stored: np.ndarray, outlet: str | None, relocations: Relocations) -> BatchEngine:
    """The configured engine, its batches seen as `prepare` task runs of this flow run."""
    arguments = prepare_arguments(stored, settings, outlet, relocations)
    if settings.compute.engine == "dask":
        return _DaskEngine(settings.compute, arguments)
    engine = LocalEngine(settings.compute.worker_count(), arguments)
    _observe(engine)
    return engine


def _observe(engine: LocalEngine) -> None:
    """Each batch handed to the local engine's pool becomes a `prepare` task run (of the flow run under way)
    that waits for it."""
    if _in_flow_run():
        engine.observe = lambda ref, handed: prepare.submit(ref, **engine.arguments, handed=handed)


def _learn(settings: Settings, boilerplate: BoilerplateSettings, logger) -> float:
    """Recompute learned boilerplate; a failure is logged, not fatal (the next run recomputes)."""
    t = time.perf_counter()
    try:
        refresh = learn_boilerplate(settings.db, boilerplate, settings.lock_wait_seconds)
    except Exception as error:
        logger.warning("learned boilerplate not refreshed (next run retries): %s: %s", type(error).__name__, error)
    else:
        logger.info(
            "learned boilerplate: %d texts (+%d, -%d, %d changed)",
            refresh.learned,
            refresh.added,
            refresh.removed,
            refresh.changed,
        )
    return time.perf_counter() - t


def _in_flow_run() -> bool:
    return FlowRunContext.get() is not None


def _flow_run_id() -> str | None:
    context = get_run_context()
    return str(context.flow_run.id) if getattr(context, "flow_run", None) else None


def _publish(published: Path, settings: Settings, logger) -> float:
    """Publish the writer's file for readers; a failure is logged (the next run publishes again)."""
    t = time.perf_counter()
    try:
        publish(published, file_mode=settings.file_mode_bits, wait_seconds=settings.lock_wait_seconds)
    except Exception as error:
        logger.error("warehouse not published (the next run publishes): %s: %s", type(error).__name__, error)
    return time.perf_counter() - t


def _record(
    settings: Settings,
    summary: RunSummary,
    started: datetime,
    status: str,
    sources: list[str],
    recorded: dict,
    run: RunHandle,
    kind: str,
    failure: str | None,
) -> None:
    record_run(
        settings.db,
        summary,
        started_at=started,
        finished_at=datetime.now(UTC),
        status=status,
        sources=sources,
        settings=recorded,
        flow_run_id=_flow_run_id(),
        wait_seconds=settings.lock_wait_seconds,
        handle=run,
        kind=kind,
        error=failure,
    )
