"""Prepared batches of file sources, in plan order, from the compute engine's workers; and the same work started
ahead of the ingest flow run. Prefect is not imported here: `wirecopy ingest` starts this work first, while its
own process still imports Prefect and the flow (≈ 1 s) and, without a running API, while a temporary Prefect
server starts (3–5 s). The flow run that takes the work makes its batches task runs (`BatchEngine.observe`).
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Protocol

import numpy as np
from wirecopy.connectors.files import SourceLimits
from wirecopy.connectors.sources import is_url, plan_files
from wirecopy.flows import ahead
from wirecopy.flows.engines import in_order, local_pool
from wirecopy.warehouse.index import stored_document_ids
from wirecopy.warehouse.snapshot import writer_path

from wirecopy import spool
from wirecopy.config import ComputeSettings, Settings, load_settings
from wirecopy.pipeline import BatchRef, clean_read, failed_batch, plan_batches, prepare_arrow, read_fresh, to_arrow
from wirecopy.provenance import Relocations

IN_PROCESS_MAX_BYTES = 128 * 1024
"""With the local engine, a run whose only batch to clean is at most this large cleans it in the flow's
process; a larger one goes to the engine's worker too. Against a running server (the command importing Prefect
meanwhile, as the work ahead runs): 33 KB (the seeds) 2.04–2.20 s in-process, 2.07–2.51 s with a worker;
0.5 MB 2.31–2.52 against 2.14–2.23 s; 3.6 MB (10k paragraphs) 3.35–3.49 against 2.82–2.90 s."""


class BatchEngine(Protocol):
    """Where batches are prepared: `warm` (start what takes time to start, when batches will come), `start`
    (before the first `submit`; what it enters in the stack ends with it), `submit` a batch, `result` of a
    submitted one, `close` (whatever `warm` or `start` started; `prepared_batches` always calls it). A run's only
    batch of at most `alone_max_bytes` is cleaned in the flow's process instead."""

    alone_max_bytes: float

    def warm(self) -> None: ...

    def start(self, stack: ExitStack) -> None: ...

    def close(self) -> None: ...

    def submit(self, ref: BatchRef) -> object: ...

    def result(self, ref: BatchRef, submitted: object) -> spool.Prepared: ...


class LocalEngine:
    """The local engine: a pool of spawned worker processes (`engines.local_pool`), which hand each prepared batch
    back as a file of a spool directory (`wirecopy.spool`) that the writer maps. `observe`, set by the flow run
    that takes the batches, turns each batch handed to the pool into a task run of that flow run (which waits for
    the pool's future); batches handed before the run took them are turned when they are reached."""

    def __init__(self, workers: int, arguments: dict) -> None:
        self.workers = workers
        self.arguments = arguments  # may be set after `warm`: the workers start before the stored ids are read
        self.observe: Callable[[BatchRef, Future], object] | None = None
        self._pool: ProcessPoolExecutor | None = None
        self._spool: spool.SpoolDirectory | None = None

    @property
    def alone_max_bytes(self) -> float:
        return IN_PROCESS_MAX_BYTES

    def warm(self) -> None:
        if self._pool is None:
            self._pool = local_pool(self.workers, warm=True)

    def start(self, stack: ExitStack) -> None:
        if self._pool is None:
            self._pool = local_pool(self.workers)
        self._spool = spool.SpoolDirectory()

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)  # the workers exit while the run ends
        if self._spool is not None:
            self._spool.close()  # with the files of batches not taken (a batch taken is mapped and unlinked)

    def submit(self, ref: BatchRef) -> object:
        handed = self._pool.submit(prepare_arrow, ref, **self.arguments, spool_to=self._spool.file_for(ref.number))
        return handed if self.observe is None else self.observe(ref, handed)

    def result(self, ref: BatchRef, submitted: object) -> spool.Prepared:
        if isinstance(submitted, Future) and self.observe is not None:
            submitted = self.observe(ref, submitted)
        return spool.opened(submitted.result())


def prepare_arguments(
    stored: np.ndarray, settings: Settings, outlet: str | None, relocations: Relocations | None = None
) -> dict:
    """The arguments of `pipeline.prepare_arrow` besides the batch reference (`relocations` only when there are
    some: the inbox's)."""
    arguments = {"stored": stored, "max_file_bytes": settings.max_file_bytes, "outlet": outlet, "dedup": settings.dedup}
    return arguments | ({"relocations": dict(relocations)} if relocations else {})


def prepared_batches(
    refs: list[BatchRef],
    stored: np.ndarray,
    settings: Settings,
    stages: dict[str, float],
    outlet: str | None,
    engine: BatchEngine,
    relocations: Relocations | None = None,
) -> Iterator[spool.Prepared]:
    """Prepared batches in plan order. The engine is warmed first when the plan is larger than it would clean
    here (`BatchEngine.warm`: local workers start meanwhile). Batches are read right here while they hold nothing
    new (a re-ingest of stored input hands no batch to a worker); the last batch, when reached so, is cleaned
    here too when it is small (`engine.alone_max_bytes`: the seeds start no worker, and no Dask cluster starts
    for one batch). From the
    first batch with new documents on, the engine prepares every batch, that one first (`engines.in_order`:
    ahead of the writer, in plan order from this thread; task runs in threads would hand them over in whatever
    order they start, and a later batch first leaves the writer waiting). That first batch is not cleaned here:
    this process imports Prefect and the flow meanwhile (the work ahead), and the writer's process stays smaller
    without the cleaning's model and rules (100k paragraphs: peak RSS −75 MB, 0.3–0.5 CPU-s less; 30k
    paragraphs in four batches: 4.6 s, not 4.9)."""
    remaining = list(refs)
    limits = SourceLimits(max_bytes=settings.max_file_bytes)
    try:
        warm_for(engine, refs)  # its workers start while the first batches are read here
        while remaining:
            read = read_fresh(remaining[0], stored, limits, outlet, relocations)
            last_and_small = len(remaining) == 1 and _bytes(remaining) <= engine.alone_max_bytes
            if read.raws and not last_and_small:
                break  # the engine reads it again: a batch's reading is a small part of its preparation
            remaining.pop(0)
            yield to_arrow(clean_read(read, settings.dedup))
        if not remaining:
            return
        with ExitStack() as stack:
            engine.start(stack)
            for ref, submitted in in_order(engine.submit, remaining, settings.compute.in_flight()):
                with timed(stages, "wait"):
                    try:
                        batch = engine.result(ref, submitted)
                    except Exception as error:  # a worker died or a bug: the batch's files become errors
                        batch = to_arrow(failed_batch(ref, error))
                yield batch
    finally:
        engine.close()  # what `warm` or `start` started (the workers exit while the run ends)


def warm_for(engine: BatchEngine, refs: list[BatchRef]) -> None:
    """Warm the engine when the plan is larger than the flow's process would clean itself."""
    if _bytes(refs) > engine.alone_max_bytes:
        engine.warm()


def _bytes(refs: list[BatchRef]) -> int:
    return sum(part.size for ref in refs for part in ref.parts)


@contextmanager
def timed(stages: dict[str, float], name: str) -> Iterator[None]:
    """Add the seconds the block takes to `stages[name]`."""
    start = time.perf_counter()
    try:
        yield
    finally:
        stages[name] = stages.get(name, 0.0) + time.perf_counter() - start


def run_settings(db: str | None, engine: str | None, workers: int | None) -> Settings:
    """The configuration of one run (`db`: the published warehouse), with the engine and workers it was given."""
    settings = load_settings(db=Path(db) if db else None)
    if engine is not None or workers is not None:
        overrides = {k: v for k, v in {"engine": engine, "workers": workers}.items() if v is not None}
        compute = ComputeSettings.model_validate(settings.compute.model_dump() | overrides)
        settings = settings.model_copy(update={"compute": compute})
    return settings


def ahead_key(refs: list[BatchRef], stored: np.ndarray, settings: Settings, outlet: str | None) -> tuple:
    """What prepared batches depend on: the plan, the documents already stored, the outlet and the settings."""
    digest = hashlib.blake2b(np.ascontiguousarray(stored).tobytes(), digest_size=16).hexdigest()
    return tuple(refs), digest, outlet, settings.model_dump_json()


def prepare_ahead(
    sources: list[str],
    db: str | None = None,
    engine: str | None = None,
    workers: int | None = None,
    outlet: str | None = None,
) -> ahead.Ahead | None:
    """Start preparing the file sources' batches before the `ingest` run with the same arguments: a thread of
    this process plans them and pulls the first batches from the same pipeline as the run's, with the local
    engine's workers. The run claims the work when its own plan, stored documents and settings give the same
    key, else prepares everything itself. Nothing is written, and only the published snapshot is read (the
    run's own connections to the writer's file cannot meet a connection of this thread). None when there is
    nothing to start: no files, the dask engine."""
    paths = [s for s in sources if not is_url(s)]
    settings = run_settings(db, engine, workers)
    if not paths or settings.compute.engine != "local":
        return None
    return ahead.hand(ahead.Ahead(lambda: _work_ahead(paths, settings, outlet)))


def _work_ahead(paths: list[str], settings: Settings, outlet: str | None) -> ahead.Work | None:
    """The plan and the pipeline of `prepare_ahead`; None when the published snapshot cannot stand for the
    writer's file (none yet beside a published one: the run adopts it first) or cannot be read at once."""
    published, writer = settings.db, writer_path(settings.db)
    if published.exists() and not writer.exists():
        return None
    settings = settings.model_copy(update={"db": writer})
    planned, _ = plan_files(paths, follow_symlinks_outside_root=settings.follow_symlinks_outside_root)
    refs = plan_batches(planned, settings.batch_bytes, settings.batch_files)
    engine = LocalEngine(settings.compute.worker_count(), arguments={})
    warm_for(engine, refs)  # the workers start (imports, language model) while the stored ids and batches are read
    try:  # as the writer's file holds them after a published run; if not, the keys differ and the run reads its own
        stored = stored_document_ids(published, wait_seconds=0)
    except Exception:
        engine.close()
        return None
    engine.arguments = prepare_arguments(stored, settings, outlet)
    stages: dict[str, float] = {}
    items = prepared_batches(refs, stored, settings, stages, outlet, engine)
    key = ahead_key(refs, stored, settings, outlet)
    return ahead.Work(key, items, settings.compute.in_flight(), stages, engine)
