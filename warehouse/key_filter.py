"""A Bloom filter per LSH run, so a lookup searches a run only for the keys it may hold.

A batch looks up 320,000 band keys, and a run of a million-paragraph store holds about 7% of them: a binary
search of every key in every run cost 0.14 s a batch at 1 M paragraphs, nearly all of it for keys that are in
no run (bench/dedup.py). The filter answers "not here" for most keys for a fraction of that.

Layout: one 64-bit word per `BITS_PER_KEY / 64` keys; a key sets `HASHES` bits of one word (a register-blocked
Bloom filter: one word read per key, ≈ 1% false positives at 12 bits per key, never a false negative). The
word is chosen by the key's top 32 bits, so it grows with the key: a run, which is sorted, writes its filter
front to back in one streaming pass (`FilterWriter`), without holding it in memory. Band keys are hashes, so
their top bits spread evenly over the words; the bits within a word come from a multiplicative mix of the whole
key, so even keys that are not hashes keep the filter correct (only less selective). Any change to how keys map
to words or bits must bump `lsh_store.FORMAT`, so that stores written before it are rebuilt.
"""

from __future__ import annotations

from typing import BinaryIO

import numpy as np
from wirecopy.warehouse import mapped_files

BITS_PER_KEY = 12
HASHES = 4
"""Bits a key sets in its word (at most 8: one per byte of a 64-bit mix)."""
WORD = np.dtype("<u8")
_SIGN = np.uint64(1 << 63)
_MIX = np.uint64(0x9E3779B97F4A7C15)


MAX_WORDS = 1 << 31
"""`word_index` multiplies in int64: a filter has fewer words (a run fewer than 11 billion keys)."""


def words_for(keys: int) -> int:
    """Words of the filter of a run of `keys` keys."""
    words = max(1, -(-keys * BITS_PER_KEY // 64))
    if words >= MAX_WORDS:
        raise OverflowError(f"an LSH run of {keys:,} band keys is beyond its filter's {MAX_WORDS - 1:,} words")
    return words


class Probe:
    """What a lookup computes once for its keys and uses on every run's filter."""

    def __init__(self, keys: np.ndarray):
        self.top = top_bits(keys)
        self.masks = bit_masks(keys)


def top_bits(keys: np.ndarray) -> np.ndarray:
    """The top 32 bits of each int64 key in unsigned order (non-decreasing in the key), as int64."""
    return ((np.ascontiguousarray(keys).view(np.uint64) ^ _SIGN) >> np.uint64(32)).view(np.int64)


def word_index(top: np.ndarray, words: int) -> np.ndarray:
    """Word of each key, from its `top_bits`: non-decreasing in the key, in [0, words) (words < 2**31)."""
    index = np.multiply(top, words)
    return np.right_shift(index, 32, out=index)


_BIT = np.left_shift(np.uint64(1), np.arange(256, dtype=np.uint64) % np.uint64(64))  # a byte's low 6 bits → bit


def bit_masks(keys: np.ndarray) -> np.ndarray:
    """The bits each key sets in its word (one per top byte of a multiplicative mix of the key)."""
    with np.errstate(over="ignore"):
        mixed = np.ascontiguousarray(keys).view(np.uint64) * _MIX
    top_bytes = mixed.view(np.uint8).reshape(-1, 8)[:, 8 - HASHES :]  # little-endian: the last bytes are the top
    masks = _BIT[top_bytes[:, 0]]
    for h in range(1, HASHES):
        masks |= _BIT[top_bytes[:, h]]
    return masks


SMALL_FILTER_WORDS = 1 << 19
"""Filters up to 4 MB are read whole; larger ones are gathered from a mapping a window at a time."""


def may_hold(path, words: int, probe: Probe) -> np.ndarray:
    """Whether the filter of `words` words in `path` may hold each of the probe's sorted keys."""
    index = word_index(probe.top, words)
    if words <= SMALL_FILTER_WORDS:
        stored = np.fromfile(path, dtype=WORD, count=words)[index]
    else:
        stored = mapped_files.gather(path, WORD, words, index)
    return (stored & probe.masks) == probe.masks


class FilterWriter:
    """Writes the filter of a run of `keys` keys to `handle` while the run's keys arrive in sorted order."""

    def __init__(self, handle: BinaryIO, keys: int):
        self.handle = handle
        self.words = words_for(keys)
        self.next_word = 0  # the lowest word not written yet …
        self.pending = np.uint64(0)  # … and its bits so far

    def add(self, sorted_keys: np.ndarray) -> None:
        if not len(sorted_keys):
            return
        index = word_index(top_bits(sorted_keys), self.words)
        if index[0] < self.next_word:
            raise ValueError("filter keys must arrive in sorted order")
        starts = np.flatnonzero(np.diff(index, prepend=-1))
        dense = np.zeros(int(index[-1]) - self.next_word + 1, dtype=np.uint64)
        dense[index[starts] - self.next_word] = np.bitwise_or.reduceat(bit_masks(sorted_keys), starts)
        dense[0] |= self.pending
        dense[:-1].astype(WORD, copy=False).tofile(self.handle)
        self.next_word, self.pending = int(index[-1]), dense[-1]

    def finish(self) -> None:
        """Write the last word and the empty words after it."""
        tail = np.zeros(self.words - self.next_word, dtype=WORD)
        tail[0] = self.pending
        tail.tofile(self.handle)
        self.next_word = self.words
