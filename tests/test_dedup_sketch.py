"""Shingling, MinHash (bit-compatible with datasketch), LSH candidates, verification, clustering."""

from __future__ import annotations

import numpy as np
import pytest
from datasketch import MinHash

from wirecopy.dedup import verify
from wirecopy.dedup.candidates import pairs_from_buckets
from wirecopy.dedup.clustering import assign_representatives
from wirecopy.dedup.minhash import band_keys, permutations, signatures
from wirecopy.dedup.settings import DedupSettings
from wirecopy.dedup.shingles import ShingleSpec, distinct, shingle_batch
from wirecopy.dedup.verify import CONTAINMENT_MARGIN, Edge, judge, judge_pairs
from wirecopy.models import DedupMethod

TEXTS = [
    "the quick brown fox jumps over the lazy dog",
    "شنت اذربيجان عمليه عسكريه جديده ضد ارمينيا اليوم الثلاثاء",
    "short",
    "",
]


@pytest.mark.parametrize("spec", [ShingleSpec("word", 3), ShingleSpec("char", 5), ShingleSpec("word", 1)])
def test_signatures_equal_datasketch_fed_the_same_shingles(spec: ShingleSpec) -> None:
    batch = shingle_batch(TEXTS, spec)
    ours = signatures(batch, num_perm=64, seed=3)
    for i in range(len(TEXTS)):
        reference = MinHash(num_perm=64, seed=3, hashfunc=int)
        reference.update_batch(batch.of(i).tolist())
        assert np.array_equal(reference.hashvalues.astype(np.uint32), ours[i])


@pytest.mark.parametrize(("num_perm", "seed"), [(64, 1), (128, 7), (16, 12345)])
def test_permutations_are_datasketchs_affine32_parameters(num_perm: int, seed: int) -> None:
    a, b = MinHash(num_perm=num_perm, seed=seed, scheme="affine32").permutations
    ours_a, ours_b = permutations(num_perm, seed)
    assert np.array_equal(ours_a, a.astype(np.uint32)) and np.array_equal(ours_b, b.astype(np.uint32))


def test_word_shingle_counts_and_position_independence() -> None:
    batch = shingle_batch(["a b c d", "x a b c", "a b"], ShingleSpec("word", 3))
    assert batch.counts().tolist() == [2, 2, 1]  # "a b" is shorter than a shingle: one hash of all of it
    assert batch.of(0)[0] == batch.of(1)[1]  # "a b c" hashes the same wherever it stands
    assert len(set(batch.of(0).tolist())) == 2


def test_char_shingles_cover_every_window() -> None:
    batch = shingle_batch(["abcdefg"], ShingleSpec("char", 5))
    assert batch.counts().tolist() == [3]


def test_distinct_sorts_and_drops_repeats_per_text() -> None:
    batch = shingle_batch(["a b c a b c a b c", "x y z", "a b c"], ShingleSpec("word", 3))
    sets = distinct(batch)
    assert sets.counts().tolist() == [3, 1, 1]
    assert sets.of(0).tolist() == sorted(set(batch.of(0).tolist()))
    assert sets.of(2)[0] in sets.of(0)


def test_shingle_spec_parsing() -> None:
    assert ShingleSpec.parse("char:5") == ShingleSpec("char", 5)
    with pytest.raises(ValueError, match="word:3"):
        ShingleSpec.parse("trigram")


def test_similar_texts_share_band_keys_and_different_ones_do_not() -> None:
    base = " ".join(f"w{i}" for i in range(40))
    edited = base.replace("w20", "changed")
    other = " ".join(f"v{i}" for i in range(40))
    batch = shingle_batch([base, edited, other], ShingleSpec("word", 3))
    keys = band_keys(signatures(batch, 64), bands=32, rows=2)
    assert len(set(keys[0]) & set(keys[1])) > 0
    assert not set(keys[0]) & set(keys[2])


def test_candidate_pairs_skip_oversized_buckets() -> None:
    keys = np.array([[1], [1], [1], [2], [2]], dtype=np.int64)
    nodes = np.array([10, 11, 12, 13, 14], dtype=np.int64)
    assert pairs_from_buckets(keys, nodes, cap=3).tolist() == [[10, 11], [10, 12], [11, 12], [13, 14]]
    assert pairs_from_buckets(keys, nodes, cap=2).tolist() == [[13, 14]]


def test_judge_names_near_containment_or_nothing() -> None:
    full = np.arange(100, dtype=np.uint32)
    near = judge(1, 2, full, np.arange(10, 110, dtype=np.uint32), near=0.5, contain=0.8)
    assert near is not None and near.method is DedupMethod.NEAR and near.similarity == pytest.approx(90 / 110)
    quote = judge(1, 2, full, np.arange(0, 45, dtype=np.uint32), near=0.5, contain=0.8)
    assert quote is not None and quote.method is DedupMethod.CONTAINMENT and quote.similarity == 1.0
    assert judge(1, 2, full, np.arange(70, 170, dtype=np.uint32), near=0.5, contain=0.8) is None


@pytest.mark.parametrize("chunk", [1 << 21, 150, 1])  # all pairs in one sort, a few per sort, one per sort
def test_judge_pairs_equals_set_arithmetic_pair_by_pair(chunk: int, monkeypatch) -> None:
    """Many pairs verified at once (sharing texts, including empty overlaps) give each pair's own verdict."""
    monkeypatch.setattr(verify, "VERIFY_CHUNK_SHINGLES", chunk)
    rng = np.random.default_rng(12)
    sets = [np.unique(rng.integers(0, 120, rng.integers(1, 80))).astype(np.uint32) for _ in range(40)]
    hashes = np.concatenate(sets)
    starts = np.concatenate(([0], np.cumsum([len(s) for s in sets])[:-1]))
    sizes = np.array([len(s) for s in sets])
    a, b = rng.integers(0, 40, 300), rng.integers(0, 40, 300)
    edges = judge_pairs(a * 10, b * 10, hashes, starts[a], sizes[a], starts[b], sizes[b], near=0.45, contain=0.8)
    expected = []
    for i, j in zip(a.tolist(), b.tolist(), strict=True):
        common = len(set(sets[i].tolist()) & set(sets[j].tolist()))
        jaccard = common / (len(sets[i]) + len(sets[j]) - common)
        containment = common / min(len(sets[i]), len(sets[j]))
        if common and containment >= 0.8 and containment - jaccard >= CONTAINMENT_MARGIN:
            expected.append((i * 10, j * 10, DedupMethod.CONTAINMENT, round(containment, 6)))
        elif common and jaccard >= 0.45:
            expected.append((i * 10, j * 10, DedupMethod.NEAR, round(jaccard, 6)))
    assert [(e.a, e.b, e.method, e.similarity) for e in edges] == expected
    assert any(e.method is DedupMethod.CONTAINMENT for e in edges) and any(e.method is DedupMethod.NEAR for e in edges)


def test_weak_edges_do_not_chain_unrelated_texts() -> None:
    """a–b and b–c match, a and c do not: c must not join a's cluster through b."""
    edges = [Edge(1, 2, DedupMethod.NEAR, 0.6, 0.6, 0.7), Edge(2, 3, DedupMethod.NEAR, 0.6, 0.6, 0.7)]
    result = assign_representatives([1, 2, 3], edges)
    assert result[2].representative == 1
    assert result[3].representative == 3  # b is not a representative, so c leads its own cluster


def test_representative_is_the_earliest_best_match() -> None:
    edges = [Edge(1, 3, DedupMethod.NEAR, 0.7, 0.7, 0.8), Edge(2, 3, DedupMethod.NEAR, 0.9, 0.9, 0.9)]
    result = assign_representatives([1, 2, 3], edges)
    assert result[3].representative == 2 and result[3].edge is not None


def test_settings_reject_bands_beyond_permutations() -> None:
    with pytest.raises(ValueError, match="exceeds num_perm"):
        DedupSettings(num_perm=32, bands=32, rows=2)
    assert DedupSettings().candidate_probability(0.6) >= 0.95


@pytest.mark.parametrize("spec", [ShingleSpec("word", 3), ShingleSpec("char", 5)])
def test_chunked_shingling_and_minhash_equal_one_pass(spec: ShingleSpec, monkeypatch) -> None:
    from wirecopy.dedup import minhash, shingles

    texts = [" ".join(f"w{(i * 7 + k) % 50}" for k in range(i % 23)) for i in range(300)] + TEXTS + ["x" * 500]
    whole = shingle_batch(texts, spec)
    whole_signatures = signatures(whole, num_perm=16, seed=1)
    monkeypatch.setattr(shingles, "_CHUNK_CHARACTERS", 40)  # many chunks, some one long text each
    monkeypatch.setattr(minhash, "_CHUNK_ELEMENTS", 16 * 7)  # a few shingles per MinHash step
    chunked = shingle_batch(texts, spec)
    assert np.array_equal(chunked.hashes, whole.hashes) and np.array_equal(chunked.offsets, whole.offsets)
    assert np.array_equal(signatures(chunked, num_perm=16, seed=1), whole_signatures)


@pytest.mark.parametrize("bands", [4, 1])
def test_pairs_anchored_on_some_nodes_equal_all_pairs_filtered_to_them(bands: int) -> None:
    """The match step anchors the pairs on the batch's own rows (marked, not looked up among its texts)."""
    rng = np.random.default_rng(7)
    nodes = np.unique(rng.integers(0, 10**12, 3_000))
    keys = rng.integers(0, 400, (len(nodes), bands))  # crowded buckets: sizes around the cap and above it
    touching = np.unique(rng.choice(nodes, 200, replace=False))
    every = pairs_from_buckets(keys, nodes, cap=40)
    expected = every[np.isin(every[:, 0], touching) | np.isin(every[:, 1], touching)]
    found = pairs_from_buckets(keys, nodes, cap=40, anchors=np.isin(nodes, touching))
    assert len(found) > 100 * bands and np.array_equal(found, expected)


def test_array_helpers_on_sorted_runs_and_ties() -> None:
    from wirecopy.dedup import arrays

    rng = np.random.default_rng(5)
    runs = np.concatenate([np.sort(rng.integers(0, 50, 200)) for _ in range(4)])  # sorted runs end to end
    assert np.array_equal(arrays.unique(runs), np.unique(runs))
    assert np.array_equal(arrays.unique(np.sort(runs)), np.unique(runs))
    values, flags = np.arange(len(runs)), rng.random(len(runs)) < 0.5
    keys, ordered, moved = arrays.by_key(runs, values, flags)
    order = np.argsort(runs, kind="stable")  # ties keep their order
    assert np.array_equal(keys, runs[order]) and np.array_equal(ordered, order) and np.array_equal(moved, flags[order])
    assert arrays.is_sorted(keys) and not arrays.is_sorted(runs) and arrays.is_sorted(runs[:1])
