"""Set operations on int64 arrays, by sorting; concatenated ranges.

NumPy 2.4's `np.unique` (and `setdiff1d`, which calls it) takes a hash-based path that is ~100× slower than
a sort on random 64-bit keys: 0.25 s instead of 3 ms for the 320,000 band keys of one batch
(measured on this project's benchmark machine). The dedup hot path uses these instead.
"""

from __future__ import annotations

import numpy as np


def unique(values: np.ndarray) -> np.ndarray:
    """Sorted distinct values of a 1-D array."""
    ordered = np.sort(values, axis=None)
    if len(ordered) < 2:
        return ordered
    keep = np.empty(len(ordered), dtype=bool)
    keep[0] = True
    np.not_equal(ordered[1:], ordered[:-1], out=keep[1:])
    return ordered[keep]


def by_key(keys: np.ndarray, values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """`keys` sorted and `values` in the same order; as given when `keys` are sorted already (one pass to check,
    against a sort)."""
    if len(keys) < 2 or bool((keys[1:] >= keys[:-1]).all()):
        return keys, values
    order = np.argsort(keys)
    return keys[order], values[order]


def isin(values: np.ndarray, allowed: np.ndarray) -> np.ndarray:
    """Boolean mask: which of `values` occur in `allowed`: a binary search in `allowed` sorted (NumPy's
    `isin(kind="sort")` sorts both arrays together, stably: 3× slower on a batch's band keys)."""
    if not len(allowed) or not len(values):
        return np.zeros(len(values), dtype=bool)
    ordered = np.sort(allowed, axis=None)
    found = np.searchsorted(ordered, values)
    found[found == len(ordered)] = 0
    return ordered[found] == values


def difference(values: np.ndarray, removed: np.ndarray) -> np.ndarray:
    """Sorted distinct values of `values` that are not in `removed`."""
    distinct = unique(values)
    return distinct[~isin(distinct, removed)]


def expand_ranges(starts: np.ndarray, sizes: np.ndarray) -> np.ndarray:
    """Concatenated aranges [start, start + size) for each pair, without a Python loop."""
    total = int(sizes.sum())
    if total == 0:
        return np.empty(0, dtype=np.int64)
    offsets = np.repeat(starts - np.concatenate(([0], np.cumsum(sizes)[:-1])), sizes)
    return offsets + np.arange(total, dtype=np.int64)
