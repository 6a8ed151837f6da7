"""The LSH store beside the warehouse: lookups equal a brute-force lookup, runs stay logarithmic, texts and
signatures round-trip, and a missing, stale or half-written store is rebuilt to the same dedup result."""

from __future__ import annotations

import shutil
from collections import defaultdict
from pathlib import Path

import duckdb
import numpy as np
import pytest
from wirecopy.warehouse import lsh_store, mapped_files, sql
from wirecopy.warehouse.commit import Batch, commit_batch
from wirecopy.warehouse.db import session
from wirecopy.warehouse.index import SketchSettingsChanged, open_lsh_store
from wirecopy.warehouse.lsh_store import Coverage, LshStore, SketchRows, store_directory

from tests.linkcheck import dedup_state, ingest_in_batches
from wirecopy.dedup.settings import DedupSettings

SETTINGS = DedupSettings()
BANDS = 4
NUM_PERM = 8


def rows(rng: np.random.Generator, first_text: int, n: int, key_space: int) -> SketchRows:
    sizes = rng.integers(1, 100, size=n, dtype=np.int32)
    return SketchRows(
        hashes=np.arange(first_text, first_text + n, dtype=np.int64) * 7919 - 10**12,
        band_keys=rng.integers(-key_space, key_space, size=(n, BANDS), dtype=np.int64),
        signatures=rng.integers(0, 2**32, size=(n, NUM_PERM), dtype=np.uint32),
        sizes=sizes,
        normalized=[f"نص رقم {first_text + i} text {i}" for i in range(n)],
        shingles=rng.integers(0, 2**32, size=int(sizes.sum()), dtype=np.uint32),
    )


@pytest.fixture
def small_windows(monkeypatch):
    """Windows of 16 rows, so a few hundred rows exercise every window boundary."""
    monkeypatch.setattr(mapped_files, "WINDOW_ROWS", 16)
    monkeypatch.setattr(lsh_store, "MERGE_WINDOW_ROWS", 16)


def build(tmp_path: Path, batches: list[SketchRows]) -> LshStore:
    coverage = Coverage(shingle="word:3", num_perm=NUM_PERM, seed=1, bands=BANDS, rows=2)
    store = LshStore.create(tmp_path / "store.lsh", coverage)
    for batch in batches:
        store.append(batch)
    return store


def test_members_equal_a_brute_force_lookup_across_runs_and_windows(tmp_path: Path, small_windows) -> None:
    rng = np.random.default_rng(3)
    batches, first = [], 0
    for size in (50, 30, 120, 7, 64, 64, 1):
        batches.append(rows(rng, first, size, key_space=300))  # a small key space: shared buckets of all sizes
        first += size
    store = build(tmp_path, batches)
    bucket: dict[int, list[int]] = defaultdict(list)
    ordinal = 0
    for batch in batches:
        for keys in batch.band_keys:
            for key in keys.tolist():
                bucket[key].append(ordinal)
            ordinal += 1
    queries = np.concatenate((rng.integers(-400, 400, 500), np.array([-(10**15), 10**15])))
    for cap in (1, 3, 50):
        keys, ordinals = store.members(queries, cap)
        found = sorted(zip(keys.tolist(), ordinals.tolist(), strict=True))
        expected = sorted((key, o) for key in set(queries.tolist()) if 0 < len(bucket[key]) <= cap for o in bucket[key])
        assert found == expected


def test_members_with_hash_like_keys_equal_a_brute_force_lookup(tmp_path: Path, small_windows) -> None:
    """Band keys spread over all 64 bits, as real ones do: the run filters turn most queries away."""
    rng = np.random.default_rng(4)
    batches = [rows(rng, 200 * i, 200, key_space=2**63 - 1) for i in range(5)]
    store = build(tmp_path, batches)
    stored = np.concatenate([b.band_keys.ravel() for b in batches])
    queries = np.concatenate((stored[::7], rng.integers(-(2**63), 2**63 - 1, 3_000, dtype=np.int64)))
    keys, ordinals = store.members(queries, cap=50)
    owners = np.repeat(np.arange(len(stored) // BANDS), BANDS)
    wanted = np.isin(stored, queries)
    assert sorted(zip(keys.tolist(), ordinals.tolist(), strict=True)) == sorted(
        zip(stored[wanted].tolist(), owners[wanted].tolist(), strict=True)
    )


def test_runs_stay_logarithmic_and_keep_every_row(tmp_path: Path, small_windows) -> None:
    rng = np.random.default_rng(5)
    store = build(tmp_path, [rows(rng, 10 * i, 10, key_space=10**9) for i in range(40)])
    assert store.band_rows == 40 * 10 * BANDS
    assert len(store.manifest.runs) <= 6  # 40 batches: binary 101000 → at most log2(40) + 1 runs
    assert sorted(p.name for p in store.directory.glob("run-*")) == sorted(
        f"{run.name}{suffix}" for run in store.manifest.runs for suffix in (".keys", ".ordinals", ".samples", ".filter")
    )


def test_merged_runs_are_sorted_and_hold_every_row_once(tmp_path: Path, small_windows) -> None:
    rng = np.random.default_rng(8)
    batches = [rows(rng, 13 * i, 13, key_space=40) for i in range(24)]  # equal keys span many merge windows
    store = build(tmp_path, batches)
    stored = []
    for run in store.manifest.runs:
        keys = np.fromfile(store.directory / f"{run.name}.keys", dtype="<i8")
        assert len(keys) == run.rows and (np.diff(keys) >= 0).all()
        ordinals = np.fromfile(store.directory / f"{run.name}.ordinals", dtype="<i4")
        stored += zip(keys.tolist(), ordinals.tolist(), strict=True)
    expected = [
        (key, 13 * i + row)
        for i, b in enumerate(batches)
        for row, keys in enumerate(b.band_keys.tolist())
        for key in keys
    ]
    assert sorted(stored) == sorted(expected)


def test_a_run_written_short_is_removed_not_left_half_written(tmp_path: Path) -> None:
    run = lsh_store.RunInfo(name="run-00000007", rows=0)
    with pytest.raises(ValueError, match="expected 5"), lsh_store._RunWriter(tmp_path, run, rows=5) as out:
        out.write(np.array([1, 2, 3], dtype=np.int64), np.array([0, 1, 2], dtype=np.int32))
    assert list(tmp_path.iterdir()) == []


def test_merge_sorted_equals_a_stable_sort_of_both_runs() -> None:
    rng = np.random.default_rng(2)
    for size_a, size_b in ((0, 5), (5, 0), (40, 17), (17, 40), (300, 300)):
        a, b = np.sort(rng.integers(0, 30, size_a)), np.sort(rng.integers(0, 30, size_b))
        a_values, b_values = np.arange(size_a, dtype=np.int32), np.arange(size_a, size_a + size_b, dtype=np.int32)
        keys, values = lsh_store.merge_sorted(a, a_values, b, b_values)
        order = np.argsort(np.concatenate((a, b)), kind="stable")
        assert np.array_equal(keys, np.concatenate((a, b))[order])
        assert np.array_equal(values, np.concatenate((a_values, b_values))[order])


def test_signatures_sizes_and_texts_round_trip_by_ordinal(tmp_path: Path, small_windows) -> None:
    rng = np.random.default_rng(11)
    batches = [rows(rng, 0, 40, 10**6), rows(rng, 40, 25, 10**6)]
    store = build(tmp_path, batches)
    wanted = np.array([64, 0, 39, 40, 3, 3], dtype=np.int64)
    signatures, sizes = store.sketches(wanted)
    all_signatures = np.vstack([b.signatures for b in batches])
    all_sizes = np.concatenate([b.sizes for b in batches])
    all_texts = [t for b in batches for t in b.normalized]
    all_hashes = np.concatenate([b.hashes for b in batches])
    assert np.array_equal(signatures, all_signatures[wanted])
    assert np.array_equal(sizes, all_sizes[wanted])
    assert store.texts(wanted) == [all_texts[i] for i in wanted]
    assert np.array_equal(store.hashes(wanted), all_hashes[wanted])
    all_sets = [
        b.shingles[end - size : end] for b in batches for end, size in zip(np.cumsum(b.sizes), b.sizes, strict=True)
    ]
    hashes, offsets = store.shingle_sets(wanted)
    assert [hashes[offsets[i] : offsets[i + 1]].tolist() for i in range(len(wanted))] == [
        all_sets[i].tolist() for i in wanted
    ]
    assert store.coverage.texts == 65
    assert store.coverage.xor == int(np.bitwise_xor.reduce(all_hashes))


def test_load_cuts_an_unfinished_append_and_refuses_missing_files(tmp_path: Path) -> None:
    rng = np.random.default_rng(2)
    store = build(tmp_path, [rows(rng, 0, 20, 10**6)])
    with open(store.directory / "texts.heap", "ab") as heap:
        heap.write("نص لم يكتمل".encode())  # a crash after appending text, before the manifest
    reloaded = LshStore.load(store.directory)
    assert reloaded is not None and reloaded.texts(np.array([19])) == ["نص رقم 19 text 19"]
    assert (store.directory / "texts.heap").stat().st_size == reloaded.manifest.heap_bytes
    next(store.directory.glob("run-*.keys")).unlink()
    assert LshStore.load(store.directory) is None
    (store.directory / "manifest.json").write_text("{not json")
    assert LshStore.load(store.directory) is None


def test_missing_or_stale_store_is_rebuilt_to_the_same_result(tmp_path: Path, seed_documents) -> None:
    everything = [list(range(len(seed_documents)))]
    reference = tmp_path / "reference.duckdb"
    ingest_in_batches(reference, seed_documents, everything)
    expected = dedup_state(reference)
    batches = [[3], [1, 4], [0], [2]]

    deleted = tmp_path / "deleted.duckdb"
    ingest_in_batches(deleted, seed_documents, batches, between=lambda n: shutil.rmtree(store_directory(deleted)))
    assert dedup_state(deleted) == expected

    stale = tmp_path / "stale.duckdb"
    snapshot = tmp_path / "snapshot.lsh"

    def restore_old_store(number: int) -> None:
        if number == 0:
            shutil.copytree(store_directory(stale), snapshot)
        elif number == 2:  # the store now lags two batches behind the warehouse, as after a restored backup
            shutil.rmtree(store_directory(stale))
            shutil.copytree(snapshot, store_directory(stale))

    ingest_in_batches(stale, seed_documents, batches, between=restore_old_store)
    assert dedup_state(stale) == expected
    with duckdb.connect(str(stale), read_only=True) as con:
        texts, xor = con.execute(sql.SIGNED_TEXTS).fetchone()
    store = LshStore.load(store_directory(stale))
    assert store is not None and (store.coverage.texts, store.coverage.xor) == (texts, xor)
    appended = LshStore.load(store_directory(reference))  # every text appended by the commit that stored it
    ordinals = np.arange(texts, dtype=np.int64)
    by_hash = {}
    for kept in (appended, store):
        hashes, offsets = kept.shingle_sets(ordinals)
        sets = {h: hashes[offsets[i] : offsets[i + 1]].tolist() for i, h in enumerate(kept.hashes(ordinals).tolist())}
        by_hash[kept is store] = sets
    assert by_hash[True] == by_hash[False]  # rebuilt from dedup_texts: the same sets as the commits stored


@pytest.mark.parametrize("stride", [1, 3, 16, 1000])
def test_equal_ranges_equal_numpy_searchsorted(stride: int, small_windows) -> None:
    rng = np.random.default_rng(9)
    stored = np.sort(rng.integers(0, 40, 500))  # runs of equal keys that cross strides and 16-row windows
    values = np.unique(rng.integers(-5, 45, 300))
    released: list[tuple[int, int]] = []
    held, lo, hi = mapped_files.equal_ranges(
        stored, lambda a, b: released.append((a, b)), values, stored[::stride], stride
    )
    assert np.array_equal(held, np.flatnonzero(np.isin(values, stored)))
    assert np.array_equal(lo, np.searchsorted(stored, values[held], side="left"))
    assert np.array_equal(hi, np.searchsorted(stored, values[held], side="right"))
    reach = 16 + 2 * stride + np.bincount(stored).max()  # a window, a stride either side, one run of equal keys
    assert released and all(0 < b - a <= reach for a, b in released)


def test_a_store_built_with_other_band_settings_is_rebuilt(tmp_path: Path, seed_documents) -> None:
    """Bands and rows may change: the store is rebuilt from the stored signatures, with the same texts."""
    db = tmp_path / "warehouse.duckdb"
    commit_batch(db, Batch(run_id="run", documents=seed_documents), SETTINGS)
    sentinel = store_directory(db) / "sentinel"
    sentinel.touch()
    banded = DedupSettings(bands=16, rows=4)
    with session(db, read_only=True) as con:
        open_lsh_store(db, con, SETTINGS)
        assert sentinel.exists()  # same settings: the store is kept
        store = open_lsh_store(db, con, banded)
    assert not sentinel.exists()  # rebuilt from dedup_texts
    assert (store.coverage.bands, store.coverage.rows) == (16, 4)
    assert LshStore.load(store_directory(db)).coverage == store.coverage


@pytest.mark.parametrize("store_kept", [True, False])
@pytest.mark.parametrize(
    ("changed", "named"),
    [({"num_perm": 128}, "num_perm=64"), ({"seed": 7}, "another shingle or seed"),
     ({"shingle": "char:5"}, "another shingle or seed")],
)  # fmt: skip
def test_texts_sketched_under_other_settings_are_refused_not_mixed(
    tmp_path: Path, seed_documents, changed: dict, named: str, store_kept: bool
) -> None:
    """Stored signatures are not re-made by an ingest: other MinHash settings are refused with the remedy, whether
    the LSH store is there to say so or not, and the warehouse is left as it was."""
    db = tmp_path / "warehouse.duckdb"
    commit_batch(db, Batch(run_id="run", documents=seed_documents[:2]), SETTINGS)
    if not store_kept:
        shutil.rmtree(store_directory(db))
    before = dedup_state(db)
    with pytest.raises(SketchSettingsChanged, match=f"sketched with {named}.*wirecopy reprocess"):
        commit_batch(db, Batch(run_id="later", documents=seed_documents[2:]), DedupSettings(**changed))
    assert dedup_state(db) == before
    commit_batch(db, Batch(run_id="later", documents=seed_documents[2:]), SETTINGS)  # the warehouse's own: fine
    reference = tmp_path / "reference.duckdb"
    ingest_in_batches(reference, seed_documents, [list(range(len(seed_documents)))])
    assert dedup_state(db) == dedup_state(reference)


def test_gather_refuses_positions_outside_the_file(tmp_path: Path) -> None:
    path = tmp_path / "values"
    np.arange(10, dtype="<i8").tofile(path)
    assert mapped_files.gather(path, np.dtype("<i8"), 10, np.array([9, 0, 9])).tolist() == [9, 0, 9]
    with pytest.raises(IndexError):
        mapped_files.gather(path, np.dtype("<i8"), 10, np.array([-1, 3]))
