"""The match step's inputs that need nothing stored, made ahead in a worker process and sent as Arrow.

For a batch of clean documents: each paragraph's id, matching form, text hash and token count
(`transform.paragraph_fields`), and the sketches of the batch's distinct texts (`engine.index_texts`: signatures,
distinct shingle sets, other-kind band keys) with the order that sorts their band keys. The writer then only cuts
the sketches down to the texts not yet stored (`NewTexts.select`), which gives exactly what it would have computed
itself. Band keys are not sent: the writer derives them from the signatures (`minhash.band_keys`, a few
milliseconds a batch); their sort order is (a 35 ms sort a batch, which the writer's lookups and the LSH store's
append would otherwise each redo).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from wirecopy.dedup.engine import NewTexts, index_texts
from wirecopy.dedup.minhash import band_keys
from wirecopy.dedup.settings import DedupSettings
from wirecopy.dedup.shingles import ShingleBatch
from wirecopy.models import CleanDocument
from wirecopy.transform import paragraph_fields, paragraph_lists


@dataclass
class Ahead:
    """Each document's paragraph fields (one list per document, in the documents' order, by `PARAGRAPH_FIELDS`
    name) and the sketches of every distinct text among them."""

    columns: dict[str, list[list]]
    sketches: NewTexts


def make_ahead(documents: list[CleanDocument], settings: DedupSettings) -> Ahead:
    """Paragraph fields and sketches of the documents' paragraphs, made as columns (no object per paragraph). The
    same document twice in a batch (a record repeated in a file) gets its fields twice: the writer keeps one."""
    fields = paragraph_fields(*paragraph_lists(documents))
    ends = list(itertools.accumulate(len(doc.paragraphs) for doc in documents))
    spans = list(zip([0, *ends[:-1]], ends, strict=True))
    names = [name for name, _ in PARAGRAPH_FIELDS]
    columns = {name: [values[start:end] for start, end in spans] for name, values in zip(names, fields, strict=True)}
    _, normalized, hashes, _ = fields
    by_hash = dict(zip(hashes, normalized, strict=True))
    return Ahead(columns, index_texts(sorted(by_hash), by_hash, settings))


def paragraph_columns(documents: list[CleanDocument], ahead: Ahead) -> dict[str, list]:
    """Per document, its paragraphs' ids, matching forms, text hashes and token counts: `documents` are the ones
    `make_ahead` was given, in the same order."""
    made = len(ahead.columns["paragraph_ids"])
    if len(documents) != made:
        raise ValueError(f"{len(documents)} documents, but paragraph fields were made for {made}")
    return ahead.columns


PARAGRAPH_FIELDS = [
    ("paragraph_ids", pa.list_(pa.string())),
    ("normalized", pa.list_(pa.string())),
    ("text_hashes", pa.list_(pa.int64())),
    ("token_counts", pa.list_(pa.int32())),
]


SKETCH_TABLES = ("sketch_texts", "sketch_eligible", "sketch_queried", "sketch_band_order")


def sketch_tables(sketches: NewTexts) -> dict[str, pa.Table]:
    """The sketches as tables, by `SKETCH_TABLES` name: per text (not its matching form: the paragraph columns
    carry it), per eligible text (signature, distinct shingles), per queried text, and the band keys' sort order."""
    n_perm = sketches.signatures.shape[1] if sketches.signatures.ndim == 2 else 0
    texts = pa.table({
        "hash": sketches.hashes, "token_count": sketches.token_counts, "shingle_count": sketches.shingle_counts,
        "eligible": sketches.eligible,
    })  # fmt: skip
    shingles = sketches.shingles
    eligible = pa.table({
        "signature": pa.FixedSizeListArray.from_arrays(pa.array(sketches.signatures.ravel()), n_perm),
        "shingles": pa.ListArray.from_arrays(pa.array(shingles.offsets), pa.array(shingles.hashes)),
    })  # fmt: skip
    n_bands = sketches.query_bands.shape[1] if sketches.query_bands.ndim == 2 else 0
    queried = pa.table({
        "hash": sketches.query_hashes,
        "bands": pa.FixedSizeListArray.from_arrays(pa.array(sketches.query_bands.ravel()), n_bands),
    })  # fmt: skip
    order = None
    if sketches.band_order is not None:  # positions in a batch's band keys: int32 on the wire, half the bytes
        order = pa.table({"position": pa.array(sketches.band_order.astype(np.int32), pa.int32())})
    return dict(zip(SKETCH_TABLES, (texts, eligible, queried, order), strict=True))


def sketches_from_tables(tables: dict[str, pa.Table], settings: DedupSettings, normalized: dict[int, str]) -> NewTexts:
    """Back from `sketch_tables` (`sketch_band_order` may be missing), given text hash → matching form; band keys
    recomputed from the signatures."""
    texts, eligible, queried = (tables[name] for name in SKETCH_TABLES[:3])
    order = tables.get("sketch_band_order")
    n_perm = settings.num_perm
    signature = eligible.column("signature").combine_chunks()
    signatures = signature.flatten().to_numpy().astype(np.uint32).reshape(len(signature), n_perm)
    shingle_lists = eligible.column("shingles").combine_chunks()
    offsets = shingle_lists.offsets.to_numpy().astype(np.int64)
    hashes = shingle_lists.values.to_numpy()
    bands = queried.column("bands").combine_chunks()
    hashes_of_texts = texts.column("hash").to_numpy().astype(np.int64)
    return NewTexts(
        hashes=hashes_of_texts,
        normalized=[normalized[h] for h in hashes_of_texts.tolist()],
        token_counts=texts.column("token_count").to_numpy().astype(np.int32),
        shingle_counts=texts.column("shingle_count").to_numpy().astype(np.int32),
        eligible=texts.column("eligible").to_numpy(zero_copy_only=False).astype(bool),
        signatures=signatures,
        bands=band_keys(signatures, settings.bands, settings.rows),
        shingles=ShingleBatch(hashes[offsets[0] :] if offsets[0] else hashes, offsets - offsets[0]),
        query_hashes=queried.column("hash").to_numpy().astype(np.int64),
        query_bands=bands.flatten().to_numpy().astype(np.int64).reshape(len(bands), settings.bands),
        band_order=None if order is None else order.column("position").to_numpy().astype(np.int64),
    )
