"""Progress of long runs (ingest, reprocess), told to whoever listens in this process: the CLI's progress bars.
Flows call `advance`; with no listener it does nothing. Plain Python, no Prefect: tasks running in threads of
the same process reach the same listeners."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass


@dataclass(frozen=True)
class Step:
    stage: str  # "ingest", "reprocess"
    advance: int = 0  # units done since the last step (files, raw documents)
    total: int | None = None  # units in all, when it becomes known


_listeners: list[Callable[[Step], None]] = []
_lock = threading.Lock()


@contextmanager
def listening(callback: Callable[[Step], None]) -> Iterator[None]:
    """Call `callback(step)` for every step reported while the block runs."""
    with _lock:
        _listeners.append(callback)
    try:
        yield
    finally:
        with _lock:
            _listeners.remove(callback)


def advance(stage: str, amount: int = 0, *, total: int | None = None) -> None:
    """Report `amount` more units of `stage` done (and its `total` when known)."""
    with _lock:
        listeners = list(_listeners)
    for callback in listeners:
        callback(Step(stage, amount, total))
