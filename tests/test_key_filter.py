"""The LSH runs' Bloom filter: never a false negative, written in one streaming pass equal to one shot, and
selective on hash-like band keys."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from wirecopy.warehouse import key_filter


def write_filter(path: Path, keys: np.ndarray, pieces: int) -> int:
    """The filter of sorted `keys`, fed to the writer in `pieces` slices; returns its word count."""
    with open(path, "wb") as handle:
        writer = key_filter.FilterWriter(handle, len(keys))
        for piece in np.array_split(keys, pieces):
            writer.add(piece)
        writer.finish()
    return writer.words


def may_hold(path: Path, words: int, queries: np.ndarray) -> np.ndarray:
    queries = np.unique(queries)
    return queries, key_filter.may_hold(path, words, key_filter.Probe(queries))


@pytest.mark.parametrize("read_whole", [True, False])  # a small filter is read whole, a large one gathered
@pytest.mark.parametrize("key_space", [50, 2**63 - 1])  # crowded small keys (all in one word) and hash-like keys
def test_every_stored_key_passes_and_the_file_has_the_expected_size(
    tmp_path: Path, key_space: int, read_whole: bool, monkeypatch
) -> None:
    if not read_whole:
        monkeypatch.setattr(key_filter, "SMALL_FILTER_WORDS", 0)
    rng = np.random.default_rng(4)
    keys = np.sort(rng.integers(-key_space, key_space, 5_000, dtype=np.int64))
    words = write_filter(tmp_path / "f", keys, pieces=7)
    assert (tmp_path / "f").stat().st_size == words * 8 == key_filter.words_for(len(keys)) * 8
    _, passes = may_hold(tmp_path / "f", words, keys)
    assert passes.all()


def test_streaming_in_pieces_writes_the_same_filter_as_one_shot(tmp_path: Path) -> None:
    rng = np.random.default_rng(5)
    keys = np.sort(rng.integers(-(2**63), 2**63 - 1, 3_000, dtype=np.int64))
    keys = np.sort(np.concatenate((keys, keys[::10])))  # repeated keys, some split across pieces
    write_filter(tmp_path / "one", keys, pieces=1)
    write_filter(tmp_path / "many", keys, pieces=31)
    assert (tmp_path / "one").read_bytes() == (tmp_path / "many").read_bytes()


def test_hash_like_keys_not_stored_mostly_fail(tmp_path: Path) -> None:
    rng = np.random.default_rng(6)
    keys = np.sort(rng.integers(-(2**63), 2**63 - 1, 200_000, dtype=np.int64))
    words = write_filter(tmp_path / "f", keys, pieces=3)
    others, passes = may_hold(tmp_path / "f", words, rng.integers(-(2**63), 2**63 - 1, 100_000, dtype=np.int64))
    false_positives = passes[~np.isin(others, keys)].mean()
    assert false_positives < 0.02  # ≈ 0.9% at 12 bits and 4 hashes per key


def test_keys_out_of_order_are_refused(tmp_path: Path) -> None:
    with open(tmp_path / "f", "wb") as handle:
        writer = key_filter.FilterWriter(handle, 10)
        writer.add(np.array([2**62], dtype=np.int64))
        with pytest.raises(ValueError, match="sorted order"):
            writer.add(np.array([-(2**62)], dtype=np.int64))


def test_a_run_too_large_for_the_filter_is_refused() -> None:
    assert key_filter.words_for(10**9) < key_filter.MAX_WORDS
    with pytest.raises(OverflowError, match="band keys"):
        key_filter.words_for(12 * 10**9)
