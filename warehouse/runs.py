"""The `ingest_runs` table: one row per run, written when the run starts (`running`) and when it ends
(`completed`, `failed` or `interrupted`), so a run whose process was killed is still visible.

While it runs, a run holds a lock file `<warehouse>.runs/<run_id>.lock` (an OS lock: it is released when the
process dies, however it dies). `start_run` first marks every `running` row whose lock is free as
`interrupted`, with the counts its committed batches left (documents, paragraphs, errors); a run still alive
in another process keeps its lock and its `running` row.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import pyarrow as pa
from filelock import FileLock, Timeout
from wirecopy.warehouse import sql
from wirecopy.warehouse.db import session

from wirecopy.models import RunSummary

RUN_SCHEMA = pa.schema([
    ("run_id", pa.string()), ("flow_run_id", pa.string()), ("started_at", pa.timestamp("us", tz="UTC")),
    ("finished_at", pa.timestamp("us", tz="UTC")), ("status", pa.string()), ("sources", pa.list_(pa.string())),
    ("inputs", pa.int32()), ("documents_new", pa.int32()), ("documents_seen", pa.int32()),
    ("paragraphs_new", pa.int32()), ("exact_links", pa.int32()), ("near_links", pa.int32()),
    ("containment_links", pa.int32()), ("boilerplate_removed", pa.int32()), ("errors", pa.int32()),
    ("feed_entries_deferred", pa.int32()), ("seconds", pa.float64()), ("stage_seconds", pa.string()),
    ("settings", pa.string()), ("kind", pa.string()), ("error", pa.string()),
])  # fmt: skip

MARK_INTERRUPTED = """
UPDATE ingest_runs SET
    status = 'interrupted',
    documents_new = (SELECT count(*) FROM documents d WHERE d.run_id = ingest_runs.run_id),
    paragraphs_new = (SELECT count(*) FROM paragraphs p WHERE p.run_id = ingest_runs.run_id),
    errors = (SELECT count(*) FROM run_errors e WHERE e.run_id = ingest_runs.run_id),
    error = $reason
WHERE run_id = $run_id AND status = 'running'
"""
KILLED = "its process ended without recording the run's end (killed, or the machine stopped); found by a later run"


INTERRUPTIONS = ("KeyboardInterrupt", "TerminationSignal", "Abort", "CancelledRun", "SystemExit")


def is_interruption(error: BaseException) -> bool:
    """Whether `error` is, or was raised while handling, a stop from outside: Ctrl-C, SIGTERM (Prefect's
    TerminationSignal), a cancellation. Prefect's task engine can answer a signal that lands while a task starts
    with its own error ("Task run is not set"), chained to the signal's exception."""
    return any(type(e).__name__ in INTERRUPTIONS or not isinstance(e, Exception) for e in exception_chain(error))


def exception_chain(error: BaseException) -> Iterator[BaseException]:
    """`error`, then the exception it was raised from or while handling, and so on (each once)."""
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        yield current
        current = current.__cause__ or current.__context__


STOPPED = "stopped by Ctrl-C or SIGTERM"  # the command hands Ctrl-C on to its flow run as a signal
STOPS = {"KeyboardInterrupt": STOPPED, "TerminationSignal": STOPPED, "CancelledRun": "cancelled", "Abort": "cancelled"}


def failure_reason(error: BaseException) -> str:
    """What `ingest_runs.error` says of a run that stopped on `error`: what stopped it (`is_interruption`: found
    along the chain, as Prefect may raise its own error while a signal lands), else `<type>: <message>`."""
    for link in exception_chain(error):
        if type(link).__name__ in STOPS:
            return STOPS[type(link).__name__]
    name, message = type(error).__name__, str(error)
    return f"{name}: {message}" if message else name


def runs_directory(db: Path) -> Path:
    """Where the lock files of the runs writing to warehouse file `db` live."""
    return db.with_name(db.name + ".runs")


@dataclass
class RunHandle:
    """A started run: its id and the lock that says it is alive."""

    run_id: str
    lock: FileLock

    def release(self) -> None:
        self.lock.release()
        Path(self.lock.lock_file).unlink(missing_ok=True)


def start_run(
    db: Path,
    summary: RunSummary,
    *,
    started_at: datetime,
    sources: list[str],
    settings: dict,
    flow_run_id: str | None = None,
    wait_seconds: float = 120.0,
    kind: str = "ingest",
) -> RunHandle:
    """Take the run's lock, mark dead runs `interrupted` and write this run's row as `running`."""
    directory = runs_directory(db)
    directory.mkdir(parents=True, exist_ok=True)
    lock = FileLock(str(directory / f"{summary.run_id}.lock"))
    lock.acquire(timeout=0)
    handle = RunHandle(summary.run_id, lock)
    try:
        with session(db, read_only=False, wait_seconds=wait_seconds) as con:
            running = [row[0] for row in con.execute(sql.RUNNING_RUNS).fetchall()]
            for run_id in running:
                if _is_dead(directory, run_id):
                    con.execute(MARK_INTERRUPTED, {"run_id": run_id, "reason": KILLED})
                    (directory / f"{run_id}.lock").unlink(missing_ok=True)
            _insert(con, _row(summary, started_at, None, "running", sources, settings, flow_run_id, kind))
        for stale in directory.glob("*.lock"):  # runs killed before they wrote their row
            if stale.stem != summary.run_id and stale.stem not in running and _is_dead(directory, stale.stem):
                stale.unlink(missing_ok=True)
    except BaseException:
        handle.release()
        raise
    return handle


def _is_dead(directory: Path, run_id: str) -> bool:
    lock = FileLock(str(directory / f"{run_id}.lock"))
    try:
        lock.acquire(timeout=0)
    except Timeout:
        return False
    lock.release()
    return True


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
    handle: RunHandle | None = None,
    kind: str = "ingest",
    error: str | None = None,
) -> None:
    """Write the run's final row (replacing its `running` row) and release its lock.
    `kind`: ingest | inbox | reprocess; `error`: why a failed or interrupted run stopped."""
    try:
        with session(db, read_only=False, wait_seconds=wait_seconds) as con:
            row = _row(summary, started_at, finished_at, status, sources, settings, flow_run_id, kind)
            _insert(con, row | {"error": error})
    finally:
        if handle is not None:
            handle.release()


def _row(summary: RunSummary, started_at, finished_at, status, sources, settings, flow_run_id, kind="ingest") -> dict:
    return {
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
        "feed_entries_deferred": summary.feed_entries_deferred,
        "seconds": summary.seconds,
        "stage_seconds": json.dumps(summary.stage_seconds),
        "settings": json.dumps(settings, default=str),
        "kind": kind,
        "error": None,
    }


def _insert(con, row: dict) -> None:
    con.register("batch", pa.Table.from_pylist([row], schema=RUN_SCHEMA))
    try:
        con.execute(sql.INSERT_RUN)
    finally:
        con.unregister("batch")
