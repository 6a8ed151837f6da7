"""Candidates across shingle kinds: a short text (single-word shingles) and a paragraph of `min_tokens` words or
more (word 3-grams) have signatures of different kinds, so no stored band key of one can meet the other's.

Each new text near the boundary also computes the band keys of the *other* kind and looks them up (never stored):
a short text its word-3-gram keys, a paragraph of up to `widest` words its single-word keys. So that the result
does not depend on which of the two arrived first, a pair found that way is kept only when it collides in a band
of *both* kinds (each text's keys of both kinds are recomputed from its text) and the longer has at most `widest`
words: the same condition whichever side looked it up. Survivors are prefiltered on single-word shingle sets.
"""

from __future__ import annotations

import numpy as np

from wirecopy.dedup import arrays
from wirecopy.dedup.candidates import distinct_pairs
from wirecopy.dedup.minhash import band_keys, signatures
from wirecopy.dedup.settings import DedupSettings
from wirecopy.dedup.shingles import distinct, shingle_batch
from wirecopy.dedup.verify import judge_pairs

WIDEST_FACTOR = 1.5
"""`widest` = (min_tokens − 1) / b1_longer × this: B1 is measured on discounted stems, and a paragraph loses up to
a third of its words to discounting, so a short text can be B1-inside a paragraph of more raw words than the
plain ratio allows."""


def widest(settings: DedupSettings) -> int:
    """The most words a paragraph may have and still hold a short text as a duplicate."""
    return int((settings.min_tokens - 1) / settings.b1_longer * WIDEST_FACTOR)


def words(text: str) -> int:
    return text.count(" ") + 1 if text else 0


def query_bands(texts: list[str], settings: DedupSettings) -> tuple[np.ndarray, np.ndarray]:
    """(rows, keys): for each text of at most `widest` words, its band keys of the other shingle kind."""
    counts = np.array([words(t) for t in texts], dtype=np.int32)
    rows = np.flatnonzero(counts <= widest(settings))
    keys = np.empty((len(rows), settings.bands), dtype=np.int64)
    short = counts[rows] < settings.min_tokens
    for is_short, spec in ((True, settings.shingle_spec), (False, settings.short_shingle_spec)):
        chosen = short == is_short
        if chosen.any():
            keys[chosen] = _keys([texts[i] for i in rows[chosen]], spec, settings)
    return rows, keys


def _keys(texts: list[str], spec, settings: DedupSettings) -> np.ndarray:
    batch = shingle_batch(texts, spec)
    return band_keys(signatures(batch, settings.num_perm, settings.seed), settings.bands, settings.rows)


def looked_up(
    query_keys: np.ndarray, query_nodes: np.ndarray, own_keys: np.ndarray, own_nodes: np.ndarray, cap: int
) -> np.ndarray:
    """Distinct (a, b) pairs, a < b, of a query key meeting a stored or new own key in a bucket of at most `cap`."""
    keys, nodes = arrays.by_key(own_keys, own_nodes)  # the order inside a bucket does not matter: pairs are sorted
    low = np.searchsorted(keys, query_keys, side="left")
    high = np.searchsorted(keys, query_keys, side="right")
    sizes = high - low
    usable = (sizes > 0) & (sizes <= cap)
    members = nodes[arrays.expand_ranges(low[usable], sizes[usable])]
    askers = np.repeat(query_nodes[usable], sizes[usable])
    return distinct_pairs(askers, members)


def prefiltered(pairs: np.ndarray, texts: dict[int, str], settings: DedupSettings) -> list[tuple[int, int]]:
    """The pairs, one short text and one of `min_tokens`..`widest` words, that collide in a band of both kinds and
    pass the single-word shingle prefilter."""
    if not len(pairs):
        return []
    limit = widest(settings)
    size = {h: words(t) for h, t in texts.items()}
    kept = [
        (a, b)
        for a, b in pairs.tolist()
        if (size[a] < settings.min_tokens) != (size[b] < settings.min_tokens) and max(size[a], size[b]) <= limit
    ]
    if not kept:
        return []
    ordered = sorted({h for pair in kept for h in pair})
    row = {h: i for i, h in enumerate(ordered)}
    chosen = [texts[h] for h in ordered]
    both = [_keys(chosen, spec, settings) for spec in (settings.shingle_spec, settings.short_shingle_spec)]
    ia = np.array([row[a] for a, _ in kept], dtype=np.int64)
    ib = np.array([row[b] for _, b in kept], dtype=np.int64)
    collide = np.ones(len(kept), dtype=bool)
    for keys in both:
        collide &= (keys[ia][:, :, None] == keys[ib][:, None, :]).any(axis=(1, 2))
    ia, ib = ia[collide], ib[collide]
    if not len(ia):
        return []
    sets = distinct(shingle_batch(chosen, settings.short_shingle_spec))
    starts, counts = sets.offsets[:-1], sets.counts()
    ids = np.array(ordered, dtype=np.int64)
    edges = judge_pairs(
        ids[ia], ids[ib], sets.hashes, starts[ia], counts[ia], starts[ib], counts[ib],
        settings.prefilter_jaccard, settings.prefilter_containment,
    )  # fmt: skip
    return [(e.a, e.b) for e in edges]
