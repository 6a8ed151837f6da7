"""The near-duplicate index's hot data, kept beside the warehouse file in memory-mapped arrays.

Why not DuckDB tables: a batch needs point lookups — its band keys among every stored key (32 per text),
then the signatures and normalised texts of the stored candidates. In DuckDB the first is a hash join that
scans every stored key (32 M rows at a million paragraphs), and each scattered row fetch decompresses a
whole vector (≈ 0.1 ms per row): a batch cost more the bigger the warehouse was. Here a lookup is a binary
search of the batch's sorted keys in sorted runs, and a fetch reads one fixed-width row.

Layout of `<warehouse file>.lsh/` (little-endian raw arrays; n = texts covered):
- `manifest.json`: what the store covers (`Coverage`) and its band runs, oldest first;
- `texts.hashes` int64[n], `texts.signatures` uint32[n, num_perm], `texts.sizes` int32[n] (distinct shingles),
  `texts.ends` int64[n] and `texts.heap` (UTF-8 normalised texts; text i ends at `ends[i]`): rows are
  *ordinals*, in the order texts were added;
- `<run>.keys` int64 sorted and `<run>.ordinals` int32: one row per (band key, text).

Runs are added after each committed batch; the newest run is merged into the one before it while it is at
least as large (the logarithmic method: at most log2(batches) runs, every key rewritten at most log2(batches)
times). Runs are searched, gathered and merged one window at a time, releasing each window's pages
(`mapped_files.py`), and texts are read with pread, so resident memory stays bounded whatever the size of
the store.

The store is derived data; `dedup_texts` is the source of truth. A store that does not cover exactly the
texts stored with a signature (a crash between the commit and the append, a restored or copied warehouse
file, other LSH settings) is discarded and rebuilt from `dedup_texts`.
"""

from __future__ import annotations

import itertools
import os
import shutil
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from pydantic import BaseModel, ValidationError

from warehouse import mapped_files
from wirecopy.dedup import arrays

FORMAT = 2
MAX_TEXTS = np.iinfo(np.int32).max
_KEY = np.dtype("<i8")
_ORDINAL = np.dtype("<i4")
_HASH = np.dtype("<i8")
_SIGNATURE = np.dtype("<u4")
_SIZE = np.dtype("<i4")
_END = np.dtype("<i8")


class Coverage(BaseModel):
    """What a store holds: the texts with a signature (count and XOR of their hashes) and every setting its
    signatures and band keys depend on (a reprocess with another seed or shingle keeps the same texts)."""

    shingle: str
    num_perm: int
    seed: int
    bands: int
    rows: int
    texts: int = 0
    xor: int = 0

    def plus(self, text_hashes: np.ndarray) -> Coverage:
        folded = int(np.bitwise_xor.reduce(text_hashes)) if len(text_hashes) else 0
        return self.model_copy(update={"texts": self.texts + len(text_hashes), "xor": self.xor ^ folded})


class RunInfo(BaseModel):
    name: str
    rows: int


class Manifest(BaseModel):
    format: int = FORMAT
    coverage: Coverage
    heap_bytes: int = 0
    runs: list[RunInfo] = []
    next_run: int = 0


@dataclass(frozen=True)
class SketchRows:
    """Stored texts to add: one row each, all with a signature."""

    hashes: np.ndarray  # int64 text hashes
    band_keys: np.ndarray  # (n, bands) int64
    signatures: np.ndarray  # (n, num_perm) uint32
    sizes: np.ndarray  # distinct shingles per text
    normalized: list[str]

    def __len__(self) -> int:
        return len(self.hashes)


def store_directory(db: Path) -> Path:
    """Where the LSH store of warehouse file `db` lives."""
    return db.with_name(db.name + ".lsh")


class LshStore:
    """Band runs plus per-text signatures and normalised texts, in one directory. Not safe for concurrent
    writers: callers hold the warehouse's writer lock."""

    def __init__(self, directory: Path, manifest: Manifest):
        self.directory = directory
        self.manifest = manifest

    # -- opening ---------------------------------------------------------------------------------------------

    @classmethod
    def load(cls, directory: Path) -> LshStore | None:
        """The store in `directory`, or None when it is missing, unreadable or incomplete.

        Text files longer than the manifest says hold an append that never completed: they are cut back."""
        try:
            manifest = Manifest.model_validate_json((directory / "manifest.json").read_bytes())
        except (OSError, ValidationError, ValueError):
            return None
        if manifest.format != FORMAT:
            return None
        store = cls(directory, manifest)
        expected = store._text_file_sizes() | {
            f"{run.name}{suffix}": run.rows * dtype.itemsize
            for run in manifest.runs
            for suffix, dtype in ((".keys", _KEY), (".ordinals", _ORDINAL))
        }
        for name, size in expected.items():
            path = directory / name
            if not path.is_file() or path.stat().st_size < size:
                return None
            if path.stat().st_size > size:
                os.truncate(path, size)
        return store

    @classmethod
    def create(cls, directory: Path, coverage: Coverage) -> LshStore:
        """A new, empty store in `directory`, replacing whatever was there."""
        if directory.exists():
            shutil.rmtree(directory)
        directory.mkdir(parents=True)
        for name in _TEXT_FILES:
            (directory / name).touch()
        store = cls(directory, Manifest(coverage=coverage.model_copy(update={"texts": 0, "xor": 0})))
        store._write_manifest()
        return store

    @property
    def coverage(self) -> Coverage:
        return self.manifest.coverage

    @property
    def band_rows(self) -> int:
        return sum(run.rows for run in self.manifest.runs)

    # -- reading ---------------------------------------------------------------------------------------------

    def members(self, keys: np.ndarray, cap: int) -> tuple[np.ndarray, np.ndarray]:
        """(key, ordinal) rows stored for `keys`, leaving out buckets that hold more than `cap` texts."""
        keys = arrays.unique(keys)
        spans = [(run, *self._search(run, keys)) for run in self.manifest.runs]
        counts = np.zeros(len(keys), dtype=np.int64)
        for _, lo, hi in spans:
            counts += hi - lo
        wanted = (counts > 0) & (counts <= cap)
        found_keys, found_ordinals = [np.empty(0, np.int64)], [np.empty(0, np.int64)]
        for run, lo, hi in spans:
            hit = wanted & (hi > lo)
            if hit.any():
                sizes = (hi - lo)[hit]
                found_keys.append(np.repeat(keys[hit], sizes))
                positions = mapped_files.expand_ranges(lo[hit], sizes)
                found_ordinals.append(self._gather_file(run.name + ".ordinals", _ORDINAL, run.rows, positions))
        return np.concatenate(found_keys), np.concatenate(found_ordinals).astype(np.int64)

    def hashes(self, ordinals: np.ndarray) -> np.ndarray:
        return self._gather_file("texts.hashes", _HASH, self.coverage.texts, ordinals)

    def sketches(self, ordinals: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(signature matrix, distinct shingle counts) of the texts at `ordinals`."""
        n, num_perm = self.coverage.texts, self.coverage.num_perm
        signatures = self._gather_file("texts.signatures", _SIGNATURE, n, ordinals, width=num_perm)
        return signatures, self._gather_file("texts.sizes", _SIZE, n, ordinals).astype(np.int64)

    def texts(self, ordinals: np.ndarray) -> list[str]:
        """Normalised texts at `ordinals`."""
        previous = ordinals > 0  # text i starts where text i - 1 ends; text 0 at 0
        bounds = self._gather_file(
            "texts.ends", _END, self.coverage.texts, np.concatenate((ordinals, ordinals[previous] - 1))
        )
        ends = bounds[: len(ordinals)]
        starts = np.zeros(len(ordinals), dtype=np.int64)
        starts[previous] = bounds[len(ordinals) :]
        with open(self.directory / "texts.heap", "rb") as handle:  # pread: a mapping would fault in 64 KB per text
            fd = handle.fileno()
            return [
                os.pread(fd, end - start, start).decode("utf-8")
                for start, end in zip(starts.tolist(), ends.tolist(), strict=True)
            ]

    def _search(self, run: RunInfo, keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """[lo, hi) positions of each sorted key in the run; empty for keys the run does not hold."""
        with mapped_files.mapped(self.directory / (run.name + ".keys"), _KEY, run.rows) as (stored, release):
            lo, found = mapped_files.sorted_positions(stored, release, keys, "left")
            hi = lo.copy()
            hi[found] = mapped_files.sorted_positions(stored, release, keys[found], "right")[0]
        return lo, hi

    def _gather_file(self, name: str, dtype: np.dtype, rows: int, positions: np.ndarray, width: int = 1) -> np.ndarray:
        return mapped_files.gather(self.directory / name, dtype, rows, positions, width)

    # -- writing ---------------------------------------------------------------------------------------------

    def append(self, new: SketchRows) -> None:
        """Add newly stored texts (their band keys, signatures, texts), then merge runs as the method requires."""
        if not len(new):
            return
        first = self.coverage.texts
        if first + len(new) > MAX_TEXTS:
            raise OverflowError(f"the LSH store holds at most {MAX_TEXTS:,} texts (int32 ordinals)")
        flat = new.band_keys.astype(np.int64).ravel()
        owners = np.repeat(np.arange(first, first + len(new), dtype=np.int64), new.band_keys.shape[1])
        order = np.argsort(flat, kind="stable")
        run = self._new_run()
        with _RunWriter(self.directory, run) as out:
            out.write(flat[order], owners[order])
        encoded = [text.encode("utf-8") for text in new.normalized]
        ends = self.manifest.heap_bytes + np.cumsum([len(b) for b in encoded], dtype=np.int64)
        mapped_files.append_files(self.directory, {
            "texts.hashes": new.hashes.astype(_HASH),
            "texts.signatures": new.signatures.astype(_SIGNATURE),
            "texts.sizes": new.sizes.astype(_SIZE),
            "texts.ends": ends.astype(_END),
            "texts.heap": b"".join(encoded),
        })  # fmt: skip
        self.manifest.runs.append(run)
        self.manifest.coverage = self.coverage.plus(new.hashes)
        self.manifest.heap_bytes = int(ends[-1])
        self._write_manifest()
        self._compact()

    def _compact(self) -> None:
        runs = self.manifest.runs
        while len(runs) >= 2 and runs[-2].rows <= runs[-1].rows:
            older, newer = runs[-2], runs[-1]
            merged = self._new_run()
            with _RunWriter(self.directory, merged) as out:
                for keys, ordinals in self._merged_windows(older, newer):
                    out.write(keys, ordinals)
            runs[-2:] = [merged]
            self._write_manifest()

    def _merged_windows(self, older: RunInfo, newer: RunInfo) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        """Both runs merged in key order, one window of the larger run (and the other's share) at a time."""
        if newer.rows > older.rows:  # windows follow the larger run, so none holds more than its share of both
            older, newer = newer, older
        with (
            self._run_files(older) as (a_keys, a_ords, a_release),
            self._run_files(newer) as (b_keys, b_ords, b_release),
        ):
            starts = np.arange(0, older.rows, mapped_files.WINDOW_ROWS)
            b_cuts = mapped_files.sorted_positions(b_keys, b_release, a_keys[starts], "left")[0]
            b_cuts[0] = 0  # the newer run's keys below the older run's first key go to the first window
            a_bounds, b_bounds = [*starts.tolist(), older.rows], [*b_cuts.tolist(), newer.rows]
            for (a0, a1), (b0, b1) in zip(itertools.pairwise(a_bounds), itertools.pairwise(b_bounds), strict=True):
                keys = np.concatenate((a_keys[a0:a1], b_keys[b0:b1]))
                ordinals = np.concatenate((a_ords[a0:a1], b_ords[b0:b1]))
                order = np.argsort(keys, kind="stable")  # two sorted runs: timsort merges them in linear time
                yield keys[order], ordinals[order]
                a_release(a0, a1)
                b_release(b0, b1)

    @contextmanager
    def _run_files(self, run: RunInfo):
        """A run's keys and ordinals, mapped, and one `release(start, stop)` for the rows of both."""
        with (
            mapped_files.mapped(self.directory / (run.name + ".keys"), _KEY, run.rows) as (keys, keys_release),
            mapped_files.mapped(self.directory / (run.name + ".ordinals"), _ORDINAL, run.rows) as (ords, ords_release),
        ):

            def release(start: int, stop: int) -> None:
                keys_release(start, stop)
                ords_release(start, stop)

            yield keys, ords, release

    def _new_run(self) -> RunInfo:
        run = RunInfo(name=f"run-{self.manifest.next_run:08d}", rows=0)
        self.manifest.next_run += 1
        return run

    def _text_file_sizes(self) -> dict[str, int]:
        n, c = self.coverage.texts, self.coverage
        return {
            "texts.hashes": n * _HASH.itemsize,
            "texts.signatures": n * c.num_perm * _SIGNATURE.itemsize,
            "texts.sizes": n * _SIZE.itemsize,
            "texts.ends": n * _END.itemsize,
            "texts.heap": self.manifest.heap_bytes,
        }

    def _write_manifest(self) -> None:
        temporary = self.directory / "manifest.json.tmp"
        with open(temporary, "w", encoding="utf-8") as handle:
            handle.write(self.manifest.model_dump_json(indent=1))
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, self.directory / "manifest.json")
        mapped_files.sync_directory(self.directory)
        live = {run.name for run in self.manifest.runs}
        for path in self.directory.glob("run-*"):
            if path.stem not in live:  # merged away, or left by a crash during a merge
                path.unlink(missing_ok=True)


_TEXT_FILES = ("texts.hashes", "texts.signatures", "texts.sizes", "texts.ends", "texts.heap")


def rebuild(directory: Path, coverage: Coverage, batches: Iterable[SketchRows]) -> LshStore:
    """A fresh store from batches covering every text stored with a signature."""
    store = LshStore.create(directory, coverage)
    for batch in batches:
        store.append(batch)
    return store


class _RunWriter:
    """Writes a run's two files sequentially (no mapping, so written pages are not resident) and fsyncs them."""

    def __init__(self, directory: Path, run: RunInfo):
        self.run = run
        self.paths = (directory / (run.name + ".keys"), directory / (run.name + ".ordinals"))

    def __enter__(self) -> _RunWriter:
        self.handles = [open(path, "wb") for path in self.paths]  # noqa: SIM115 - closed in __exit__
        return self

    def write(self, keys: np.ndarray, ordinals: np.ndarray) -> None:
        keys.astype(_KEY, copy=False).tofile(self.handles[0])
        ordinals.astype(_ORDINAL, copy=False).tofile(self.handles[1])
        self.run.rows += len(keys)

    def __exit__(self, kind, error, traceback) -> None:
        for handle in self.handles:
            if error is None:
                handle.flush()
                os.fsync(handle.fileno())
            handle.close()
        if error is not None:
            for path in self.paths:
                path.unlink(missing_ok=True)
