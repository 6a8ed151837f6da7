"""Set-up of a spawned worker process of the local engine: the allocator settings (`process_memory`), and an
exit as soon as the process that started it is gone.

A pool's workers wait on its call queue; when its owner dies without shutting the pool down (SIGKILL, or a
`wirecopy server` stopped by a signal to its own pid while a flow run's process had a pool), nothing tells them,
and they would live on, holding memory and the flow run's environment, for good.
"""

from __future__ import annotations

import os
import threading
import time

from wirecopy import process_memory

PARENT_POLL_SECONDS = 0.5


def start(owner: int) -> None:
    """The pool's initializer; `owner`: the pid of the process that made the pool (given, not read here: should it
    die while this process starts, this process already has another parent)."""
    process_memory.configure_worker()
    exit_with_parent(owner)


def exit_with_parent(parent: int, poll_seconds: float = PARENT_POLL_SECONDS) -> threading.Thread:
    """A daemon thread that ends this process once its parent is no longer `parent` (it died: the process was
    handed to another)."""

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(poll_seconds)
        os._exit(1)

    thread = threading.Thread(target=watch, name="exit-with-parent", daemon=True)
    thread.start()
    return thread
