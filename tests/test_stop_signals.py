"""A SIGTERM whose exception is lost in flight (raised in a finalizer) still stops the run at the next batch."""

from __future__ import annotations

import os
import signal

import pytest
from prefect.exceptions import TerminationSignal
from wirecopy.flows.signals import stop_signals


def test_a_sigterm_whose_exception_was_lost_is_still_a_stop() -> None:
    lost: list[int] = []

    def swallowed(signum, frame) -> None:  # as when Prefect's handler raises inside an `__del__`: nothing escapes
        lost.append(signum)

    before = signal.signal(signal.SIGTERM, swallowed)
    try:
        with stop_signals() as stop:
            stop.check()  # nothing yet
            os.kill(os.getpid(), signal.SIGTERM)
            assert lost == [signal.SIGTERM]  # the handler installed before saw it (handlers run after the call)
            with pytest.raises(TerminationSignal):
                stop.check()
        assert signal.getsignal(signal.SIGTERM) is swallowed  # put back
    finally:
        signal.signal(signal.SIGTERM, before)


def test_an_ignored_sigterm_stays_ignored() -> None:
    before = signal.signal(signal.SIGTERM, signal.SIG_IGN)
    try:
        with stop_signals() as stop:
            os.kill(os.getpid(), signal.SIGTERM)
            stop.check()  # no stop: the process ignores SIGTERM
    finally:
        signal.signal(signal.SIGTERM, before)


def test_a_stop_raised_into_a_finalizer_is_noted_not_printed(capsys: pytest.CaptureFixture[str]) -> None:
    """Python hands an exception raised in `__del__` to `sys.unraisablehook`, which prints a traceback: a stop
    arriving there is noted for the run instead."""
    import gc

    class Finalized:
        def __del__(self) -> None:
            raise TerminationSignal(signal=signal.SIGTERM)

    with stop_signals() as stop:
        Finalized()
        gc.collect()
        with pytest.raises(TerminationSignal):
            stop.check()
    assert "Traceback" not in capsys.readouterr().err
