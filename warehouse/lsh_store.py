"""The near-duplicate index's hot data, kept beside the warehouse file in memory-mapped arrays.

Why not DuckDB tables: a batch needs point lookups — its band keys among every stored key (32 per text),
then the signatures and normalised texts of the stored candidates. In DuckDB the first is a hash join that
scans every stored key (32 M rows at a million paragraphs), and each scattered row fetch decompresses a
whole vector (≈ 0.1 ms per row): a batch cost more the bigger the warehouse was. Here a lookup is a binary
search of the batch's sorted keys in sorted runs, and a fetch reads one fixed-width row.

Layout of `<warehouse file>.lsh/` (little-endian raw arrays; n = texts covered):
- `manifest.json`: what the store covers (`Coverage`) and its band runs, oldest first;
- `texts.hashes` int64[n], `texts.signatures` uint32[n, num_perm], `texts.sizes` int32[n] (distinct shingles),
  `texts.ends` int64[n] and `texts.heap` (UTF-8 normalised texts; text i ends at `ends[i]`),
  `texts.shingle_ends` int64[n] and `texts.shingles` uint32 (each text's distinct shingle hashes, sorted: text i's
  `sizes[i]` of them end at `shingle_ends[i]`): rows are *ordinals*, in the order texts were added;
- `<run>.keys` int64 sorted and `<run>.ordinals` int32: one row per (band key, text); `<run>.filter`: a Bloom
  filter of the run's keys (`key_filter.py`), so a lookup searches the run only for keys it may hold;
  `<run>.samples`: every `SAMPLE_STRIDE`-th key, which bounds the rows each search reads.

Runs are added after each committed batch; the newest runs are merged while the one before them is no larger
than they are together (the logarithmic method: at most log2(batches) runs, every key rewritten at most
log2(batches) times), all of them in one pass. Runs are searched, gathered and merged one window at a time,
releasing each window's pages (`mapped_files.py`), and texts are read with pread, so resident memory stays
bounded whatever the size of the store.

The store is derived data; `dedup_texts` is the source of truth. A store that does not cover exactly the
texts stored with a signature (a crash between the commit and the append, a restored or copied warehouse
file, other LSH settings) is discarded and rebuilt from `dedup_texts`.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from pydantic import BaseModel, ValidationError
from wirecopy.warehouse import key_filter, mapped_files

from wirecopy.dedup import arrays

FORMAT = 4
MAX_TEXTS = np.iinfo(np.int32).max
_KEY = np.dtype("<i8")
_ORDINAL = np.dtype("<i4")
_HASH = np.dtype("<i8")
_SIGNATURE = np.dtype("<u4")
_SIZE = np.dtype("<i4")
_END = np.dtype("<i8")
_SHINGLE = np.dtype("<u4")


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
    shingle_items: int = 0
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
    shingles: np.ndarray  # uint32: each text's distinct sorted shingle hashes, text after text (`sizes` each)
    band_order: np.ndarray | None = None  # stable argsort of `band_keys.ravel()` when already made

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
            f"{run.name}{suffix}": size for run in manifest.runs for suffix, size in _run_file_sizes(run).items()
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
        probe = key_filter.Probe(keys)
        hits = []
        for run in self.manifest.runs:
            maybe = np.flatnonzero(self._may_hold(run, probe))
            held, lo, hi = self._search(run, keys[maybe])
            hits.append((run, maybe[held], lo, hi))
        counts = np.zeros(len(keys), dtype=np.int64)
        for _, held, lo, hi in hits:
            counts[held] += hi - lo
        wanted = counts <= cap
        found_keys, found_ordinals = [np.empty(0, np.int64)], [np.empty(0, np.int64)]
        for run, held, lo, hi in hits:
            keep = wanted[held]
            sizes = (hi - lo)[keep]
            found_keys.append(np.repeat(keys[held[keep]], sizes))
            positions = arrays.expand_ranges(lo[keep], sizes)
            found_ordinals.append(self._gather_file(run.name + ".ordinals", _ORDINAL, run.rows, positions))
        return np.concatenate(found_keys), np.concatenate(found_ordinals).astype(np.int64)

    def hashes(self, ordinals: np.ndarray) -> np.ndarray:
        return self._gather_file("texts.hashes", _HASH, self.coverage.texts, ordinals)

    def sketches(self, ordinals: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(signature matrix, distinct shingle counts) of the texts at `ordinals`."""
        n, num_perm = self.coverage.texts, self.coverage.num_perm
        signatures = self._gather_file("texts.signatures", _SIGNATURE, n, ordinals, width=num_perm)
        return signatures, self._gather_file("texts.sizes", _SIZE, n, ordinals).astype(np.int64)

    def shingle_sets(self, ordinals: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(hashes, offsets): the distinct sorted shingle hashes of the text at `ordinals[i]` are
        `hashes[offsets[i]:offsets[i + 1]]`."""
        starts, ends = self._spans("texts.shingle_ends", ordinals)
        counts = ends - starts
        positions = arrays.expand_ranges(starts, counts)  # in the order asked for; `gather` reads in file order
        hashes = self._gather_file("texts.shingles", _SHINGLE, self.manifest.shingle_items, positions)
        offsets = np.zeros(len(ordinals) + 1, dtype=np.int64)
        np.cumsum(counts, out=offsets[1:])
        return hashes, offsets

    def texts(self, ordinals: np.ndarray) -> list[str]:
        """Normalised texts at `ordinals`."""
        starts, ends = self._spans("texts.ends", ordinals)
        with open(self.directory / "texts.heap", "rb") as handle:  # pread: a mapping would fault in 64 KB per text
            fd = handle.fileno()
            return [
                os.pread(fd, end - start, start).decode("utf-8")
                for start, end in zip(starts.tolist(), ends.tolist(), strict=True)
            ]

    def _spans(self, ends_file: str, ordinals: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(starts, ends) in a heap file of the texts at `ordinals`, from `ends_file` (text i ends where text i + 1
        starts; text 0 starts at 0)."""
        previous = ordinals > 0
        bounds = self._gather_file(
            ends_file, _END, self.coverage.texts, np.concatenate((ordinals, ordinals[previous] - 1))
        )
        ends = bounds[: len(ordinals)]
        starts = np.zeros(len(ordinals), dtype=np.int64)
        starts[previous] = bounds[len(ordinals) :]
        return starts, ends

    def _may_hold(self, run: RunInfo, probe: key_filter.Probe) -> np.ndarray:
        path = self.directory / (run.name + ".filter")
        return key_filter.may_hold(path, key_filter.words_for(run.rows), probe)

    def _search(self, run: RunInfo, keys: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(indexes into sorted `keys` of the keys the run holds, and their [lo, hi) positions in the run)."""
        samples = np.fromfile(self.directory / (run.name + ".samples"), dtype=_KEY)
        with mapped_files.mapped(self.directory / (run.name + ".keys"), _KEY, run.rows) as (stored, release):
            return mapped_files.equal_ranges(stored, release, keys, samples, SAMPLE_STRIDE)

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
        order = new.band_order if new.band_order is not None else np.argsort(flat, kind="stable")
        run = self._new_run()
        with _RunWriter(self.directory, run, len(flat)) as out:
            out.write(flat[order], owners[order])
        encoded = [text.encode("utf-8") for text in new.normalized]
        ends = self.manifest.heap_bytes + np.cumsum([len(b) for b in encoded], dtype=np.int64)
        shingle_ends = self.manifest.shingle_items + np.cumsum(new.sizes, dtype=np.int64)
        if int(shingle_ends[-1]) != self.manifest.shingle_items + len(new.shingles):
            raise ValueError("the texts' shingles do not add up to their sizes")
        mapped_files.append_files(self.directory, {
            "texts.hashes": new.hashes.astype(_HASH),
            "texts.signatures": new.signatures.astype(_SIGNATURE),
            "texts.sizes": new.sizes.astype(_SIZE),
            "texts.ends": ends.astype(_END),
            "texts.heap": b"".join(encoded),
            "texts.shingle_ends": shingle_ends.astype(_END),
            "texts.shingles": new.shingles.astype(_SHINGLE),
        })  # fmt: skip
        self.manifest.runs.append(run)
        self.manifest.coverage = self.coverage.plus(new.hashes)
        self.manifest.heap_bytes = int(ends[-1])
        self.manifest.shingle_items = int(shingle_ends[-1])
        self._write_manifest()
        self._compact()

    def _compact(self) -> None:
        """Merge the newest runs while the run before them is no larger than they are together (one pass for
        the whole cascade: each row is written once, not once per step)."""
        runs = self.manifest.runs
        take, rows = 1, runs[-1].rows if runs else 0
        while take < len(runs) and runs[-1 - take].rows <= rows:
            rows += runs[-1 - take].rows
            take += 1
        if take < 2:
            return
        merged = self._new_run()
        with _RunWriter(self.directory, merged, rows) as out:
            for keys, ordinals in self._merged_windows(runs[-take:]):
                out.write(keys, ordinals)
        runs[-take:] = [merged]
        self._write_manifest()

    def _merged_windows(self, runs: list[RunInfo]) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        """`runs` (oldest first) merged in key order, one window of the largest run (and the others' share of
        its keys) at a time; among equal keys of one window, older runs' rows come first.

        Runs are read sequentially with plain reads, not mapped: pages of freshly written runs mapped for a
        merge stayed resident (+60 MB at 20 M rows) although every window was released."""
        lead = max(range(len(runs)), key=lambda i: runs[i].rows)  # none holds more than its share of each window
        with ExitStack() as stack:
            readers = [stack.enter_context(_RunReader(self.directory, run)) for run in runs]
            total = runs[lead].rows
            for start in range(0, total, MERGE_WINDOW_ROWS):
                stop = min(start + MERGE_WINDOW_ROWS, total)
                bound = readers[lead].key(stop) if stop < total else None
                parts = [
                    reader.rows(start, stop) if i == lead else reader.take_below(bound)
                    for i, reader in enumerate(readers)
                ]
                keys, ordinals = parts[0]
                for more_keys, more_ordinals in parts[1:]:
                    keys, ordinals = merge_sorted(keys, ordinals, more_keys, more_ordinals)
                yield keys, ordinals

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
            "texts.shingle_ends": n * _END.itemsize,
            "texts.shingles": self.manifest.shingle_items * _SHINGLE.itemsize,
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


MERGE_WINDOW_ROWS = 1 << 17
"""Rows of the largest run merged at a time (≈ 20 MB of scratch with the other runs' share)."""


SAMPLE_STRIDE = 256
"""A run keeps every 256th key in `<run>.samples` (1 MB for 32 M rows)."""


def _run_file_sizes(run: RunInfo) -> dict[str, int]:
    return {
        ".keys": run.rows * _KEY.itemsize,
        ".samples": -(-run.rows // SAMPLE_STRIDE) * _KEY.itemsize,
        ".ordinals": run.rows * _ORDINAL.itemsize,
        ".filter": key_filter.words_for(run.rows) * key_filter.WORD.itemsize,
    }


_TEXT_FILES = (
    "texts.hashes", "texts.signatures", "texts.sizes", "texts.ends", "texts.heap", "texts.shingle_ends",
    "texts.shingles",
)  # fmt: skip


def rebuild(directory: Path, coverage: Coverage, batches: Iterable[SketchRows]) -> LshStore:
    """A fresh store from batches covering every text stored with a signature."""
    store = LshStore.create(directory, coverage)
    for batch in batches:
        store.append(batch)
    return store


def merge_sorted(
    a_keys: np.ndarray, a_values: np.ndarray, b_keys: np.ndarray, b_values: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Two key-sorted runs as one, `a`'s rows first among equal keys (a stable sort of a + b, in linear time)."""
    n = len(a_keys) + len(b_keys)
    at = np.searchsorted(a_keys, b_keys, side="right") + np.arange(len(b_keys))
    from_a = np.ones(n, dtype=bool)
    from_a[at] = False
    keys, values = np.empty(n, dtype=a_keys.dtype), np.empty(n, dtype=a_values.dtype)
    keys[at], values[at] = b_keys, b_values
    keys[from_a], values[from_a] = a_keys, a_values
    return keys, values


class _RunReader:
    """A run's keys and ordinals by plain reads: by row range, or consumed in key order up to a bound."""

    def __init__(self, directory: Path, run: RunInfo):
        self.run = run
        self.paths = (directory / (run.name + ".keys"), directory / (run.name + ".ordinals"))
        self.read_to = 0  # rows read by `take_below` so far …
        self.keys, self.ordinals = np.empty(0, _KEY), np.empty(0, _ORDINAL)  # … of which these are not taken yet

    def __enter__(self) -> _RunReader:
        self.handles = [open(path, "rb") for path in self.paths]  # noqa: SIM115 - closed in __exit__
        return self

    def __exit__(self, kind, error, traceback) -> None:
        for handle in self.handles:
            handle.close()

    def rows(self, start: int, stop: int) -> tuple[np.ndarray, np.ndarray]:
        return self._read(0, _KEY, start, stop), self._read(1, _ORDINAL, start, stop)

    def key(self, row: int) -> int:
        return int(self._read(0, _KEY, row, row + 1)[0])

    def take_below(self, bound: int | None) -> tuple[np.ndarray, np.ndarray]:
        """The next rows in key order whose keys are below `bound` (all remaining rows when None)."""
        while self.read_to < self.run.rows and (bound is None or not len(self.keys) or self.keys[-1] < bound):
            stop = min(self.read_to + MERGE_WINDOW_ROWS, self.run.rows)
            keys, ordinals = self.rows(self.read_to, stop)
            self.keys, self.ordinals = np.concatenate((self.keys, keys)), np.concatenate((self.ordinals, ordinals))
            self.read_to = stop
        cut = len(self.keys) if bound is None else int(np.searchsorted(self.keys, bound, side="left"))
        taken = self.keys[:cut], self.ordinals[:cut]
        self.keys, self.ordinals = self.keys[cut:], self.ordinals[cut:]
        return taken

    def _read(self, file: int, dtype: np.dtype, start: int, stop: int) -> np.ndarray:
        size = dtype.itemsize
        data = os.pread(self.handles[file].fileno(), (stop - start) * size, start * size)
        if len(data) != (stop - start) * size:
            raise ValueError(f"{self.paths[file]} is shorter than its {self.run.rows:,} rows")
        return np.frombuffer(data, dtype=dtype)


class _RunWriter:
    """Writes a run of `rows` rows sequentially (no mapping, so written pages are not resident) — its keys,
    ordinals, samples and filter — and fsyncs them."""

    def __init__(self, directory: Path, run: RunInfo, rows: int):
        self.run = run
        self.rows = rows
        self.paths = [directory / (run.name + suffix) for suffix in _run_file_sizes(run)]

    def __enter__(self) -> _RunWriter:
        self.handles = dict(zip(_run_file_sizes(self.run), (open(p, "wb") for p in self.paths), strict=True))  # noqa: SIM115 - closed in __exit__
        self.filter = key_filter.FilterWriter(self.handles[".filter"], self.rows)
        return self

    def write(self, keys: np.ndarray, ordinals: np.ndarray) -> None:
        keys.astype(_KEY, copy=False).tofile(self.handles[".keys"])
        ordinals.astype(_ORDINAL, copy=False).tofile(self.handles[".ordinals"])
        keys[-self.run.rows % SAMPLE_STRIDE :: SAMPLE_STRIDE].astype(_KEY, copy=False).tofile(self.handles[".samples"])
        self.filter.add(keys)
        self.run.rows += len(keys)

    def __exit__(self, kind, error, traceback) -> None:
        complete = error is None and self.run.rows == self.rows
        try:
            if complete:
                self.filter.finish()
                for handle in self.handles.values():
                    handle.flush()
                    os.fsync(handle.fileno())
        except BaseException:
            complete = False
            raise
        finally:
            for handle in self.handles.values():
                handle.close()
            if not complete:  # a run left half written is never referenced: remove it
                for path in self.paths:
                    path.unlink(missing_ok=True)
        if error is None and not complete:
            raise ValueError(f"run {self.run.name} got {self.run.rows:,} rows, expected {self.rows:,}")
