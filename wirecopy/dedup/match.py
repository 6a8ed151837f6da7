"""The match step of dedup: a batch's new paragraphs against the stored index → the decisions to write.

A plain function over the batch's columns (paragraph refs, text hash → matching form) and an index-lookup
interface (`engine.DedupIndex`): the warehouse provides the lookups and commits the resulting `DedupPlan`; it
makes no dedup decision itself. Steps (see `engine` for the data types and the sketching):
1. the batch's distinct texts not yet stored are sketched (`engine.index_texts`), unless the caller passes
   their sketches already made (a worker process computes them: `sketches`);
2. LSH candidates within the batch and against the stored band keys, same kind and across kinds;
3. same-kind pairs are prefiltered on signatures, then on exact shingle sets (the stored texts' sets kept by the
   index); the stored texts of both the survivors and the cross-kind pairs are fetched in one lookup; the
   duplicate definition → edges, conflicts;
4. every connected component the batch touched is re-clustered in keep-rule order.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from wirecopy.dedup import across_kinds, arrays, definition
from wirecopy.dedup.candidates import pairs_from_buckets
from wirecopy.dedup.engine import (
    Conflicting,
    DedupIndex,
    DedupPlan,
    NewTexts,
    ParagraphColumns,
    ParagraphRef,
    cluster_links,
    index_texts,
)
from wirecopy.dedup.settings import DedupSettings
from wirecopy.dedup.shingles import ShingleBatch
from wirecopy.dedup.verify import Edge, estimated_jaccard, judge_pairs, plausible


def match_batch(
    paragraphs: list[ParagraphRef] | ParagraphColumns,
    normalized: Mapping[int, str] | None,
    index: DedupIndex,
    settings: DedupSettings,
    sketches: NewTexts | None = None,
) -> DedupPlan:
    """Dedup `paragraphs` (new, not yet stored) against the index; `normalized` maps text_hash → matching form
    (needed only without `sketches`). `sketches`, when given, holds the sketches of (at least) every text of the
    batch not yet stored."""
    batch = paragraphs if isinstance(paragraphs, ParagraphColumns) else ParagraphColumns.of_refs(paragraphs)
    plan = DedupPlan(batch_paragraphs=set(batch.ids))
    hashes = arrays.unique(batch.hashes).tolist()
    known = index.known_texts(hashes)
    fresh = [h for h in hashes if h not in known]
    if sketches is None:
        if normalized is None:
            raise ValueError("match_batch needs the matching forms or the sketches of the batch's texts")
        plan.new_texts = index_texts(fresh, normalized, settings)
    else:
        plan.new_texts = sketches.select(fresh)
    plan.new_edges, plan.new_conflicts = find_edges(plan.new_texts, index, settings)
    touched = set(hashes) | {e.a for e in plan.new_edges} | {e.b for e in plan.new_edges}
    nodes, edges = _component_closure(touched, plan.new_edges, index)
    conflicts = index.conflicts_among(nodes) | {c.pair for c in plan.new_conflicts}
    stored = index.paragraphs_of(nodes.difference(fresh))  # texts new in this batch have none stored
    plan.reassigned = [r.paragraph_id for r in stored] + batch.ids
    plan.relinked_texts = sorted({r.text_hash for r in stored}.union(hashes))
    plan.links = cluster_links(stored + batch.refs(_clustered_rows(batch.hashes, stored, edges)), edges, conflicts)
    return plan


def _clustered_rows(hashes: np.ndarray, stored: list[ParagraphRef], edges: list[Edge]) -> np.ndarray:
    """Rows of the batch's paragraphs (by text hash) that `cluster_links` may link: their text has another paragraph,
    in the batch or stored, or an edge to a text that has a paragraph. The others lead a cluster of one whatever the
    rest does, and leaving them out changes no link."""
    every = np.sort(np.concatenate((hashes, np.array([r.text_hash for r in stored], dtype=np.int64))), kind="stable")
    starts = np.flatnonzero(np.concatenate(([True], every[1:] != every[:-1]))) if len(every) else np.zeros(0, np.int64)
    present = every[starts]
    repeated = present[np.diff(np.append(starts, len(every))) > 1]
    ends = np.array([(e.a, e.b) for e in edges], dtype=np.int64).reshape(-1, 2)
    linked = ends[arrays.isin(ends[:, 0], present) & arrays.isin(ends[:, 1], present)].ravel()
    return np.flatnonzero(arrays.isin(hashes, np.concatenate((repeated, linked))))


def find_edges(new: NewTexts, index: DedupIndex, settings: DedupSettings) -> tuple[list[Edge], list[Conflicting]]:
    """Verified edges and conflicts between the new texts and between them and stored ones. The stored texts the
    definition needs (same-kind pairs that pass both prefilters, cross-kind candidates) are fetched in one
    `normalized_texts` lookup."""
    new_ids = new.hashes[new.eligible]
    if not len(new_ids):
        return [], []
    # every key array sorted once: the sorts below merge sorted runs (`arrays`)
    new_keys, new_rows = new.sorted_bands()
    query_keys, query_nodes = arrays.by_key(
        new.query_bands.ravel(), np.repeat(new.query_hashes, new.query_bands.shape[1])
    )
    stored_keys, stored_nodes = index.band_members(
        arrays.unique(np.concatenate((new_keys, query_keys))), settings.bucket_cap
    )
    own_keys, own_nodes, own_new = arrays.by_key(
        np.concatenate((new_keys, stored_keys)),
        np.concatenate((new_ids[new_rows], stored_nodes)),
        np.concatenate((np.ones(len(new_keys), dtype=bool), np.zeros(len(stored_keys), dtype=bool))),
    )  # stored nodes are never new texts: the LSH store covers exactly the stored ones
    pairs = pairs_from_buckets(own_keys[:, None], own_nodes, settings.bucket_cap, anchors=own_new)
    crossed = across_kinds.looked_up(query_keys, query_nodes, own_keys, own_nodes, settings.bucket_cap)
    same = _same_kind_candidates(_signature_survivors(pairs, new, new_ids, index, settings), index, settings)
    same_stored = arrays.difference(same.ravel(), new_ids)
    crossed_stored = arrays.difference(crossed.ravel(), new.hashes)
    stored_texts = index.normalized_texts(arrays.unique(np.concatenate((same_stored, crossed_stored))))
    texts = dict(zip(new.hashes.tolist(), new.normalized, strict=True)) | stored_texts
    forms: dict[int, definition.Form] = {}
    edges, conflicts = verify_edges(same.tolist(), texts, settings, forms)
    if len(crossed):
        crossed_pairs = across_kinds.prefiltered(crossed, texts, settings)
        more_edges, more_conflicts = verify_edges(crossed_pairs, texts, settings, forms)
        edges, conflicts = edges + more_edges, conflicts + more_conflicts
    return edges, conflicts


@dataclass(frozen=True)
class _Survivors:
    """Same-kind pairs that pass the signature prefilter, with their rows in the pool."""

    pairs: np.ndarray
    ia: np.ndarray
    ib: np.ndarray
    pool: _SketchPool | None


def _signature_survivors(pairs: np.ndarray, new: NewTexts, new_ids: np.ndarray, index: DedupIndex, settings):
    """Pairs found by keys of one shingle kind, prefiltered on the signatures (stored ones from the index)."""
    if not len(pairs):
        empty = np.zeros(0, dtype=np.int64)
        return _Survivors(np.zeros((0, 2), dtype=np.int64), empty, empty, None)
    pool = _SketchPool.build(new_ids, new, arrays.difference(pairs.ravel(), new_ids), index)
    ia, ib = pool.positions(pairs[:, 0]), pool.positions(pairs[:, 1])
    keep = plausible(
        estimated_jaccard(pool.signatures[ia], pool.signatures[ib]),
        pool.sizes[ia],
        pool.sizes[ib],
        settings.prefilter_jaccard,
        settings.prefilter_containment,
    )
    return _Survivors(pairs[keep], ia[keep], ib[keep], pool)


def _same_kind_candidates(same: _Survivors, index: DedupIndex, settings: DedupSettings) -> np.ndarray:
    """The signature survivors that pass the prefilter on exact shingle sets: (n, 2) text hashes, for the
    definition."""
    if same.pool is None:
        return np.zeros((0, 2), dtype=np.int64)
    stored_ids = arrays.difference(same.pairs.ravel(), same.pool.new_ids)
    hashes, starts, sizes = same.pool.shingle_sets(index, stored_ids)
    ia, ib = same.ia, same.ib
    prefiltered = judge_pairs(
        same.pairs[:, 0], same.pairs[:, 1], hashes, starts[ia], sizes[ia], starts[ib], sizes[ib],
        settings.prefilter_jaccard, settings.prefilter_containment,
    )  # fmt: skip
    return np.array([(e.a, e.b) for e in prefiltered], dtype=np.int64).reshape(-1, 2)


def verify_edges(
    pairs: list[tuple[int, int]],
    texts: dict[int, str],
    settings: DedupSettings,
    forms: dict[int, definition.Form] | None = None,
) -> tuple[list[Edge], list[Conflicting]]:
    """An edge for each pair of texts (by hash) that the duplicate definition judges DUPLICATE, and the pairs it
    finds copied but reporting different facts. `forms` caches the texts' comparison forms across calls."""
    forms = {} if forms is None else forms
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

    Stored texts are pre-filtered on their stored signatures; only pairs that pass are verified on exact shingle
    sets, and only their stored texts' sets are read from the index.
    """

    ids: np.ndarray  # sorted int64
    order: np.ndarray  # position in ids → row in `signatures` / `sizes`
    signatures: np.ndarray
    sizes: np.ndarray  # distinct shingles per text
    new_ids: np.ndarray  # the new texts' hashes (eligible ones), sorted
    new_shingles: ShingleBatch

    @classmethod
    def build(cls, new_ids: np.ndarray, new: NewTexts, stored_ids: np.ndarray, index: DedupIndex) -> _SketchPool:
        stored_ids, stored_sigs, stored_sizes = index.sketches(stored_ids, new.signatures.shape[1])
        ids = np.concatenate((new_ids, stored_ids))
        order = np.argsort(ids, kind="stable")
        sigs = np.vstack((new.signatures, stored_sigs))
        sizes = np.concatenate((new.shingle_counts[new.eligible], stored_sizes)).astype(float)
        return cls(ids[order], order, sigs, sizes, new_ids, new.shingles)

    def positions(self, ids: np.ndarray) -> np.ndarray:
        return self.order[np.searchsorted(self.ids, ids)]

    def shingle_sets(self, index: DedupIndex, stored_ids: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(hashes, starts, sizes): the distinct sorted shingles of pool row r are `hashes[starts[r]:][:sizes[r]]`,
        for the new texts (rows first, already distinct) and the stored `stored_ids` (sorted, read from the
        index); other stored rows get no shingles."""
        new = self.new_shingles
        stored = index.shingle_sets(stored_ids)
        starts, sizes = np.zeros(len(self.ids), dtype=np.int64), np.zeros(len(self.ids), dtype=np.int64)
        starts[: len(new.offsets) - 1], sizes[: len(new.offsets) - 1] = new.offsets[:-1], new.counts()
        rows = self.positions(stored_ids)
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
