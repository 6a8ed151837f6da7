"""Work started before a flow run, handed to it when it starts.

A command without a running Prefect API starts a temporary server first: 3–5 s during which the command's
process only waits (`wirecopy.server.temporary_api`). The ingest command uses them (`ingest.prepare_ahead`): the
file sources are planned and their first batches prepared by the same pipeline the flow runs, pulled by a
background thread of this process. The flow run then `claim`s that work with the key of its own plan; a key that
differs (files changed meanwhile, another run stored documents) discards it and the flow prepares everything
itself, so the warehouse never depends on whether anything was done ahead.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Generator, Hashable
from typing import Generic, TypeVar

Item = TypeVar("Item")


class Ahead(Generic[Item]):
    """Pulls items from `items` in a background thread, at most `limit` of them, until taken or discarded.
    `stages`: the seconds per stage that the items' producer records (it keeps recording after the take)."""

    def __init__(self, key: Hashable, items: Generator[Item], limit: int, stages: dict[str, float]) -> None:
        self.key, self.stages, self.seconds = key, stages, 0.0
        self._items, self._limit = items, max(1, limit)
        self._pulled: list[Item] = []
        self._exhausted, self._error = False, None
        self._stop = threading.Event()
        self._started = time.perf_counter()
        self._thread = threading.Thread(target=self._pull, name="wirecopy-ahead", daemon=True)
        self._thread.start()

    @property
    def pulled(self) -> int:
        return len(self._pulled)

    def _pull(self) -> None:
        try:
            while len(self._pulled) < self._limit and not self._stop.is_set():
                self._pulled.append(next(self._items))
        except StopIteration:
            self._exhausted = True
        except BaseException as error:  # a bug: the flow discards this and prepares everything itself
            self._error = error

    def _halt(self) -> None:
        self._stop.set()
        self._thread.join()  # the item being pulled is finished first: a generator cannot be stopped mid-step

    def take(self) -> Generator[Item] | None:
        """Stop pulling; the items pulled, then the rest of `items` (closed when the returned generator is).
        None, and everything discarded, when pulling failed. `seconds`: how long the work ran ahead."""
        self._halt()
        self.seconds = time.perf_counter() - self._started
        if self._error is not None:
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
        """Stop pulling and close `items` (its producer stops its workers)."""
        self._halt()
        self._pulled.clear()
        self._items.close()


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
    """The work handed ahead under `key`, or None; work under another key is discarded."""
    global _handed
    with _lock:
        ahead, _handed = _handed, None
    if ahead is None:
        return None
    if ahead.key != key:
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
