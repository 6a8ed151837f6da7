"""Incremental paragraph dedup: the data types, the sketching of new texts and the clustering; the match step
that uses them is `wirecopy.dedup.match`.

Pipeline, each step a plain function:
1. group paragraphs by the hash of their normalised text (the exact path: identical texts are one node);
2. shingle + MinHash + band keys for new texts of `short_min_tokens` words or more (word 3-grams, or single
   words for short paragraphs such as titles);
3. LSH candidates within the batch and against the stored index, oversized buckets skipped;
4. verify: a cheap prefilter on exact shingle sets, then the duplicate definition (`definition.judge`: copied
   word runs, B1/B2 overlap, no changed fact) on the survivors → near / containment edges;
5. re-cluster every connected component the batch touched, in keep-rule order.
The index is read through `DedupIndex`, so the engine itself never touches storage. Steps 1–2 need nothing
stored (a worker process can run them: `index_texts`); 3–5 are `match.match_batch`.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import NamedTuple, Protocol

import numpy as np

from wirecopy.dedup import across_kinds, arrays
from wirecopy.dedup.candidates import pairs_from_buckets
from wirecopy.dedup.clustering import assign_representatives
from wirecopy.dedup.minhash import band_keys, signatures
from wirecopy.dedup.settings import DedupSettings
from wirecopy.dedup.shingles import ShingleBatch, distinct, shingle_batch
from wirecopy.dedup.verify import Edge
from wirecopy.models import DedupMethod


def text_hash(normalized: str) -> int:
    """Signed 64-bit id of a normalised text: the node of the dedup graph."""
    return int.from_bytes(hashlib.blake2b(normalized.encode(), digest_size=8).digest(), "big", signed=True)


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)
_EARLIEST = -(1 << 63)
"""Stands for a missing date in a `KeepKey` (the field before it says it is missing)."""


def epoch_us(moment: datetime | int | None) -> int | None:
    """Microseconds since 1970 (UTC) of an aware datetime; an int is taken as such already."""
    if moment is None or isinstance(moment, int):
        return moment
    return (moment - _EPOCH) // _MICROSECOND


class KeepKey(NamedTuple):
    """Keep-rule order: earliest published, then earliest captured (fetched_at), then a stable id. A named tuple:
    clustering sorts every touched paragraph by it, and tuples compare in C (a frozen ordered dataclass compared
    field by field in Python: 0.5 s of a 100,000-paragraph writer's profile). Dates are microseconds since 1970:
    the warehouse gives them so (`epoch_us` in SQL, Arrow's int64 view of a timestamp), without a datetime
    object per stored paragraph."""

    no_published: bool
    published_us: int
    no_fetched: bool
    fetched_us: int
    doc_id: str
    position: int

    @classmethod
    def of(cls, published_at: datetime | int | None, fetched_at: datetime | int | None, doc_id: str, position: int):
        """The key of a paragraph; dates as aware datetimes or microseconds since 1970, None when unknown."""
        published, fetched = epoch_us(published_at), epoch_us(fetched_at)
        return cls(
            published is None,
            _EARLIEST if published is None else published,
            fetched is None,
            _EARLIEST if fetched is None else fetched,
            doc_id,
            position,
        )


class Link(NamedTuple):
    """A paragraph judged a copy of an earlier canonical paragraph: a row of `duplicate_links` (a named tuple:
    a batch makes tens of thousands)."""

    paragraph_id: str
    canonical_id: str
    cluster_id: str
    method: DedupMethod
    similarity: float


class ParagraphRef(NamedTuple):
    """What the engine needs to know about one paragraph (a named tuple: one per paragraph of a batch)."""

    paragraph_id: str
    text_hash: int
    key: KeepKey


@dataclass(frozen=True)
class ParagraphColumns:
    """A batch's paragraphs column-wise: ids, text hashes, and what makes each one's keep-rule key (its document's
    part and its position). The match step makes a `ParagraphRef` only for the paragraphs clustering may link,
    not one per paragraph."""

    ids: list[str]
    hashes: np.ndarray  # int64
    documents: np.ndarray  # row of each paragraph's document in `heads`
    positions: np.ndarray  # int
    heads: list[tuple]  # per document: its `KeepKey` without the position

    @classmethod
    def of_refs(cls, refs: list[ParagraphRef]) -> ParagraphColumns:
        return cls(
            ids=[ref.paragraph_id for ref in refs],
            hashes=np.array([ref.text_hash for ref in refs], dtype=np.int64),
            documents=np.arange(len(refs), dtype=np.int64),
            positions=np.array([ref.key.position for ref in refs], dtype=np.int64),
            heads=[tuple(ref.key[:-1]) for ref in refs],
        )

    def refs(self, rows: np.ndarray) -> list[ParagraphRef]:
        """The `ParagraphRef`s of these rows."""
        heads, ids = self.heads, self.ids
        return [
            ParagraphRef(ids[row], text, KeepKey._make((*heads[document], position)))
            for row, text, document, position in zip(
                rows.tolist(), self.hashes[rows].tolist(), self.documents[rows].tolist(),
                self.positions[rows].tolist(), strict=True,
            )
        ]  # fmt: skip


@dataclass(frozen=True)
class NewTexts:
    """Normalised texts not yet in the index, column-wise, with everything the index stores about them.

    Texts with fewer than `short_min_tokens` tokens are exact-path only: not `eligible`, no signature.
    `signatures`, `bands` and `shingles` hold one row per eligible text, in order.
    """

    hashes: np.ndarray  # int64
    normalized: list[str]
    token_counts: np.ndarray  # int32
    shingle_counts: np.ndarray  # int32, 0 when not eligible
    eligible: np.ndarray  # bool
    signatures: np.ndarray  # (n_eligible, num_perm) uint32
    bands: np.ndarray  # (n_eligible, bands) int64
    shingles: ShingleBatch  # distinct sorted shingle hashes per eligible text
    query_hashes: np.ndarray = field(default_factory=lambda: np.empty(0, np.int64))  # texts near `min_tokens` …
    query_bands: np.ndarray = field(default_factory=lambda: np.empty((0, 0), np.int64))  # … and their other-kind keys
    band_order: np.ndarray | None = None  # stable argsort of `bands.ravel()` (`index_texts` makes it, in a worker)

    def __len__(self) -> int:
        return len(self.hashes)

    def sorted_bands(self) -> tuple[np.ndarray, np.ndarray]:
        """(band keys, eligible row of each) sorted by key, ties in row order: `band_order` applied (sorted in a
        worker when the sketches are made ahead, off the writer's path), or sorted here."""
        flat = self.bands.ravel()
        order = self.band_order if self.band_order is not None else np.argsort(flat, kind="stable")
        return flat[order], order // max(self.bands.shape[1], 1)

    def select(self, hashes: list[int]) -> NewTexts:
        """The rows of `hashes` (sorted, each present), exactly as `index_texts` makes them for those texts alone:
        every column is per text, so sketches made ahead for a superset (in a worker) can be cut down here."""
        wanted = np.array(hashes, dtype=np.int64)
        rows = np.searchsorted(self.hashes, wanted)
        if len(wanted) and (rows.max() >= len(self.hashes) or (self.hashes[rows] != wanted).any()):
            raise KeyError("select asked for texts that were not sketched")
        eligible_rows = (np.cumsum(self.eligible) - 1)[rows[self.eligible[rows]]]
        shingles = self.shingles
        counts = shingles.counts()[eligible_rows]
        offsets = np.zeros(len(eligible_rows) + 1, dtype=shingles.offsets.dtype)
        np.cumsum(counts, out=offsets[1:])
        starts = shingles.offsets[:-1][eligible_rows]
        queried = arrays.isin(self.query_hashes, wanted)
        band_order = None
        if self.band_order is not None:  # keep the selected rows' entries, renumbered: still sorted, ties in order
            width = max(self.bands.shape[1], 1)
            selected = np.zeros(len(self.bands), dtype=bool)
            selected[eligible_rows] = True
            renumbered = np.cumsum(selected) - 1
            kept = self.band_order[selected[self.band_order // width]]
            band_order = renumbered[kept // width] * width + kept % width
        return NewTexts(
            hashes=wanted,
            normalized=[self.normalized[r] for r in rows.tolist()],
            token_counts=self.token_counts[rows],
            shingle_counts=self.shingle_counts[rows],
            eligible=self.eligible[rows],
            signatures=self.signatures[eligible_rows],
            bands=self.bands[eligible_rows],
            shingles=ShingleBatch(shingles.hashes[arrays.expand_ranges(starts, counts)], offsets),
            query_hashes=self.query_hashes[queried],
            query_bands=self.query_bands[queried],
            band_order=band_order,
        )


class DedupIndex(Protocol):
    """Read access to the persisted dedup state."""

    def known_texts(self, hashes: Iterable[int]) -> set[int]: ...
    def band_members(self, keys: np.ndarray, cap: int) -> tuple[np.ndarray, np.ndarray]:
        """(key, node) rows for the given band keys, leaving out buckets holding more than `cap` nodes."""
        ...

    def normalized_texts(self, hashes: Iterable[int]) -> dict[int, str]: ...
    def sketches(self, hashes: np.ndarray, num_perm: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(ids, signature matrix, distinct shingle counts) of stored texts, in the order of `ids`."""
        ...

    def shingle_sets(self, hashes: np.ndarray) -> ShingleBatch:
        """Distinct sorted shingle hashes of stored texts (with a signature), one set per hash, in that order."""
        ...

    def edges_touching(self, hashes: Iterable[int]) -> list[Edge]: ...
    def conflicts_among(self, hashes: Iterable[int]) -> set[tuple[int, int]]:
        """Stored conflicting pairs (a < b) with both texts among `hashes`."""
        ...

    def paragraphs_of(self, hashes: Iterable[int]) -> list[ParagraphRef]: ...


@dataclass
class DedupPlan:
    """Everything the warehouse must write for one batch."""

    new_texts: NewTexts | None = None
    new_edges: list[Edge] = field(default_factory=list)
    new_conflicts: list[Conflicting] = field(default_factory=list)
    reassigned: list[str] = field(default_factory=list)  # paragraph ids whose links are replaced
    relinked_texts: list[int] = field(default_factory=list)  # their texts (sorted): clusters may have changed
    links: list[Link] = field(default_factory=list)  # every link of the touched clusters
    batch_paragraphs: set[str] = field(default_factory=set)

    def counts(self) -> dict[str, int]:
        """Links of this batch's own paragraphs, by method (re-computed links of stored ones are not counted)."""
        out = {m.value: 0 for m in DedupMethod}
        for link in self.links:
            if link.paragraph_id in self.batch_paragraphs:
                out[link.method.value] += 1
        return out


def index_texts(fresh: list[int], normalized: dict[int, str], settings: DedupSettings) -> NewTexts:
    texts = [normalized[h] for h in fresh]
    token_counts = np.array([t.count(" ") + 1 if t else 0 for t in texts], dtype=np.int32)
    eligible = token_counts >= settings.short_min_tokens
    sketched = [t for t, ok in zip(texts, eligible, strict=True) if ok]
    batch = shingle_texts(sketched, settings)
    sigs = signatures(batch, settings.num_perm, settings.seed)
    sets = distinct(batch)
    shingle_counts = np.zeros(len(texts), dtype=np.int32)
    shingle_counts[eligible] = sets.counts()
    query_rows, query_bands = across_kinds.query_bands(sketched, settings)
    bands = band_keys(sigs, settings.bands, settings.rows)
    return NewTexts(
        hashes=np.array(fresh, dtype=np.int64),
        normalized=texts,
        token_counts=token_counts,
        shingle_counts=shingle_counts,
        eligible=eligible,
        signatures=sigs,
        bands=bands,
        shingles=sets,
        query_hashes=np.array(fresh, dtype=np.int64)[eligible][query_rows],
        query_bands=query_bands,
        band_order=np.argsort(bands.ravel(), kind="stable"),
    )


def shingle_texts(texts: list[str], settings: DedupSettings) -> ShingleBatch:
    """Shingles of matching-form texts, in order: `shingle_spec` for texts of `min_tokens` words or more,
    `short_shingle_spec` for shorter ones (one shingle of a title would not survive a single edit)."""
    short = np.array([t.count(" ") + 1 < settings.min_tokens for t in texts], dtype=bool)
    if not short.any() or short.all():
        return shingle_batch(texts, settings.short_shingle_spec if short.any() else settings.shingle_spec)
    parts = [
        shingle_batch([t for t, s in zip(texts, short, strict=True) if s == is_short], spec)
        for is_short, spec in ((False, settings.shingle_spec), (True, settings.short_shingle_spec))
    ]
    counts = np.empty(len(texts), dtype=np.int64)
    counts[~short], counts[short] = parts[0].counts(), parts[1].counts()
    starts = np.empty(len(texts), dtype=np.int64)
    starts[~short] = parts[0].offsets[:-1]
    starts[short] = len(parts[0].hashes) + parts[1].offsets[:-1]
    hashes = np.concatenate((parts[0].hashes, parts[1].hashes))[arrays.expand_ranges(starts, counts)]
    offsets = np.zeros(len(texts) + 1, dtype=np.int64)
    np.cumsum(counts, out=offsets[1:])
    return ShingleBatch(hashes, offsets)


def candidate_pairs(normalized: dict[int, str], settings: DedupSettings) -> np.ndarray:
    """LSH candidate pairs among these texts alone (no index): what the candidate step proposes for verification."""
    new = index_texts(sorted(normalized), normalized, settings)
    new_ids = new.hashes[new.eligible]
    if not len(new_ids):
        return np.zeros((0, 2), np.int64)
    own = pairs_from_buckets(new.bands, new_ids, settings.bucket_cap)
    crossed = across_kinds.looked_up(
        new.query_bands.ravel(), np.repeat(new.query_hashes, settings.bands),
        new.bands.ravel(), np.repeat(new_ids, settings.bands), settings.bucket_cap,
    )  # fmt: skip
    return np.unique(np.concatenate((own, crossed)), axis=0)


@dataclass(frozen=True)
class Conflicting:
    """Two texts that overlap like copies but report different facts (a template): never in one cluster."""

    a: int
    b: int
    kind: str

    @property
    def pair(self) -> tuple[int, int]:
        return (min(self.a, self.b), max(self.a, self.b))


def cluster_links(
    refs: list[ParagraphRef], edges: list[Edge], conflicts: set[tuple[int, int]] = frozenset()
) -> list[Link]:
    """Duplicate links for every non-canonical paragraph among `refs` (whole components); texts of a conflicting
    pair (a < b) never share a cluster."""
    by_node: dict[int, list[ParagraphRef]] = defaultdict(list)
    for ref in refs:
        by_node[ref.text_hash].append(ref)
    edges = [e for e in edges if e.a in by_node and e.b in by_node]
    linked = {e.a for e in edges} | {e.b for e in edges}
    # a text of one paragraph and no edge leads its own cluster of one: no link, whatever the others do
    by_node = {node: members for node, members in by_node.items() if len(members) > 1 or node in linked}
    for members in by_node.values():
        members.sort(key=lambda r: r.key)
    ordered = sorted(by_node, key=lambda n: by_node[n][0].key)
    assignment = assign_representatives(ordered, edges, conflicts)
    links = []
    for node, members in by_node.items():
        chosen = assignment[node]
        canonical = by_node[chosen.representative][0]
        cluster_id = f"{chosen.representative & 0xFFFFFFFFFFFFFFFF:016x}"
        for ref in members:
            if ref.paragraph_id == canonical.paragraph_id:
                continue
            if chosen.edge is None:
                method, similarity = DedupMethod.EXACT, 1.0
            else:
                method, similarity = chosen.edge.method, chosen.edge.similarity
            links.append(Link(ref.paragraph_id, canonical.paragraph_id, cluster_id, method, similarity))
    return sorted(links, key=lambda link: link.paragraph_id)
