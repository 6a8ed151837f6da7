"""Compute engines for the stateless stages, as Prefect task runners, and the in-order pipeline over them.

`[compute] engine = "local"`: each `prepare` task run (a thread of the flow's task runner) hands its batch to
a pool of spawned worker processes that import only the stateless stages (`wirecopy.pipeline`), not Prefect:
a worker starts in well under a second and stays small. `"dask"`: the `prepare` task runs itself in Dask
workers through prefect-dask's DaskTaskRunner, on a `distributed.LocalCluster` of process workers, or on an
existing scheduler when `address` is given.
Either way the flow's own process is the single writer: it commits batch k while the workers prepare the
batches after it, and it takes the prepared batches strictly in plan order, so the warehouse does not depend
on which worker finishes first.
"""

from __future__ import annotations

import multiprocessing
import os
import socket
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor
from typing import TYPE_CHECKING, TypeVar

from wirecopy import worker_process
from wirecopy.config import ComputeSettings

if TYPE_CHECKING:  # Prefect is imported by the flow, not by the work started ahead of it (flows/prepared.py)
    from prefect.task_runners import TaskRunner

Item = TypeVar("Item")
_END = object()
Future = TypeVar("Future")


def local_pool(workers: int, *, warm: bool = False) -> ProcessPoolExecutor:
    """Spawned worker processes for the local engine (spawn, not fork: the flow's process runs threads), with the
    writer's allocator settings (`wirecopy.process_memory`). `warm`: start every worker now, each loading the
    stages' modules and models (`pipeline.warm_up`), instead of at the first batch (a pool spawns a worker per
    submitted task while none is idle). A worker exits when the process that started it dies
    (`wirecopy.worker_process`)."""
    pool = ProcessPoolExecutor(
        max_workers=workers,
        mp_context=multiprocessing.get_context("spawn"),
        initializer=worker_process.start,
        initargs=(os.getpid(),),
    )
    if warm:
        from wirecopy.pipeline import warm_up

        for _ in range(workers):
            pool.submit(warm_up)
    return pool


def dask_task_runner(compute: ComputeSettings) -> TaskRunner:
    """prefect-dask's task runner on the configured cluster (not started: use it as a context manager)."""
    from prefect_dask import DaskTaskRunner

    if compute.address:
        return DaskTaskRunner(address=compute.address)
    return DaskTaskRunner(
        cluster_class="distributed.LocalCluster",
        cluster_kwargs={
            "n_workers": compute.worker_count(),
            "threads_per_worker": 1,  # the stages hold the GIL: one process per core
            "processes": True,
            "dashboard_address": None,
            "silence_logs": 40,
        },
    )


class SchedulerUnreachable(OSError):
    """Nothing answers at the configured Dask scheduler address."""


SCHEDULER_CHECK_SECONDS = 10.0


def check_scheduler(address: str, timeout: float = SCHEDULER_CHECK_SECONDS) -> None:
    """Fail fast, naming the address, when no scheduler listens at a tcp:// or tls:// `address` (distributed
    itself retries for 30 s and then says only that it timed out; and a run of one batch would never notice)."""
    scheme, _, location = address.partition("://")
    if scheme not in ("tcp", "tls"):
        return  # inproc://, ucx://: distributed checks them when it connects
    host, _, port = location.rpartition(":")
    if not host or not port.isdigit():
        raise SchedulerUnreachable(f"dask scheduler {address} (compute.address): no host:port to connect to")
    try:
        socket.create_connection((host.strip("[]"), int(port)), timeout=timeout).close()
    except OSError as error:
        reason = f"no answer in {timeout:g} s" if isinstance(error, TimeoutError) else error.strerror or str(error)
        raise SchedulerUnreachable(f"dask scheduler {address} (compute.address) is unreachable: {reason}") from error


def in_order(submit: Callable[[Item], Future], items: Iterable[Item], depth: int) -> Iterator[tuple[Item, Future]]:
    """Submit items `depth` ahead and yield (item, future) in the items' order. The next item is submitted
    before the oldest one is handed out, so the workers stay busy while the caller works on it; besides the one
    handed out, at most `depth` items are in flight, which bounds memory."""
    if depth < 1:
        raise ValueError(f"depth must be at least 1, got {depth}")
    pending: deque[tuple[Item, Future]] = deque()
    items = iter(items)
    for item in items:
        pending.append((item, submit(item)))
        if len(pending) >= depth:
            break
    while pending:
        oldest = pending.popleft()
        following = next(items, _END)
        if following is not _END:
            pending.append((following, submit(following)))
        yield oldest
