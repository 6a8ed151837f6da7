"""Work started before a flow run (`wirecopy.flows.ahead`): pulled in a background thread up to a limit, handed
to the run that claims it with the same key, discarded (its producer closed) otherwise. Plain threads, no Prefect."""

from __future__ import annotations

import itertools
import threading

import pytest
from wirecopy.deployments.served import wait_until
from wirecopy.flows import ahead
from wirecopy.flows.ahead import Ahead, Work


class Producer:
    """A generator of 0, 1, 2, … that records whether it was closed (its `finally`: where a pipeline stops its
    workers) and can fail at one item."""

    def __init__(self, stop: int | None = None, fail_at: int | None = None) -> None:
        self.closed = False
        self.stop, self.fail_at = stop, fail_at

    def items(self):
        try:
            for number in itertools.count() if self.stop is None else range(self.stop):
                if number == self.fail_at:
                    raise RuntimeError(f"item {number} failed")
                yield number
        finally:
            self.closed = True


def _settled(handed: Ahead) -> bool:
    return not handed._thread.is_alive()


def _ahead(key, producer: Producer, limit: int) -> Ahead:
    return Ahead(lambda: Work(key, producer.items(), limit, {}))


def test_pulls_at_most_the_limit_then_hands_over_every_item_in_order() -> None:
    producer = Producer()
    handed = _ahead("key", producer, limit=3)
    wait_until(lambda: _settled(handed), 30, what="the pulling thread to stop at its limit")
    assert handed.pulled == 3 and not producer.closed
    taken = handed.take()
    assert list(itertools.islice(taken, 6)) == [0, 1, 2, 3, 4, 5]  # the pulled ones, then the producer's own
    taken.close()
    assert producer.closed and handed.seconds > 0


def test_a_producer_shorter_than_the_limit_is_handed_over_whole() -> None:
    producer = Producer(stop=2)
    handed = _ahead("key", producer, limit=5)
    wait_until(lambda: _settled(handed), 30, what="the producer exhausted")
    assert list(handed.take()) == [0, 1] and producer.closed


def test_nothing_to_start_or_a_failing_start_hands_nothing_over(nothing_handed) -> None:
    assert Ahead(lambda: None).take() is None
    ahead.hand(Ahead(lambda: None))
    assert ahead.claim(None) is None  # not even under the key of "no key"

    def failing() -> Work:
        raise OSError("no such folder")

    assert Ahead(failing).take() is None


def test_a_failure_while_pulling_discards_the_work() -> None:
    producer = Producer(fail_at=1)
    handed = _ahead("key", producer, limit=5)
    wait_until(lambda: _settled(handed), 30, what="the failure")
    assert handed.take() is None and producer.closed


@pytest.fixture
def nothing_handed():
    ahead.discard_unclaimed()
    yield
    ahead.discard_unclaimed()


def test_only_a_claim_with_the_same_key_gets_the_work(nothing_handed) -> None:
    first, second = Producer(), Producer()
    ahead.hand(_ahead(("plan", 1), first, limit=2))
    assert ahead.claim(("plan", 2)) is None and first.closed  # another plan: discarded, its producer closed
    ahead.hand(_ahead(("plan", 1), second, limit=2))
    claimed = ahead.claim(("plan", 1))
    assert claimed is not None and ahead.claim(("plan", 1)) is None  # claimed once
    taken = claimed.take()
    assert next(taken) == 0
    taken.close()
    assert second.closed


def test_handing_new_work_discards_the_unclaimed_one(nothing_handed) -> None:
    old, new = Producer(), Producer()
    ahead.hand(_ahead("a", old, limit=1))
    ahead.hand(_ahead("b", new, limit=1))
    assert old.closed and not new.closed
    ahead.discard_unclaimed()
    assert new.closed


def test_discarding_work_closes_its_producer_even_before_its_items_were_pulled(nothing_handed) -> None:
    """A producer that started workers before its items (`prepared.LocalEngine`, warmed) is closed when the
    work is discarded, even if the first item was never pulled (the generator's own `finally` never ran)."""

    class Engine:
        closed = 0

        def close(self) -> None:
            self.closed += 1

    engine, producer = Engine(), Producer()
    handed = ahead.hand(Ahead(lambda: Work("key", producer.items(), 0, {}, engine)))
    wait_until(lambda: _settled(handed), 30, what="the first item pulled")
    assert ahead.claim("other key") is None and engine.closed == 1 and producer.closed
    never_pulled, planned = Producer(), threading.Event()

    def start() -> Work:
        planned.wait(30)
        return Work("key", never_pulled.items(), 1, {}, engine)

    started = Ahead(start)
    started._stop.set()  # as when a run claims the work while its thread still plans: nothing is pulled
    planned.set()
    wait_until(lambda: _settled(started), 30, what="the start")
    started.discard()
    assert engine.closed == 2 and not never_pulled.closed  # a generator never started has no finally to run
