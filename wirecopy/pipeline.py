"""The stateless stages of an ingest, one batch at a time: read → skip stored documents → clean. No Prefect.

A batch is named by a `BatchRef`: file paths, or line ranges of a large JSONL file, so it can be sent to a
worker process or a Dask worker for the price of a few paths. The prepared batch comes back as Arrow IPC
buffers (documents with their paragraphs and removed segments, errors), not as pickled objects; the writer
reads them as one table (`load_input`, `wirecopy.columns`), without an object per document.

Documents already in the warehouse are dropped right after reading, by their id (a hash of outlet and
content), before any cleaning: `stored` is the sorted array of the ids stored when the run started.

Given the dedup settings, a worker also makes what the match step needs that depends on nothing stored
(`wirecopy.dedup.ahead`: paragraph ids, matching forms and text hashes, sketches of the batch's texts), so the
single writer does not: sent as more Arrow columns and tables, used by the writer only when its own dedup
settings are the same.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pyarrow as pa
from pydantic import BaseModel, ConfigDict

from wirecopy import spool
from wirecopy.batching import bounded_slices
from wirecopy.columns import DOCUMENTS, array, documents_table
from wirecopy.connectors.files import EXTENSION_KINDS, FileKind, SourceLimits, read_file
from wirecopy.connectors.jsonl import LineRange, split_lines
from wirecopy.connectors.outlets import with_outlet
from wirecopy.dedup import ahead as matching
from wirecopy.dedup.engine import NewTexts
from wirecopy.dedup.settings import DedupSettings
from wirecopy.models import CleanDocument, IngestError, RawDocument, source_key
from wirecopy.provenance import Relocations, relocated_uri
from wirecopy.transform import clean_documents


class FilePart(BaseModel):
    """A file to read, or (`start`/`end`) the lines of a large JSONL file that fall in that byte range."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    path: str
    root: str | None = None
    start: int = 0
    end: int | None = None
    first_line: int = 1
    size: int = 0

    def line_range(self) -> LineRange | None:
        return None if self.end is None else LineRange(self.start, self.end, self.first_line)


class BatchRef(BaseModel):
    """One warehouse transaction's worth of input, by reference."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    number: int
    parts: tuple[FilePart, ...]

    @property
    def first(self) -> str:
        return Path(self.parts[0].path).name if self.parts else ""

    @property
    def files(self) -> int:
        """Files this batch starts (a large JSONL file split over batches counts once, in its first)."""
        return sum(1 for part in self.parts if part.start == 0)


RAMP = (8, 4, 2)
"""The first batches of a run hold 1/8, 1/4 and 1/2 of `batch_bytes`: the first batch is cleaned before the
writer can start, so a small one lets the writer and the workers overlap sooner (the commits' fixed cost is paid
twice more). Not for an input of one batch or less: its parts would overlap little, and each commit's fixed cost
grows with the warehouse (≈ 0.35 s at a million paragraphs: a 10k-paragraph run into it took 4.55 s in three
batches, 4.19 s in one). The warehouse does not depend on the batching."""


def plan_batches(
    planned: list[tuple[Path, Path | None]], batch_bytes: int, batch_files: int, ramp: bool = True
) -> list[BatchRef]:
    """Group planned files into batches of at most `batch_files` parts and `batch_bytes` bytes (the first ones
    smaller, `RAMP`, unless `ramp` is False or everything fits in one); a JSONL file larger than a batch is first
    cut into ranges of whole lines, one or more batches of its own."""
    ramp_bounds = [max(1, batch_bytes // share) for share in RAMP] if ramp else []
    granule = min([batch_bytes, *ramp_bounds])
    parts: list[FilePart] = []
    for path, root in planned:
        size = _size(path)
        base = {"path": str(path), "root": str(root) if root else None}
        if size > granule and EXTENSION_KINDS.get(path.suffix.lower()) is FileKind.JSONL:
            parts += [
                FilePart(**base, start=r.start, end=r.end, first_line=r.first_line, size=r.end - r.start)
                for r in split_lines(path, granule)
            ]
        else:
            parts.append(FilePart(**base, size=size))
    sizes = np.fromiter((part.size for part in parts), dtype=np.int64, count=len(parts))
    if int(sizes.sum()) <= batch_bytes:
        ramp_bounds = []  # one batch: see RAMP
    slices, start = [], 0
    for bound in ramp_bounds:
        if start < len(parts):
            first = bounded_slices(sizes[start:], bound, batch_files)[0]
            slices.append(slice(start, start + first.stop))
            start += first.stop
    slices += [slice(start + s.start, start + s.stop) for s in bounded_slices(sizes[start:], batch_bytes, batch_files)]
    return [BatchRef(number=number, parts=tuple(parts[s])) for number, s in enumerate(slices)]


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0  # reading it reports the error


# --- stored documents ------------------------------------------------------------------------------


def id_array(doc_ids: list[str]) -> np.ndarray:
    """Document ids (32 hex digits) as a sorted array of 16-byte values: 16 bytes a stored document."""
    return np.sort(np.array([bytes.fromhex(doc_id) for doc_id in doc_ids], dtype="S16"))


def drop_stored(
    raws: list[RawDocument], stored: np.ndarray, relocations: Relocations | None = None
) -> tuple[list[RawDocument], int]:
    """The documents whose source key is not in `stored` (sorted: `warehouse.index.stored_document_ids`), and how
    many were dropped. The source key drops the same bytes from the same path or URL read under another outlet
    (the folder given decides a file's outlet): stored once, not again as another outlet's copy. A stored
    document met at a new place (same id, new source key) goes on to the writer, which counts it as seen and
    records the place (`document_sources`), so that it is dropped here next time whatever outlet that read gives
    it. `relocations`: the folders read → recorded (the inbox's claim → where the files were dropped,
    `wirecopy.provenance`): a key is that of the place the document is recorded at."""
    if not len(stored) or not raws:
        return raws, 0
    keys = (
        [source_key(relocated_uri(raw.source_uri, relocations), raw.content_hash) for raw in raws]
        if relocations
        else [raw.source_key for raw in raws]
    )
    known = _in_sorted(stored, np.array([bytes.fromhex(key) for key in keys], dtype="S16")).tolist()
    fresh = [raw for raw, is_known in zip(raws, known, strict=True) if not is_known]
    return fresh, len(raws) - len(fresh)


def _in_sorted(stored: np.ndarray, values: np.ndarray) -> np.ndarray:
    positions = np.minimum(np.searchsorted(stored, values), len(stored) - 1)
    return stored[positions] == values


# --- preparing a batch ------------------------------------------------------------------------------


@dataclass
class PreparedBatch:
    """Clean documents of one batch (raw, clean pairs), its errors, the stored documents skipped, and the
    seconds spent reading (`extract`) and cleaning (`transform`)."""

    documents: list[tuple[RawDocument, CleanDocument]] = field(default_factory=list)
    errors: list[IngestError] = field(default_factory=list)
    skipped: int = 0
    seconds: dict[str, float] = field(default_factory=dict)
    ahead: matching.Ahead | None = None  # the match step's inputs made ahead (with dedup settings given)
    dedup: DedupSettings | None = None  # … under these settings


def read_batch(ref: BatchRef, limits: SourceLimits) -> tuple[list[RawDocument], list[IngestError]]:
    """Documents and errors of the batch's files, in order."""
    raws: list[RawDocument] = []
    errors: list[IngestError] = []
    for part in ref.parts:
        root = Path(part.root) if part.root else None
        try:
            for item in read_file(Path(part.path), limits=limits, root=root, part=part.line_range()):
                (raws if isinstance(item, RawDocument) else errors).append(item)
        except Exception as error:  # a bug in a reader must not sink the run
            reason = f"{part.path}: unexpected {type(error).__name__}: {error}"
            errors.append(IngestError(source_uri=part.path, stage="read", reason=reason))
    return raws, errors


def prepare_documents(
    raws: list[RawDocument],
    stored: np.ndarray,
    errors: list[IngestError] | None = None,
    outlet: str | None = None,
    dedup: DedupSettings | None = None,
) -> PreparedBatch:
    """Skip stored documents, clean the rest: a `PreparedBatch` (read errors, if any, first). `outlet` replaces
    the outlet rule's (before the stored check: a document's id depends on its outlet). With `dedup`, the match
    step's inputs are made too (`ahead`)."""
    start = time.perf_counter()
    if outlet is not None:
        raws = [with_outlet(raw, outlet) for raw in raws]
    fresh, skipped = drop_stored(raws, stored)
    documents, clean_errors = clean_documents(fresh)
    seconds = {"transform": time.perf_counter() - start}
    prepared = PreparedBatch(documents, [*(errors or []), *clean_errors], skipped, seconds)
    if dedup is not None and documents:
        start = time.perf_counter()
        prepared.ahead, prepared.dedup = matching.make_ahead([doc for _, doc in documents], dedup), dedup
        seconds["sketch"] = time.perf_counter() - start
    return prepared


@dataclass
class ReadBatch:
    """A batch read, its stored documents dropped (`skipped`), not cleaned yet."""

    raws: list[RawDocument]
    errors: list[IngestError]
    skipped: int
    seconds: dict[str, float]


def read_fresh(
    ref: BatchRef,
    stored: np.ndarray,
    limits: SourceLimits,
    outlet: str | None = None,
    relocations: Relocations | None = None,
) -> ReadBatch:
    """Read the batch and drop its stored documents (`outlet` applied first: a document's id depends on it;
    `relocations`: `drop_stored`)."""
    start = time.perf_counter()
    raws, errors = read_batch(ref, limits)
    if outlet is not None:
        raws = [with_outlet(raw, outlet) for raw in raws]
    fresh, skipped = drop_stored(raws, stored, relocations)
    return ReadBatch(fresh, errors, skipped, {"extract": time.perf_counter() - start})


def clean_read(read: ReadBatch, dedup: DedupSettings | None = None) -> PreparedBatch:
    """Clean (and, with `dedup`, sketch) a batch read by `read_fresh`."""
    prepared = prepare_documents(read.raws, np.empty(0, dtype="S16"), read.errors, None, dedup)
    prepared.skipped = read.skipped
    prepared.seconds |= read.seconds
    return prepared


def prepare_batch(
    ref: BatchRef,
    stored: np.ndarray,
    limits: SourceLimits,
    outlet: str | None = None,
    dedup: DedupSettings | None = None,
    relocations: Relocations | None = None,
) -> PreparedBatch:
    """Read, skip stored, clean (and, with `dedup`, sketch): everything about a batch that does not need the
    warehouse."""
    return clean_read(read_fresh(ref, stored, limits, outlet, relocations), dedup)


def warm_up() -> None:
    """Load what the first batch would (this module's imports, the language model): a worker process started
    ahead of its first batch does it while the caller still reads the stored ids and the first batch."""
    from wirecopy.cleaning import langid_model

    langid_model.install()


def prepare_arrow(
    ref: BatchRef,
    stored: np.ndarray,
    max_file_bytes: int,
    outlet: str | None = None,
    dedup: DedupSettings | None = None,
    spool_to: str | None = None,
    relocations: Relocations | None = None,
) -> dict[str, bytes] | spool.SpooledBatch:
    """`prepare_batch` as Arrow IPC buffers: what a worker process sends back to the writer; written into the
    file `spool_to` when given (a local worker: `wirecopy.spool`) and that file can be written."""
    limits = SourceLimits(max_bytes=max_file_bytes)
    prepared = prepare_batch(ref, stored, limits, outlet, dedup, relocations)
    if spool_to is not None:
        try:
            return to_spool(prepared, spool_to)
        except OSError:  # the temporary directory full or gone: the batch travels as bytes instead
            Path(spool_to).unlink(missing_ok=True)
    return to_arrow(prepared)


def failed_batch(ref: BatchRef, error: BaseException) -> PreparedBatch:
    """A batch whose preparation failed as a whole (a worker died, a bug): one error per part, the run goes on."""
    reason = f"preparing the batch failed: {type(error).__name__}: {error}"
    errors = []
    for part in ref.parts:
        uri = part.path if part.end is None else f"{part.path}#L{part.first_line}…"
        errors.append(IngestError(source_uri=uri, stage="prepare", reason=f"{uri}: {reason}"))
    return PreparedBatch(errors=errors)


# --- Arrow exchange ---------------------------------------------------------------------------------

ERRORS = pa.schema([("source_uri", pa.string()), ("stage", pa.string()), ("reason", pa.string())])


def _ipc(table: pa.Table) -> bytes:
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, table.schema) as writer:
        writer.write_table(table)
    return sink.getvalue().to_pybytes()


def _table(data: bytes | pa.Buffer) -> pa.Table:
    return pa.ipc.open_stream(data).read_all()


def to_arrow(prepared: PreparedBatch) -> dict[str, bytes]:
    """The prepared batch as Arrow IPC streams (documents, errors, sketches) plus a small JSON header."""
    out = {name: _ipc(table) for name, table in _streams(prepared)}
    out["header"] = json.dumps(_header(prepared)).encode()
    return out


def to_spool(prepared: PreparedBatch, path: str) -> spool.SpooledBatch:
    """`to_arrow`'s streams written into a file at `path` (`wirecopy.spool`): what a local worker hands back."""
    return spool.write_batch(Path(path), _streams(prepared), _header(prepared))


def _streams(prepared: PreparedBatch) -> Iterator[tuple[str, pa.Table]]:
    """The prepared batch's tables by name, made one at a time (each is serialised and dropped before the next)."""
    errors = {name: [getattr(e, name) for e in prepared.errors] for name in ERRORS.names}
    yield "errors", pa.table(errors, schema=ERRORS)
    yield "documents", documents_table(prepared.documents, prepared.ahead)
    if prepared.ahead is not None:
        tables = matching.sketch_tables(prepared.ahead.sketches)
        yield from ((name, table) for name, table in tables.items() if table is not None)


def _header(prepared: PreparedBatch) -> dict:
    header = {"documents": len(prepared.documents), "skipped": prepared.skipped, "seconds": prepared.seconds}
    if prepared.ahead is not None:
        header["dedup"] = prepared.dedup.model_dump(mode="json")
    return header


@dataclass
class LoadInput:
    """A prepared batch as the load stage takes it: the documents as one table (`wirecopy.columns`), the errors,
    the stored documents skipped, and the sketches made ahead when they were made under the writer's settings."""

    table: pa.Table
    errors: list[IngestError]
    skipped: int
    sketches: NewTexts | None = None


def load_input(data: spool.Prepared, dedup: DedupSettings) -> LoadInput:
    """Back from `to_arrow` without an object per document or paragraph; the paragraph columns and sketches made
    ahead are kept only when they were made under `dedup`."""
    table = _table(data["documents"])
    header = prepared_header(data)
    made = "sketch_texts" in data and header.get("dedup") == dedup.model_dump(mode="json")
    if not made:
        return LoadInput(table.select(DOCUMENTS.names), prepared_errors(data), header["skipped"])
    hashes = array(table, "text_hashes").flatten().to_pylist()
    normalized = dict(zip(hashes, array(table, "normalized").flatten().to_pylist(), strict=True))
    tables = {name: _table(data[name]) for name in matching.SKETCH_TABLES if name in data}
    sketches = matching.sketches_from_tables(tables, dedup, normalized)
    return LoadInput(table, prepared_errors(data), header["skipped"], sketches)


def prepared_header(data: spool.Prepared) -> dict:
    """The JSON header of a prepared batch: `skipped` (stored documents) and `seconds` per stage."""
    return json.loads(data["header"])


def prepared_errors(data: spool.Prepared) -> list[IngestError]:
    """The errors of a prepared batch (without decoding its documents)."""
    return [IngestError.model_construct(**row) for row in _table(data["errors"]).to_pylist()]
