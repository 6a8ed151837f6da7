"""Incremental paragraph dedup: a batch of new paragraphs against everything already indexed.

Pipeline, each step a plain function:
1. group paragraphs by the hash of their normalised text (the exact path: identical texts are one node);
2. shingle + MinHash + band keys for new texts long enough for the near path;
3. LSH candidates within the batch and against the stored index, oversized buckets skipped;
4. verify candidates on exact shingle sets (Jaccard → near, containment → containment);
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

from wirecopy.dedup.candidates import pairs_from_buckets
from wirecopy.dedup.clustering import assign_representatives
from wirecopy.dedup.minhash import band_keys, signatures
from wirecopy.dedup.settings import DedupSettings
from wirecopy.dedup.shingles import shingle_batch
from wirecopy.dedup.verify import Edge, estimated_jaccard, judge, plausible
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
class NewText:
    """A normalised text not yet in the index, with everything the index stores about it."""

    text_hash: int
    normalized: str
    token_count: int
    shingle_count: int
    signature: np.ndarray | None  # None for texts below min_tokens (exact path only)
    bands: np.ndarray | None


class DedupIndex(Protocol):
    """Read access to the persisted dedup state."""

    def known_texts(self, hashes: Iterable[int]) -> set[int]: ...
    def band_members(self, keys: np.ndarray, cap: int) -> tuple[np.ndarray, np.ndarray]:
        """(key, node) rows for the given band keys, leaving out buckets holding more than `cap` nodes."""
        ...

    def normalized_texts(self, hashes: Iterable[int]) -> dict[int, str]: ...
    def edges_touching(self, hashes: Iterable[int]) -> list[Edge]: ...
    def paragraphs_of(self, hashes: Iterable[int]) -> list[ParagraphRef]: ...


@dataclass
class DedupPlan:
    """Everything the warehouse must write for one batch."""

    new_texts: list[NewText] = field(default_factory=list)
    new_edges: list[Edge] = field(default_factory=list)
    reassigned: list[str] = field(default_factory=list)  # paragraph ids whose links are replaced
    links: list[DuplicateLink] = field(default_factory=list)
    candidates: int = 0

    def counts(self) -> dict[str, int]:
        out = {m.value: 0 for m in DedupMethod}
        for link in self.links:
            out[link.method.value] += 1
        return out


def plan_batch(
    paragraphs: list[ParagraphRef], normalized: dict[int, str], index: DedupIndex, settings: DedupSettings
) -> DedupPlan:
    """Dedup `paragraphs` (new, not yet stored) against the index; `normalized` maps text_hash → text."""
    plan = DedupPlan()
    hashes = sorted({p.text_hash for p in paragraphs})
    known = index.known_texts(hashes)
    fresh = [h for h in hashes if h not in known]
    plan.new_texts = _index_texts(fresh, normalized, settings)
    plan.new_edges, plan.candidates = _find_edges(plan.new_texts, index, settings)
    touched = set(hashes) | {e.a for e in plan.new_edges} | {e.b for e in plan.new_edges}
    nodes, edges = _component_closure(touched, plan.new_edges, index)
    refs = index.paragraphs_of(nodes) + paragraphs
    plan.reassigned = [r.paragraph_id for r in refs]
    plan.links = cluster_links(refs, edges)
    return plan


def _index_texts(fresh: list[int], normalized: dict[int, str], settings: DedupSettings) -> list[NewText]:
    texts = [normalized[h] for h in fresh]
    token_counts = [len(t.split()) for t in texts]
    eligible = [i for i, n in enumerate(token_counts) if n >= settings.min_tokens]
    batch = shingle_batch([texts[i] for i in eligible], settings.shingle_spec)
    sigs = signatures(batch, settings.num_perm, settings.seed)
    keys = band_keys(sigs, settings.bands, settings.rows)
    shingle_counts = {i: len(np.unique(batch.of(j))) for j, i in enumerate(eligible)}
    rows: dict[int, tuple[np.ndarray, np.ndarray]] = {i: (sigs[j], keys[j]) for j, i in enumerate(eligible)}
    return [
        NewText(
            text_hash=h,
            normalized=texts[i],
            token_count=token_counts[i],
            shingle_count=shingle_counts.get(i, 0),
            signature=rows[i][0] if i in rows else None,
            bands=rows[i][1] if i in rows else None,
        )
        for i, h in enumerate(fresh)
    ]


def _find_edges(new_texts: list[NewText], index: DedupIndex, settings: DedupSettings) -> tuple[list[Edge], int]:
    near = [t for t in new_texts if t.bands is not None]
    if not near:
        return [], 0
    new_ids = np.array([t.text_hash for t in near], dtype=np.int64)
    new_keys = np.stack([t.bands for t in near])
    stored_keys, stored_nodes = index.band_members(np.unique(new_keys), settings.bucket_cap)
    all_keys = np.concatenate((new_keys.ravel(), stored_keys))
    all_nodes = np.concatenate((np.repeat(new_ids, new_keys.shape[1]), stored_nodes))
    pairs = pairs_from_buckets(all_keys[:, None], all_nodes, settings.bucket_cap)
    new_set = set(new_ids.tolist())
    pairs = pairs[[a in new_set or b in new_set for a, b in pairs.tolist()]] if len(pairs) else pairs
    if not len(pairs):
        return [], 0
    stored_texts = index.normalized_texts({int(x) for x in pairs.ravel()} - new_set)
    texts = {t.text_hash: t.normalized for t in near} | stored_texts
    order = sorted(texts)
    position = {h: i for i, h in enumerate(order)}
    batch = shingle_batch([texts[h] for h in order], settings.shingle_spec)
    sigs = signatures(batch, settings.num_perm, settings.seed)
    ia = np.array([position[a] for a in pairs[:, 0]])
    ib = np.array([position[b] for b in pairs[:, 1]])
    sizes = batch.counts().astype(float)
    keep = plausible(
        estimated_jaccard(sigs[ia], sigs[ib]),
        sizes[ia],
        sizes[ib],
        settings.near_threshold,
        settings.containment_threshold,
    )
    edges = []
    for (a, b), i, j in zip(pairs[keep].tolist(), ia[keep], ib[keep], strict=True):
        edge = judge(a, b, batch.of(i), batch.of(j), settings.near_threshold, settings.containment_threshold)
        if edge is not None:
            edges.append(edge)
    return edges, len(pairs)


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


def cluster_links(refs: list[ParagraphRef], edges: list[Edge]) -> list[DuplicateLink]:
    """Duplicate links for every non-canonical paragraph among `refs` (whole components)."""
    by_node: dict[int, list[ParagraphRef]] = defaultdict(list)
    for ref in refs:
        by_node[ref.text_hash].append(ref)
    for members in by_node.values():
        members.sort(key=lambda r: r.key)
    ordered = sorted(by_node, key=lambda n: by_node[n][0].key)
    present = set(by_node)
    assignment = assign_representatives(ordered, [e for e in edges if e.a in present and e.b in present])
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
