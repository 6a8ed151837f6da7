"""Candidate verification: every LSH candidate is checked on exact shingle sets before it becomes an edge."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from wirecopy.batching import bounded_slices
from wirecopy.dedup import arrays
from wirecopy.models import DedupMethod

CONTAINMENT_MARGIN = 0.1
"""A match is called containment, not near, when one side holds clearly more than the other shares."""


@dataclass(frozen=True)
class Edge:
    """A verified match between two distinct normalised texts (graph nodes)."""

    a: int
    b: int
    method: DedupMethod
    similarity: float
    jaccard: float
    containment: float


def estimated_jaccard(sig_a: np.ndarray, sig_b: np.ndarray) -> np.ndarray:
    """Row-wise MinHash Jaccard estimate for two aligned signature matrices."""
    return (sig_a == sig_b).mean(axis=1)


def plausible(est_jaccard: np.ndarray, size_a: np.ndarray, size_b: np.ndarray, near: float, contain: float):
    """Cheap vectorised pre-filter on signature estimates, generous enough to keep true matches.

    Containment follows from Jaccard and set sizes: |A∩B| = J(|A|+|B|)/(1+J).
    """
    overlap = est_jaccard * (size_a + size_b) / (1.0 + est_jaccard)
    est_containment = overlap / np.minimum(size_a, size_b)
    return (est_jaccard >= near - 0.2) | (est_containment >= contain - 0.3)


def judge(a: int, b: int, shingles_a: np.ndarray, shingles_b: np.ndarray, near: float, contain: float) -> Edge | None:
    """`judge_pairs` for one pair of texts, given their distinct sorted shingle hashes."""
    hashes = np.concatenate((shingles_a, shingles_b))
    edges = judge_pairs(
        np.array([a]), np.array([b]), hashes, np.array([0]), np.array([len(shingles_a)]),
        np.array([len(shingles_a)]), np.array([len(shingles_b)]), near, contain,
    )  # fmt: skip
    return edges[0] if edges else None


def judge_pairs(
    ids_a: np.ndarray, ids_b: np.ndarray, hashes: np.ndarray,
    starts_a: np.ndarray, sizes_a: np.ndarray, starts_b: np.ndarray, sizes_b: np.ndarray,
    near: float, contain: float,
) -> list[Edge]:  # fmt: skip
    """Exact Jaccard and containment for every candidate pair; an Edge for each pair where either passes.

    Pair i joins text `ids_a[i]`, whose distinct sorted shingle hashes are `hashes[starts_a[i]:][:sizes_a[i]]`,
    with text `ids_b[i]` (likewise). Containment is the share of the smaller set found in the larger one (a
    pull-quote, a cut sentence, an added attribution). It names the method when it passes and clearly exceeds
    Jaccard.
    """
    common = np.zeros(len(ids_a), dtype=np.int64)
    for part in bounded_slices(sizes_a + sizes_b, VERIFY_CHUNK_SHINGLES):
        common[part] = _shared_shingles(hashes, starts_a[part], sizes_a[part], starts_b[part], sizes_b[part])
    with np.errstate(divide="ignore", invalid="ignore"):
        jaccard = common / (sizes_a + sizes_b - common)
        containment = common / np.minimum(sizes_a, sizes_b)
    contained = (common > 0) & (containment >= contain) & (containment - jaccard >= CONTAINMENT_MARGIN)
    similar = (common > 0) & ~contained & (jaccard >= near)
    edges = []
    for i in np.flatnonzero(contained | similar).tolist():
        j, c = float(jaccard[i]), float(containment[i])
        method, similarity = (DedupMethod.CONTAINMENT, c) if contained[i] else (DedupMethod.NEAR, j)
        edges.append(Edge(int(ids_a[i]), int(ids_b[i]), method, round(similarity, 6), j, c))
    return edges


VERIFY_CHUNK_SHINGLES = 1 << 21
"""Shingles (both sides of each pair) sorted at once: ≈ 16 MB of tagged hashes, whatever the number of pairs (a
batch of widely syndicated copies can have hundreds of thousands of candidates, ≈ 1.9 KB each)."""


def _shared_shingles(
    hashes: np.ndarray, starts_a: np.ndarray, sizes_a: np.ndarray, starts_b: np.ndarray, sizes_b: np.ndarray
) -> np.ndarray:
    """Shingles each pair's two sets share. Both sides' hashes are tagged with the pair's number and sorted
    together: a hash the two sides share appears twice in a row, so the intersections are counted in one pass."""
    pairs = np.arange(len(sizes_a), dtype=np.uint64)
    tagged = np.concatenate([
        (np.repeat(pairs, sizes) << np.uint64(32)) | hashes[arrays.expand_ranges(starts, sizes)].astype(np.uint64)
        for starts, sizes in ((starts_a, sizes_a), (starts_b, sizes_b))
    ])  # fmt: skip
    tagged.sort(kind="stable")  # two ascending runs (each side in pair order, each set sorted): merged in one pass
    shared = tagged[1:][tagged[1:] == tagged[:-1]]
    return np.bincount((shared >> np.uint64(32)).astype(np.int64), minlength=len(sizes_a))
