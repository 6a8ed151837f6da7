"""Incremental paragraph dedup: a batch of new paragraphs against everything already indexed.

Pipeline, each step a plain function:
1. group paragraphs by the hash of their normalised text (the exact path: identical texts are one node);
2. shingle + MinHash + band keys for new texts of `short_min_tokens` words or more (word 3-grams, or single
   words for short paragraphs such as titles);
3. LSH candidates within the batch and against the stored index, oversized buckets skipped;
4. verify: a cheap prefilter on exact shingle sets, then the duplicate definition (`definition.judge`: copied
   word runs, B1/B2 overlap, no changed fact) on the survivors → near / containment edges;
5. re-cluster every connected component the batch touched, in keep-rule order.
The index is read through `DedupIndex`, so the engine itself never touches storage.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Protocol

import numpy as np

from wirecopy.dedup import arrays, definition
from wirecopy.dedup.candidates import pairs_from_buckets
from wirecopy.dedup.clustering import assign_representatives
from wirecopy.dedup.minhash import band_keys, signatures
from wirecopy.dedup.settings import DedupSettings
from wirecopy.dedup.shingles import ShingleBatch, distinct, shingle_batch
from wirecopy.dedup.verify import Edge, estimated_jaccard, judge_pairs, plausible
from wirecopy.models import DedupMethod, DuplicateLink


def text_hash(normalized: str) -> int:
    """Signed 64-bit id of a normalised text: the node of the dedup graph."""
    return int.from_bytes(hashlib.blake2b(normalized.encode(), digest_size=8).digest(), "big", signed=True)


_EARLIEST = datetime.min.replace(tzinfo=UTC)


@dataclass(frozen=True, order=True)
class KeepKey:
    """Keep-rule order: earliest published, then earliest captured (fetched_at), then a stable id."""

    no_published: bool
    published_at: datetime | None
    no_fetched: bool
    fetched_at: datetime | None
    doc_id: str
    position: int

    @classmethod
    def of(cls, published_at: datetime | None, fetched_at: datetime | None, doc_id: str, position: int):
        return cls(
            published_at is None,
            published_at or _EARLIEST,
            fetched_at is None,
            fetched_at or _EARLIEST,
            doc_id,
            position,
        )


@dataclass(frozen=True)
class ParagraphRef:
    """What the engine needs to know about one paragraph."""

    paragraph_id: str
    text_hash: int
    key: KeepKey


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

    def __len__(self) -> int:
        return len(self.hashes)


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
    links: list[DuplicateLink] = field(default_factory=list)  # every link of the touched clusters
    batch_paragraphs: set[str] = field(default_factory=set)

    def counts(self) -> dict[str, int]:
        """Links of this batch's own paragraphs, by method (re-computed links of stored ones are not counted)."""
        out = {m.value: 0 for m in DedupMethod}
        for link in self.links:
            if link.paragraph_id in self.batch_paragraphs:
                out[link.method.value] += 1
        return out


def plan_batch(
    paragraphs: list[ParagraphRef], normalized: dict[int, str], index: DedupIndex, settings: DedupSettings
) -> DedupPlan:
    """Dedup `paragraphs` (new, not yet stored) against the index; `normalized` maps text_hash → text."""
    plan = DedupPlan(batch_paragraphs={p.paragraph_id for p in paragraphs})
    hashes = sorted({p.text_hash for p in paragraphs})
    known = index.known_texts(hashes)
    fresh = [h for h in hashes if h not in known]
    plan.new_texts = _index_texts(fresh, normalized, settings)
    plan.new_edges, plan.new_conflicts = _find_edges(plan.new_texts, index, settings)
    touched = set(hashes) | {e.a for e in plan.new_edges} | {e.b for e in plan.new_edges}
    nodes, edges = _component_closure(touched, plan.new_edges, index)
    conflicts = index.conflicts_among(nodes) | {c.pair for c in plan.new_conflicts}
    refs = index.paragraphs_of(nodes.difference(fresh)) + paragraphs  # texts new in this batch have none stored
    plan.reassigned = [r.paragraph_id for r in refs]
    plan.links = cluster_links(refs, edges, conflicts)
    return plan


def _index_texts(fresh: list[int], normalized: dict[int, str], settings: DedupSettings) -> NewTexts:
    texts = [normalized[h] for h in fresh]
    token_counts = np.array([t.count(" ") + 1 if t else 0 for t in texts], dtype=np.int32)
    eligible = token_counts >= settings.short_min_tokens
    batch = shingle_texts([t for t, ok in zip(texts, eligible, strict=True) if ok], settings)
    sigs = signatures(batch, settings.num_perm, settings.seed)
    sets = distinct(batch)
    shingle_counts = np.zeros(len(texts), dtype=np.int32)
    shingle_counts[eligible] = sets.counts()
    return NewTexts(
        hashes=np.array(fresh, dtype=np.int64),
        normalized=texts,
        token_counts=token_counts,
        shingle_counts=shingle_counts,
        eligible=eligible,
        signatures=sigs,
        bands=band_keys(sigs, settings.bands, settings.rows),
        shingles=sets,
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
    new = _index_texts(sorted(normalized), normalized, settings)
    new_ids = new.hashes[new.eligible]
    return pairs_from_buckets(new.bands, new_ids, settings.bucket_cap) if len(new_ids) else np.zeros((0, 2), np.int64)


def _find_edges(new: NewTexts, index: DedupIndex, settings: DedupSettings) -> tuple[list[Edge], list[Conflicting]]:
    new_ids = new.hashes[new.eligible]
    if not len(new_ids):
        return [], []
    stored_keys, stored_nodes = index.band_members(arrays.unique(new.bands), settings.bucket_cap)
    all_keys = np.concatenate((new.bands.ravel(), stored_keys))
    all_nodes = np.concatenate((np.repeat(new_ids, new.bands.shape[1]), stored_nodes))
    pairs = pairs_from_buckets(all_keys[:, None], all_nodes, settings.bucket_cap)
    pairs = pairs[arrays.isin(pairs[:, 0], new_ids) | arrays.isin(pairs[:, 1], new_ids)]
    if not len(pairs):
        return [], []
    pool = _SketchPool.build(new_ids, new, arrays.difference(pairs.ravel(), new_ids), index)
    ia, ib = pool.positions(pairs[:, 0]), pool.positions(pairs[:, 1])
    keep = plausible(
        estimated_jaccard(pool.signatures[ia], pool.signatures[ib]),
        pool.sizes[ia],
        pool.sizes[ib],
        settings.prefilter_jaccard,
        settings.prefilter_containment,
    )
    pairs, ia, ib = pairs[keep], ia[keep], ib[keep]
    stored_ids = arrays.difference(pairs.ravel(), new_ids)
    stored_texts = index.normalized_texts(stored_ids)
    hashes, starts, sizes = pool.shingle_sets(stored_texts, settings)
    prefiltered = judge_pairs(
        pairs[:, 0], pairs[:, 1], hashes, starts[ia], sizes[ia], starts[ib], sizes[ib],
        settings.prefilter_jaccard, settings.prefilter_containment,
    )  # fmt: skip
    texts = dict(zip(new.hashes.tolist(), new.normalized, strict=True)) | stored_texts
    return verify_edges([(e.a, e.b) for e in prefiltered], texts, settings)


@dataclass(frozen=True)
class Conflicting:
    """Two texts that overlap like copies but report different facts (a template): never in one cluster."""

    a: int
    b: int
    kind: str

    @property
    def pair(self) -> tuple[int, int]:
        return (min(self.a, self.b), max(self.a, self.b))


def verify_edges(
    pairs: list[tuple[int, int]], texts: dict[int, str], settings: DedupSettings
) -> tuple[list[Edge], list[Conflicting]]:
    """An edge for each pair of texts (by hash) that the duplicate definition judges DUPLICATE, and the pairs it
    finds copied but reporting different facts."""
    forms: dict[int, definition.Form] = {}
    rules = settings.rules
    edges, conflicts = [], []
    for a, b in pairs:
        for h in (a, b):
            if h not in forms:
                forms[h] = definition.prepare(texts[h])
        verdict = definition.compare(forms[a], forms[b], rules)
        if isinstance(verdict, definition.Verdict):
            edges.append(Edge(a, b, verdict.method, verdict.similarity, verdict.jaccard, verdict.containment))
        elif isinstance(verdict, definition.Conflict):
            conflicts.append(Conflicting(a, b, verdict.kind))
    return edges, conflicts


@dataclass(frozen=True)
class _SketchPool:
    """Signatures of the new texts and of the stored texts paired with them; shingles loaded on demand.

    Stored texts are pre-filtered on their stored signatures; only pairs that pass are verified, and only
    their stored texts are fetched and shingled.
    """

    ids: np.ndarray  # sorted int64
    order: np.ndarray  # position in ids → row in `signatures` / `sizes`
    signatures: np.ndarray
    sizes: np.ndarray  # distinct shingles per text
    new_shingles: ShingleBatch

    @classmethod
    def build(cls, new_ids: np.ndarray, new: NewTexts, stored_ids: np.ndarray, index: DedupIndex) -> _SketchPool:
        stored_ids, stored_sigs, stored_sizes = index.sketches(stored_ids, new.signatures.shape[1])
        ids = np.concatenate((new_ids, stored_ids))
        order = np.argsort(ids, kind="stable")
        sigs = np.vstack((new.signatures, stored_sigs))
        sizes = np.concatenate((new.shingle_counts[new.eligible], stored_sizes)).astype(float)
        return cls(ids[order], order, sigs, sizes, new.shingles)

    def positions(self, ids: np.ndarray) -> np.ndarray:
        return self.order[np.searchsorted(self.ids, ids)]

    def shingle_sets(self, texts: dict[int, str], settings: DedupSettings) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(hashes, starts, sizes): the distinct sorted shingles of pool row r are `hashes[starts[r]:][:sizes[r]]`,
        for the new texts (rows first, already distinct) and the stored `texts` (hash → text, shingled here);
        other stored rows get no shingles."""
        ordered = sorted(texts)
        stored = distinct(shingle_texts([texts[h] for h in ordered], settings))
        new = self.new_shingles
        starts, sizes = np.zeros(len(self.ids), dtype=np.int64), np.zeros(len(self.ids), dtype=np.int64)
        starts[: len(new.offsets) - 1], sizes[: len(new.offsets) - 1] = new.offsets[:-1], new.counts()
        rows = self.positions(np.array(ordered, dtype=np.int64))
        starts[rows], sizes[rows] = len(new.hashes) + stored.offsets[:-1], stored.counts()
        return np.concatenate((new.hashes, stored.hashes)), starts, sizes


def _component_closure(seeds: set[int], new_edges: list[Edge], index: DedupIndex) -> tuple[set[int], list[Edge]]:
    """All nodes connected to `seeds` through stored or new edges, and those edges."""
    adjacency: dict[int, list[Edge]] = defaultdict(list)
    for edge in new_edges:
        adjacency[edge.a].append(edge)
        adjacency[edge.b].append(edge)
    nodes: set[int] = set()
    edges: dict[tuple[int, int], Edge] = {}
    frontier = set(seeds)
    while frontier:
        nodes |= frontier
        found = index.edges_touching(frontier) + [e for n in frontier for e in adjacency.get(n, ())]
        next_frontier: set[int] = set()
        for edge in found:
            edges[(edge.a, edge.b)] = edge
            next_frontier.update((edge.a, edge.b))
        frontier = next_frontier - nodes
    return nodes, list(edges.values())


def cluster_links(
    refs: list[ParagraphRef], edges: list[Edge], conflicts: set[tuple[int, int]] = frozenset()
) -> list[DuplicateLink]:
    """Duplicate links for every non-canonical paragraph among `refs` (whole components); texts of a conflicting
    pair (a < b) never share a cluster."""
    by_node: dict[int, list[ParagraphRef]] = defaultdict(list)
    for ref in refs:
        by_node[ref.text_hash].append(ref)
    for members in by_node.values():
        members.sort(key=lambda r: r.key)
    ordered = sorted(by_node, key=lambda n: by_node[n][0].key)
    present = set(by_node)
    assignment = assign_representatives(ordered, [e for e in edges if e.a in present and e.b in present], conflicts)
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
            links.append(
                DuplicateLink(
                    paragraph_id=ref.paragraph_id,
                    canonical_id=canonical.paragraph_id,
                    cluster_id=cluster_id,
                    method=method,
                    similarity=similarity,
                )
            )
    return sorted(links, key=lambda link: link.paragraph_id)
