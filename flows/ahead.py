"""Work started before a flow run, handed to it when it starts.

Before its flow run starts, a command imports Prefect and the flow (≈ 1 s) and, without a running Prefect API,
waits for a temporary server (3–5 s: `wirecopy.server.temporary_api`). The ingest command uses that time
(`wirecopy.flows.prepared.prepare_ahead`): a background thread of this process plans the file sources and
prepares their first batches by the same pipeline the flow runs. The flow run then `claim`s that work with the
key of its own plan; a key that differs (files changed meanwhile, another run stored documents) discards it and
the flow prepares everything itself, so the warehouse never depends on whether anything was done ahead.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Generator, Hashable
from typing import Generic, NamedTuple, TypeVar

Item = TypeVar("Item")


class Work(NamedTuple, Generic[Item]):
    """What a start function found to do: its key, the items to pull, how many at most, the seconds per stage
    that the items' producer records (it keeps recording after the take), and what produces them (for the run
    that takes them to adjust, e.g. `prepared.LocalEngine.observe`; its `close`, if any, is called when the work
    is discarded)."""

    key: Hashable
    items: Generator[Item]
    limit: int
    stages: dict[str, float]
    producer: object = None


class Ahead(Generic[Item]):
    """Runs `start` in a background thread (planning, say: None when there is nothing to do), then pulls the
    items it returns, at most `limit` of them, until taken or discarded."""

    def __init__(self, start: Callable[[], Work[Item] | None]) -> None:
        self.key: Hashable = None
        self.stages: dict[str, float] = {}
        self.producer: object = None
        self.seconds = 0.0
        self._start = start
        self._items: Generator[Item] | None = None
        self._pulled: list[Item] = []
        self._exhausted, self._error = False, None
        self._stop = threading.Event()
        self._started = time.perf_counter()
        self._thread = threading.Thread(target=self._run, name="wirecopy-ahead", daemon=True)
        self._thread.start()

    @property
    def pulled(self) -> int:
        return len(self._pulled)

    def _run(self) -> None:
        try:
            work = self._start()
            if work is None:
                return
            self.key, self._items, self.stages, self.producer = work.key, work.items, work.stages, work.producer
            while len(self._pulled) < max(1, work.limit) and not self._stop.is_set():
                self._pulled.append(next(self._items))
        except StopIteration:
            self._exhausted = True
        except BaseException as error:  # a bug: the flow discards this and prepares everything itself
            self._error = error

    def _halt(self) -> None:
        self._stop.set()
        self._thread.join()  # the step under way is finished first: a generator cannot be stopped mid-step

    def matches(self, key: Hashable) -> bool:
        """Whether this work was started under `key` (waits for its start to find its key)."""
        self._halt()
        return self._items is not None and self._error is None and self.key == key

    def take(self) -> Generator[Item] | None:
        """Stop pulling; the items pulled, then the rest (closed when the returned generator is). None, and
        everything discarded, when there is nothing or pulling failed. `seconds`: how long the work ran ahead."""
        self._halt()
        self.seconds = time.perf_counter() - self._started
        if self._items is None or self._error is not None:
            self.discard()
            return None
        return self._rest()

    def _rest(self) -> Generator[Item]:
        try:
            while self._pulled:
                yield self._pulled.pop(0)
            if not self._exhausted:
                yield from self._items
        finally:
            self._items.close()

    def discard(self) -> None:
        """Stop pulling and close the items, and the producer when it has a `close` (it stops its workers, even
        those started before the items were first pulled)."""
        self._halt()
        self._pulled.clear()
        if self._items is not None:
            self._items.close()
        close = getattr(self.producer, "close", None)
        if close is not None:
            close()


_handed: Ahead | None = None
_lock = threading.Lock()


def hand(ahead: Ahead) -> Ahead:
    """Keep `ahead` for the next `claim` in this process (one at a time: an unclaimed one is discarded)."""
    global _handed
    with _lock:
        previous, _handed = _handed, ahead
    if previous is not None:
        previous.discard()
    return ahead


def claim(key: Hashable) -> Ahead | None:
    """The work handed ahead under `key`, or None; work under another key (or none) is discarded."""
    global _handed
    with _lock:
        ahead, _handed = _handed, None
    if ahead is None:
        return None
    if not ahead.matches(key):
        ahead.discard()
        return None
    return ahead


def discard_unclaimed() -> None:
    """Discard work handed ahead that no run claimed (a command ends, a flow run failed before claiming it)."""
    global _handed
    with _lock:
        ahead, _handed = _handed, None
    if ahead is not None:
        ahead.discard()
