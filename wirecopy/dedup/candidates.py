"""LSH candidate pairs from band keys, with oversized buckets left out so no common line goes quadratic."""

from __future__ import annotations

import numpy as np

from wirecopy.dedup import arrays


def pairs_from_buckets(
    band_keys: np.ndarray,
    node_ids: np.ndarray,
    cap: int,
    anchors: np.ndarray | None = None,
) -> np.ndarray:
    """Distinct (a, b) node pairs, a < b, that share a band key in a bucket of at most `cap` nodes; with `anchors`
    (a bool per row), only the pairs with at least one anchor row: each anchor with every member of its bucket,
    no pairs among the others made.

    `band_keys` is (n, bands) int64 and `node_ids` (n,) int64, one row per distinct text.
    Returns an (m, 2) int64 array sorted lexicographically.
    """
    if len(node_ids) < 2:
        return _NO_PAIRS
    width = band_keys.shape[1]
    flags = () if anchors is None else (np.repeat(anchors, width),)
    # by bucket; the order inside a bucket does not matter: the pairs are sorted at the end
    keys, owners, *anchored = arrays.by_key(band_keys.ravel(), np.repeat(node_ids, width), *flags)
    starts = np.flatnonzero(np.concatenate(([True], keys[1:] != keys[:-1])))
    sizes = np.diff(np.concatenate((starts, [len(keys)])))
    useful = (sizes >= 2) & (sizes <= cap)
    if anchors is None:
        a, b = _all_pairs(owners, starts[useful], sizes[useful])
    else:
        a, b = _anchored_pairs(owners, starts, sizes, useful, anchored[0])
    return distinct_pairs(a, b)


_NO_PAIRS = np.zeros((0, 2), dtype=np.int64)


def _all_pairs(owners: np.ndarray, starts: np.ndarray, sizes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    left: list[np.ndarray] = []
    right: list[np.ndarray] = []
    for size in arrays.unique(sizes).tolist():
        group_starts = starts[sizes == size]
        i, j = np.triu_indices(size, k=1)
        left.append(owners[group_starts[:, None] + i[None, :]].ravel())
        right.append(owners[group_starts[:, None] + j[None, :]].ravel())
    if not left:
        return _NO_PAIRS[:, 0], _NO_PAIRS[:, 1]
    return np.concatenate(left), np.concatenate(right)


def _anchored_pairs(
    owners: np.ndarray, starts: np.ndarray, sizes: np.ndarray, useful: np.ndarray, anchor: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    bucket = np.repeat(np.arange(len(starts)), sizes)
    anchors = np.flatnonzero(useful[bucket] & anchor)
    members = arrays.expand_ranges(starts[bucket[anchors]], sizes[bucket[anchors]])
    return np.repeat(owners[anchors], sizes[bucket[anchors]]), owners[members]


def distinct_pairs(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """The distinct pairs (min, max) of a[i], b[i], a[i] != b[i], as an (m, 2) array sorted lexicographically."""
    low, high = np.minimum(a, b), np.maximum(a, b)
    keep = low != high
    low, high = low[keep], high[keep]
    order = np.lexsort((high, low))  # sort by (low, high), then drop repeats: far faster than unique(axis=0)
    low, high = low[order], high[order]
    first = np.ones(len(low), dtype=bool)
    first[1:] = (low[1:] != low[:-1]) | (high[1:] != high[:-1])
    return np.stack((low[first], high[first]), axis=1)
