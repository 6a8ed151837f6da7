"""Vectorised shingling: a batch of normalised texts → one flat array of 32-bit shingle hashes.

Texts are concatenated and viewed as one array of code points, so no Python loop runs per token or
per shingle. A token's hash is a polynomial over its code points (mod 2^64, computed from prefix sums
and modular inverse powers), mixed so that it does not depend on where the token sits. Word n-grams
combine n consecutive token hashes of the same text; character n-grams are windows over the text.
Hashes are deterministic across processes and platforms (no Python `hash()`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np

from wirecopy.batching import batches

_BASE = np.uint64(0x100000001B3)  # FNV-64 prime: odd, hence invertible mod 2^64
_MIX1 = np.uint64(0xFF51AFD7ED558CCD)
_MIX2 = np.uint64(0xC4CEB9FE1A85EC53)
_SEPARATOR = 10  # "\n": never inside a normalised text
_SPACE = 32


@dataclass(frozen=True)
class ShingleSpec:
    """How paragraphs are cut into shingles: `word:3` = word 3-grams, `char:5` = character 5-grams."""

    kind: Literal["word", "char"] = "word"
    size: int = 3

    @classmethod
    def parse(cls, text: str) -> ShingleSpec:
        kind, _, size = text.partition(":")
        if kind not in ("word", "char") or not size.isdigit() or int(size) < 1:
            raise ValueError(f"shingle spec must look like 'word:3' or 'char:5', got {text!r}")
        return cls(kind=kind, size=int(size))  # type: ignore[arg-type]

    def __str__(self) -> str:
        return f"{self.kind}:{self.size}"


@dataclass(frozen=True)
class ShingleBatch:
    """Shingle hashes of many texts: text i owns `hashes[offsets[i]:offsets[i + 1]]` (≥ 1 each)."""

    hashes: np.ndarray  # uint32
    offsets: np.ndarray  # int64, len = n_texts + 1

    def counts(self) -> np.ndarray:
        return np.diff(self.offsets)

    def of(self, i: int) -> np.ndarray:
        return self.hashes[self.offsets[i] : self.offsets[i + 1]]


def _mix64(x: np.ndarray) -> np.ndarray:
    x = x ^ (x >> np.uint64(33))
    x = x * _MIX1
    x = x ^ (x >> np.uint64(33))
    x = x * _MIX2
    return x ^ (x >> np.uint64(33))


_POWERS: list[np.ndarray] = [np.ones(1, np.uint64), np.ones(1, np.uint64)]


def _powers(n: int) -> tuple[np.ndarray, np.ndarray]:
    """BASE^i and BASE^-i mod 2^64 for i in [0, n), cached and grown by doubling."""
    if len(_POWERS[0]) < n:
        size = max(n, 2 * len(_POWERS[0]))
        inverse = pow(int(_BASE), -1, 1 << 64)
        forward = np.full(size, _BASE, dtype=np.uint64)
        backward = np.full(size, np.uint64(inverse), dtype=np.uint64)
        forward[0] = backward[0] = 1
        _POWERS[0] = np.cumprod(forward, dtype=np.uint64)
        _POWERS[1] = np.cumprod(backward, dtype=np.uint64)
    return _POWERS[0][:n], _POWERS[1][:n]


def _span_hashes(prefix: np.ndarray, inverse_powers: np.ndarray, starts: np.ndarray, ends: np.ndarray):
    """Position-independent polynomial hash of code-point spans [start, end)."""
    return (prefix[ends] - prefix[starts]) * inverse_powers[starts]


_CHUNK_CHARACTERS = 1 << 16
"""Characters hashed per NumPy pass: the scratch arrays and the cached powers (16 bytes per character of the
longest chunk) stay in cache and near a MB; 2.5× faster than chunks of 2,048 texts. A longer text goes alone."""


def shingle_batch(texts: list[str], spec: ShingleSpec) -> ShingleBatch:
    """Hash every shingle of every text. A text shorter than one shingle yields one hash of all of it."""
    if not texts:
        return ShingleBatch(np.zeros(0, np.uint32), np.zeros(1, np.int64))
    parts = [_shingle_chunk(chunk, spec) for chunk in batches(texts, len, _CHUNK_CHARACTERS)]
    counts = np.concatenate([np.bincount(owner, minlength=n) for _, owner, n in parts])
    offsets = np.zeros(len(texts) + 1, dtype=np.int64)
    np.cumsum(counts, out=offsets[1:])
    return ShingleBatch(np.concatenate([hashes for hashes, _, _ in parts]), offsets)


def _shingle_chunk(texts: list[str], spec: ShingleSpec) -> tuple[np.ndarray, np.ndarray, int]:
    joined = "\n".join(texts) + "\n"
    points = np.frombuffer(joined.encode("utf-32-le"), dtype=np.uint32).astype(np.uint64)
    n = len(points)
    powers, inverse_powers = _powers(n + 1)
    with np.errstate(over="ignore"):
        prefix = np.zeros(n + 1, dtype=np.uint64)
        np.cumsum((points + np.uint64(1)) * powers[:n], dtype=np.uint64, out=prefix[1:])
    text_ends = np.flatnonzero(points == _SEPARATOR)  # one per text
    text_starts = np.concatenate(([0], text_ends[:-1] + 1))
    if spec.kind == "char":
        units_start, units_end, owner = _char_windows(text_starts, text_ends, spec.size)
        with np.errstate(over="ignore"):
            hashed = _mix64(_span_hashes(prefix, inverse_powers, units_start, units_end))
    else:
        hashed, owner = _word_ngrams(points, prefix, inverse_powers, text_starts, text_ends, spec.size)
    return (hashed >> np.uint64(32)).astype(np.uint32), owner, len(texts)


def distinct(batch: ShingleBatch) -> ShingleBatch:
    """The same texts with each one's shingles sorted and deduplicated: sets for exact Jaccard."""
    n_texts = len(batch.offsets) - 1
    owner = np.repeat(np.arange(n_texts, dtype=np.uint64), batch.counts())
    keyed = np.sort((owner << np.uint64(32)) | batch.hashes.astype(np.uint64))  # (text, hash) in one sort key
    first = np.ones(len(keyed), dtype=bool)
    np.not_equal(keyed[1:], keyed[:-1], out=first[1:])
    kept = keyed[first]
    offsets = np.zeros(n_texts + 1, dtype=np.int64)
    np.cumsum(np.bincount((kept >> np.uint64(32)).astype(np.int64), minlength=n_texts), out=offsets[1:])
    return ShingleBatch(kept.astype(np.uint32), offsets)


def _char_windows(text_starts: np.ndarray, text_ends: np.ndarray, size: int):
    lengths = text_ends - text_starts
    windows = np.maximum(lengths - size + 1, 1)
    owner = np.repeat(np.arange(len(lengths)), windows)
    first = np.repeat(text_starts, windows)
    local = np.arange(len(owner)) - np.repeat(np.cumsum(windows) - windows, windows)
    starts = first + local
    ends = np.minimum(starts + size, np.repeat(text_ends, windows))
    return starts, ends, owner


def _word_ngrams(points, prefix, inverse_powers, text_starts, text_ends, size: int):
    is_gap = (points == _SPACE) | (points == _SEPARATOR)
    boundary = np.diff(np.concatenate(([0], (~is_gap).astype(np.int8), [0])))
    token_starts = np.flatnonzero(boundary == 1)
    token_ends = np.flatnonzero(boundary == -1)
    with np.errstate(over="ignore"):
        token_hash = _mix64(_span_hashes(prefix, inverse_powers, token_starts, token_ends))
    token_owner = np.searchsorted(text_ends, token_starts)
    per_text = np.bincount(token_owner, minlength=len(text_starts))
    first_token = np.concatenate(([0], np.cumsum(per_text)[:-1]))
    grams = np.maximum(per_text - size + 1, 1)
    owner = np.repeat(np.arange(len(per_text)), grams)
    local = np.arange(len(owner)) - np.repeat(np.cumsum(grams) - grams, grams)
    start_token = np.repeat(first_token, grams) + local
    width = np.minimum(np.repeat(per_text, grams), size)
    combined = np.zeros(len(owner), dtype=np.uint64)
    padded = np.concatenate((token_hash, np.zeros(size, dtype=np.uint64)))
    with np.errstate(over="ignore"):
        for k in range(size):
            part = np.where(k < width, padded[start_token + k], np.uint64(0))
            combined = _mix64(combined * _BASE + part)
    return combined, owner
