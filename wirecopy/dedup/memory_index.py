"""An empty `DedupIndex`: the engine's view of a warehouse that holds nothing yet (benchmarks, pure tests)."""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

from wirecopy.dedup.engine import ParagraphRef
from wirecopy.dedup.shingles import ShingleBatch
from wirecopy.dedup.verify import Edge


class MemoryIndex:
    """A `DedupIndex` with no stored texts: a batch is deduplicated against itself only."""

    def known_texts(self, hashes: Iterable[int]) -> set[int]:
        return set()

    def band_members(self, keys: np.ndarray, cap: int) -> tuple[np.ndarray, np.ndarray]:
        return np.empty(0, dtype=np.int64), np.empty(0, dtype=np.int64)

    def normalized_texts(self, hashes: Iterable[int]) -> dict[int, str]:
        return {}

    def sketches(self, hashes: np.ndarray, num_perm: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        return np.empty(0, dtype=np.int64), np.empty((0, num_perm), dtype=np.uint32), np.empty(0, dtype=np.int64)

    def shingle_sets(self, hashes: np.ndarray) -> ShingleBatch:
        if len(hashes):
            raise KeyError("no text is stored")
        return ShingleBatch(np.zeros(0, np.uint32), np.zeros(1, np.int64))

    def edges_touching(self, hashes: Iterable[int]) -> list[Edge]:
        return []

    def paragraphs_of(self, hashes: Iterable[int]) -> list[ParagraphRef]:
        return []

    def conflicts_among(self, hashes: Iterable[int]) -> set[tuple[int, int]]:
        return set()
