"""Candidate verification: every LSH candidate is checked on exact shingle sets before it becomes an edge."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

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
    """Exact Jaccard and containment on unique (deduplicated) shingle hashes; an Edge when either passes.

    Containment is the share of the smaller set found in the larger one (a pull-quote, a cut sentence,
    an added attribution). It names the method when it passes and clearly exceeds Jaccard.
    """
    set_a, set_b = shingles_a, shingles_b
    common = len(np.intersect1d(set_a, set_b, assume_unique=True))
    if common == 0:
        return None
    jaccard = common / (len(set_a) + len(set_b) - common)
    containment = common / min(len(set_a), len(set_b))
    if containment >= contain and containment - jaccard >= CONTAINMENT_MARGIN:
        return Edge(a, b, DedupMethod.CONTAINMENT, round(containment, 6), jaccard, containment)
    if jaccard >= near:
        return Edge(a, b, DedupMethod.NEAR, round(jaccard, 6), jaccard, containment)
    return None
