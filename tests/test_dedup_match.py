"""The match step as a pure function (`wirecopy.dedup.match.match_batch`): the seeds' paragraphs against an
in-memory index that holds earlier batches, no warehouse, no Prefect."""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pytest

from wirecopy.dedup import arrays
from wirecopy.dedup.engine import DedupPlan, KeepKey, NewTexts, ParagraphRef, index_texts
from wirecopy.dedup.match import match_batch
from wirecopy.dedup.memory_index import MemoryIndex
from wirecopy.dedup.settings import DedupSettings
from wirecopy.dedup.shingles import ShingleBatch
from wirecopy.dedup.verify import Edge
from wirecopy.transform import paragraphs_of

SETTINGS = DedupSettings()


class StoredIndex:
    """A `DedupIndex` over the plans of earlier batches, kept in memory; counts the text lookups per batch."""

    def __init__(self) -> None:
        self.texts: dict[int, str] = {}
        self.sketched: list[NewTexts] = []
        self.refs: list[ParagraphRef] = []
        self.edges: dict[tuple[int, int], Edge] = {}
        self.conflicts: set[tuple[int, int]] = set()
        self.text_lookups = 0
        self.texts_fetched = 0

    def store(self, refs: list[ParagraphRef], plan: DedupPlan) -> None:
        """What a commit keeps of a batch: its paragraphs, new texts with sketches, edges and conflicts."""
        self.refs += refs
        self.texts |= dict(zip(plan.new_texts.hashes.tolist(), plan.new_texts.normalized, strict=True))
        self.sketched.append(plan.new_texts)
        self.edges |= {(e.a, e.b): e for e in plan.new_edges}
        self.conflicts |= {c.pair for c in plan.new_conflicts}

    def _eligible(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """(hashes, band keys, signatures, distinct shingle counts) of every stored text with a signature."""
        parts = [(t.hashes[t.eligible], t.bands, t.signatures, t.shingle_counts[t.eligible]) for t in self.sketched]
        if not parts:
            empty = np.empty(0, np.int64)
            return empty, np.empty((0, SETTINGS.bands), np.int64), np.empty((0, SETTINGS.num_perm), np.uint32), empty
        return tuple(np.concatenate(column) for column in zip(*parts, strict=True))

    def known_texts(self, hashes: Iterable[int]) -> set[int]:
        self.text_lookups = 0  # a batch's lookups start here
        return set(hashes) & set(self.texts)

    def band_members(self, keys: np.ndarray, cap: int) -> tuple[np.ndarray, np.ndarray]:
        hashes, bands, _, _ = self._eligible()
        all_keys, nodes = bands.ravel(), np.repeat(hashes, bands.shape[1])
        distinct, counts = np.unique(all_keys, return_counts=True)
        small = distinct[counts <= cap]
        chosen = arrays.isin(all_keys, keys) & arrays.isin(all_keys, small)
        return all_keys[chosen], nodes[chosen]

    def normalized_texts(self, hashes: Iterable[int]) -> dict[int, str]:
        self.text_lookups += 1
        wanted = np.fromiter(hashes, dtype=np.int64).tolist()
        self.texts_fetched += len(wanted)
        return {h: self.texts[h] for h in wanted}

    def shingle_sets(self, hashes: np.ndarray) -> ShingleBatch:
        """As a commit stores them: the sets the batch's sketching made (`NewTexts.shingles`)."""
        sets = {}
        for texts in self.sketched:
            for h, row in zip(texts.hashes[texts.eligible].tolist(), range(len(texts.signatures)), strict=True):
                sets[h] = texts.shingles.of(row)
        chosen = [sets[h] for h in hashes.tolist()]
        offsets = np.zeros(len(chosen) + 1, dtype=np.int64)
        np.cumsum([len(c) for c in chosen], out=offsets[1:])
        return ShingleBatch(np.concatenate(chosen) if chosen else np.zeros(0, np.uint32), offsets)

    def sketches(self, hashes: np.ndarray, num_perm: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        stored, _, signatures, sizes = self._eligible()
        wanted = arrays.unique(hashes)
        rows = np.array([np.flatnonzero(stored == h)[0] for h in wanted.tolist()], dtype=np.int64)
        return wanted, signatures[rows].reshape(len(rows), num_perm), sizes[rows]

    def edges_touching(self, hashes: Iterable[int]) -> list[Edge]:
        wanted = set(hashes)
        return [e for e in self.edges.values() if e.a in wanted or e.b in wanted]

    def conflicts_among(self, hashes: Iterable[int]) -> set[tuple[int, int]]:
        wanted = set(hashes)
        return {pair for pair in self.conflicts if pair[0] in wanted and pair[1] in wanted}

    def paragraphs_of(self, hashes: Iterable[int]) -> list[ParagraphRef]:
        wanted = set(hashes)
        return [r for r in self.refs if r.text_hash in wanted]


def _columns(documents) -> tuple[list[ParagraphRef], dict[int, str]]:
    """The batch's columns as the load stage passes them: paragraph refs and text hash → matching form."""
    dates = {doc.doc_id: (doc.published_at, doc.fetched_at) for doc in documents}
    rows = paragraphs_of(documents)
    refs = [ParagraphRef(p.paragraph_id, p.text_hash, KeepKey.of(*dates[p.doc_id], p.doc_id, p.position)) for p in rows]
    return refs, {p.text_hash: p.normalized for p in rows}


def _link_map(plans: list[DedupPlan]) -> dict[str, tuple[str, str]]:
    """paragraph → (canonical, method), the latest plan's links replacing the earlier ones of its clusters."""
    out: dict[str, tuple[str, str]] = {}
    for plan in plans:
        for paragraph in plan.reassigned:
            out.pop(paragraph, None)
        out |= {link.paragraph_id: (link.canonical_id, link.method.value) for link in plan.links}
    return out


@pytest.fixture(scope="module")
def seeds(seed_documents):
    return sorted((doc for _, doc in seed_documents), key=lambda doc: doc.doc_id)


def test_one_batch_gives_the_seeds_eight_links(seeds) -> None:
    plan = match_batch(*_columns(seeds), MemoryIndex(), SETTINGS)
    assert len(plan.links) == 8
    assert sum(plan.counts().values()) == 8
    assert {link.method.value for link in plan.links} <= {"exact", "near", "containment"}


def test_sketches_made_ahead_for_a_superset_give_the_same_plan(seeds) -> None:
    """A worker sketches every text of its batch; the match step cuts that down to the texts not yet stored."""
    first, rest = seeds[:2], seeds[2:]
    index = StoredIndex()
    refs, normalized = _columns(first)
    index.store(refs, match_batch(refs, normalized, index, SETTINGS))
    refs, normalized = _columns(rest)
    ahead = index_texts(sorted(normalized | index.texts), normalized | index.texts, SETTINGS)
    plain, with_sketches = (match_batch(refs, normalized, index, SETTINGS, sketches=s) for s in (None, ahead))
    assert with_sketches.links == plain.links and with_sketches.new_edges == plain.new_edges
    assert np.array_equal(with_sketches.new_texts.signatures, plain.new_texts.signatures)
    assert np.array_equal(with_sketches.new_texts.shingles.hashes, plain.new_texts.shingles.hashes)
    assert np.array_equal(with_sketches.new_texts.query_bands, plain.new_texts.query_bands)
    # the band keys' sort order, cut down with the rows, is the order a sort of the cut-down keys gives
    assert np.array_equal(with_sketches.new_texts.band_order, plain.new_texts.band_order)


def test_band_order_cut_down_to_any_rows_is_a_stable_sort_of_their_keys() -> None:
    """Texts sharing band keys (ties) and every subset size: `select` keeps the order a stable sort would give."""
    words = [f"w{i}" for i in range(40)]
    texts = {i: " ".join([*words[i % 7 : i % 7 + 12], f"x{i % 3}"]) for i in range(1, 60)}  # many equal bands
    whole = index_texts(sorted(texts), texts, SETTINGS)
    rng = np.random.default_rng(3)
    for size in (0, 1, 5, 30, len(texts)):
        chosen = sorted(rng.choice(sorted(texts), size, replace=False).tolist())
        cut = whole.select(chosen)
        assert np.array_equal(cut.band_order, np.argsort(cut.bands.ravel(), kind="stable"))
        assert np.array_equal(cut.band_order, index_texts(chosen, texts, SETTINGS).band_order)


@pytest.mark.parametrize("split", [1, 2, 3, 4])
def test_batches_against_stored_state_give_the_one_batch_links(seeds, split: int) -> None:
    whole = match_batch(*_columns(seeds), MemoryIndex(), SETTINGS)
    index = StoredIndex()
    plans = []
    for part in (seeds[:split], seeds[split:]):
        refs, normalized = _columns(part)
        plans.append(match_batch(refs, normalized, index, SETTINGS))
        assert index.text_lookups <= 1  # stored texts: one lookup a batch, same-kind and cross-kind together
        index.store(refs, plans[-1])
    assert _link_map(plans) == _link_map([whole])


def test_inputs_made_ahead_survive_arrow_and_are_used_only_under_the_same_settings(seed_documents) -> None:
    """What a worker sends (paragraph columns, sketches) comes back equal, and is dropped for other dedup settings."""
    from wirecopy.columns import DOCUMENTS, documents_table
    from wirecopy.dedup.ahead import make_ahead
    from wirecopy.pipeline import PreparedBatch, load_input, to_arrow

    documents = [doc for _, doc in seed_documents]
    made = make_ahead(documents, SETTINGS)
    data = to_arrow(PreparedBatch(documents=list(seed_documents), ahead=made, dedup=SETTINGS))
    back = load_input(data, SETTINGS)
    assert back.table.equals(documents_table(list(seed_documents), made))
    for name in ("hashes", "token_counts", "shingle_counts", "eligible", "signatures", "bands", "query_hashes",
                 "query_bands", "band_order"):  # fmt: skip
        assert np.array_equal(getattr(back.sketches, name), getattr(made.sketches, name)), name
    assert back.sketches.normalized == made.sketches.normalized
    assert np.array_equal(back.sketches.shingles.hashes, made.sketches.shingles.hashes)
    assert np.array_equal(back.sketches.shingles.offsets, made.sketches.shingles.offsets)
    other = load_input(data, DedupSettings(num_perm=128))
    assert other.sketches is None and other.table.schema == DOCUMENTS  # the paragraph columns are dropped too


def test_paragraphs_left_out_of_clustering_are_exactly_those_it_gives_no_link() -> None:
    """Random graphs: texts of one or more paragraphs, some stored, random edges; clustering the paragraphs
    `_clustered_rows` keeps gives every link that clustering all of them gives."""
    from wirecopy.dedup.engine import ParagraphColumns, cluster_links
    from wirecopy.dedup.match import _clustered_rows
    from wirecopy.models import DedupMethod

    rng = np.random.default_rng(17)
    for trial in range(200):
        texts = rng.integers(1, 40, rng.integers(1, 60))
        refs = [ParagraphRef(f"p{trial}-{i}", int(h), KeepKey.of(None, None, f"d{i % 7}", i))
                for i, h in enumerate(texts)]  # fmt: skip
        stored = [ParagraphRef(f"s{trial}-{i}", int(h), KeepKey.of(None, None, f"e{i}", 0))
                  for i, h in enumerate(rng.integers(1, 60, rng.integers(0, 10)))]  # fmt: skip
        edges = [Edge(int(a), int(b), DedupMethod.NEAR, 0.9, 0.8, 0.9)
                 for a, b in rng.integers(1, 70, (rng.integers(0, 25), 2)) if a < b]  # fmt: skip
        batch = ParagraphColumns.of_refs(refs)
        kept = batch.refs(_clustered_rows(batch.hashes, stored, edges))
        assert cluster_links(stored + kept, edges) == cluster_links(stored + refs, edges)
        assert len(kept) <= len(refs)


def test_the_match_step_needs_the_forms_or_the_sketches(seeds) -> None:
    refs, _ = _columns(seeds)
    with pytest.raises(ValueError, match="matching forms or the sketches"):
        match_batch(refs, None, MemoryIndex(), SETTINGS)
