"""Groups are bounded by size and count, keep input order, and give an oversized item its own group."""

from __future__ import annotations

from wirecopy.batching import batches


def test_batches_close_at_the_count_or_the_byte_bound() -> None:
    sizes = [4, 4, 4, 4, 4]
    assert batches(sizes, int, max_size=100, max_items=2) == [[4, 4], [4, 4], [4]]
    assert batches(sizes, int, max_size=8, max_items=10) == [[4, 4], [4, 4], [4]]
    assert batches(sizes, int, max_size=12) == [[4, 4, 4], [4, 4]]


def test_an_item_over_the_byte_bound_is_loaded_alone_and_order_is_kept() -> None:
    assert batches([1, 50, 2, 3, 60], int, max_size=10) == [[1], [50], [2, 3], [60]]
    items = list(range(1, 30))
    grouped = batches(items, int, max_size=40, max_items=4)
    assert [x for group in grouped for x in group] == items
    assert all(len(g) <= 4 and (sum(g) <= 40 or len(g) == 1) for g in grouped)


def test_no_items_no_batches() -> None:
    assert batches([], int, max_size=3, max_items=3) == []
