"""A SIGTERM (or the Ctrl-C the CLI turns into one) that must stop a run even when its exception is lost.

Prefect's flow engine answers SIGTERM by raising `TerminationSignal` from the signal handler, in whatever frame
runs at that moment. When that frame is a finalizer (an asyncio transport's `__del__`), Python prints
"Exception ignored in …" and the run goes on as if no signal came (a clean-clone CI run saw an interrupted ingest
complete and exit 0). `stop_signals` notes every SIGTERM before Prefect's handler runs, and the run checks the note
between batches.
"""

from __future__ import annotations

import signal
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager


class StopRequest:
    """Whether a SIGTERM arrived while the block ran."""

    def __init__(self) -> None:
        self._seen = threading.Event()

    def note(self) -> None:
        self._seen.set()

    def check(self) -> None:
        """Stop the run as Prefect's handler would have, if a SIGTERM arrived and its exception was lost."""
        if self._seen.is_set():
            from prefect.exceptions import TerminationSignal

            raise TerminationSignal(signal=signal.SIGTERM)


@contextmanager
def stop_signals() -> Iterator[StopRequest]:
    """Note SIGTERMs in the returned request, then hand each to the handler installed before (Prefect's, in a
    flow run). Off the main thread (no signal handler can be set there) the request never fires."""
    request = StopRequest()
    if threading.current_thread() is not threading.main_thread():
        yield request
        return
    previous = signal.getsignal(signal.SIGTERM)

    def noted(signum, frame) -> None:
        if previous == signal.SIG_IGN:
            return
        request.note()
        if callable(previous):
            previous(signum, frame)
        else:  # the default action: stop
            raise KeyboardInterrupt

    previous_hook = sys.unraisablehook

    def unraisable(event) -> None:  # the stop raised into a finalizer: noted here, not printed as a traceback
        if type(event.exc_value).__name__ in ("TerminationSignal", "KeyboardInterrupt"):
            request.note()
        else:
            previous_hook(event)

    signal.signal(signal.SIGTERM, noted)
    sys.unraisablehook = unraisable
    try:
        yield request
    finally:
        signal.signal(signal.SIGTERM, previous)
        sys.unraisablehook = previous_hook
