"""Dedup speed benchmark: stage throughput, datasketch baseline, peak RSS, incremental cost.

    .venv/bin/python bench/dedup.py --n 100000

Prints, all measured in this run:
- paragraphs/s for normalise, shingle, MinHash (ours, batched) and for datasketch's per-paragraph
  `MinHash.update()` loop over the same shingles (baseline), and the ratio between the two;
- peak RSS while indexing N paragraphs into a DuckDB warehouse (in 10k-paragraph batches), per million;
- the cost of one 10k-paragraph batch into the warehouse holding N paragraphs versus into an empty one (a
  commit as any run makes it), and of 16 batches, which include one commit on each side that merges DuckDB's
  small row groups (every 16th commit to a warehouse does);
- how long rebuilding the LSH store from the warehouse takes (after a crash, or a restored warehouse file).
"""

from __future__ import annotations

import argparse
import itertools
import multiprocessing
import os
import random
import shutil
import statistics
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from wirecopy.warehouse.commit import (
    COMPACT_EVERY_BATCHES,
    INGEST_MEMORY_LIMIT,
    Batch,
    commit_batch,
    commits_since_merge,
    merges_row_groups,
)
from wirecopy.warehouse.db import session
from wirecopy.warehouse.index import open_lsh_store
from wirecopy.warehouse.lsh_store import store_directory

from wirecopy.dedup.minhash import signatures
from wirecopy.dedup.normalize import normalize_batch
from wirecopy.dedup.settings import DedupSettings
from wirecopy.dedup.shingles import shingle_batch
from wirecopy.models import CleanDocument, ContentType, RawDocument, content_hash

ARABIC_LETTERS = "ابتثجحخدذرزسشصضطظعغفقكلمنهويءأإآةى"
PARAGRAPHS_PER_DOC = 20


class SyntheticCorpus:
    """Paragraph i is a pure function of (seed, i), so batches are generated lazily and reproducibly.

    Zipf-distributed Arabic-like words, 20–60 per paragraph; every 10th paragraph is a one-word edit of
    an earlier original (possibly from an earlier batch), so incremental batches meet real duplicates.
    """

    def __init__(self, seed: int, vocabulary_size: int = 30000):
        rng = random.Random(seed)
        words: set[str] = set()
        while len(words) < vocabulary_size:
            words.add("".join(rng.choice(ARABIC_LETTERS) for _ in range(rng.randint(2, 9))))
        self.words = sorted(words)
        self.cumulative = list(itertools.accumulate(1.0 / (rank + 1) for rank in range(vocabulary_size)))
        self.seed = seed

    def original(self, i: int) -> str:
        rng = random.Random(self.seed * 1_000_003 + i)
        return " ".join(rng.choices(self.words, cum_weights=self.cumulative, k=rng.randint(20, 60)))

    def paragraph(self, i: int) -> str:
        if i % 10 != 9:
            return self.original(i)
        rng = random.Random(-(self.seed * 1_000_003 + i))
        tokens = self.original(rng.randrange(i)).split()
        tokens[rng.randrange(len(tokens))] = rng.choice(self.words)
        return " ".join(tokens)

    def range(self, start: int, stop: int) -> list[str]:
        return [self.paragraph(i) for i in range(start, stop)]


def as_documents(paragraphs: list[str], prefix: str) -> list[tuple[RawDocument, CleanDocument]]:
    base = datetime(2023, 9, 19, tzinfo=UTC)
    docs = []
    for start in range(0, len(paragraphs), PARAGRAPHS_PER_DOC):
        body = paragraphs[start : start + PARAGRAPHS_PER_DOC]
        text = "\n".join(body)
        raw = RawDocument(
            source_uri=f"bench://{prefix}/{start}",
            outlet=f"outlet{start // PARAGRAPHS_PER_DOC % 7}",
            content=text,
            content_type=ContentType.TEXT,
            content_hash=content_hash(text),
            fetched_at=base + timedelta(seconds=start),
        )
        docs.append((raw, CleanDocument(
            doc_id=raw.doc_id, source_uri=raw.source_uri, outlet=raw.outlet, fetched_at=raw.fetched_at,
            paragraphs=body,
        )))  # fmt: skip
    return docs


def rate(count: int, seconds: float) -> float:
    return count / seconds if seconds > 0 else float("inf")


def datasketch_loop(normalized: list[str], settings: DedupSettings) -> None:
    """The usual datasketch loop: word n-gram strings, one MinHash per paragraph, one update() per shingle."""
    from datasketch import MinHash  # imported here: the indexing child must not carry datasketch's scipy

    size = settings.shingle_spec.size
    for text in normalized:
        tokens = text.split()
        m = MinHash(num_perm=settings.num_perm, seed=settings.seed)
        for i in range(max(1, len(tokens) - size + 1)):
            m.update(" ".join(tokens[i : i + size]).encode("utf-8"))


def stage_throughput(paragraphs: list[str], settings: DedupSettings, baseline_n: int, rounds: int = 3):
    """Best of `rounds` interleaved measurements of our stages and of the datasketch baseline."""
    best: dict[str, float] = {}

    def keep(name: str, count: int, seconds: float) -> None:
        best[name] = max(best.get(name, 0.0), rate(count, seconds))

    n = len(paragraphs)
    for _ in range(rounds):
        t0 = time.perf_counter()
        normalized = normalize_batch(paragraphs)
        t1 = time.perf_counter()
        batch = shingle_batch(normalized, settings.shingle_spec)
        t2 = time.perf_counter()
        signatures(batch, settings.num_perm, settings.seed)
        t3 = time.perf_counter()
        datasketch_loop(normalized[:baseline_n], settings)
        t4 = time.perf_counter()
        keep("normalise", n, t1 - t0)
        keep("shingle", n, t2 - t1)
        keep("minhash", n, t3 - t2)
        keep("normalise+shingle+minhash", n, t3 - t0)
        keep("shingle+minhash", n, t3 - t1)
        keep("datasketch update() loop", baseline_n, t4 - t3)
    best["ratio"] = best["normalise+shingle+minhash"] / best["datasketch update() loop"]
    best["ratio without normalise"] = best["shingle+minhash"] / best["datasketch update() loop"]
    return best


def current_rss_mb() -> float:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 1e6


def rss_parts_mb() -> dict[str, float]:
    """Anonymous (heap) and file-backed (mapped code and data files) parts of the resident set."""
    parts = {}
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith(("RssAnon:", "RssFile:")):
                name, value = line.split(":")
                parts[name] = int(value.split()[0]) / 1000
    return parts


def index_history(db: Path, n: int, batch: int, seed: int) -> tuple[float, dict, dict]:
    """Index paragraphs [0, n) in batches, in a child process: (seconds, RSS after imports, RSS at the peak).

    RSS is sampled from /proc every 2 ms: the kernel's ru_maxrss of a spawned child also counts the parent's
    pages at fork time, which would bill the benchmark's own earlier phases to the indexing.
    """
    peak = [0.0]
    at_peak: dict[str, float] = {}
    done = threading.Event()

    def sample() -> None:
        while not done.is_set():
            now = current_rss_mb()
            if now > peak[0]:
                peak[0] = now
                at_peak.update(rss_parts_mb(), total=now)
            time.sleep(0.002)

    sampler = threading.Thread(target=sample, daemon=True)
    corpus, settings = SyntheticCorpus(seed), DedupSettings()
    before = rss_parts_mb() | {"total": current_rss_mb()}
    sampler.start()
    t = time.perf_counter()
    for start in range(0, n, batch):  # one backfill run, committed as the ingest flow does
        docs = as_documents(corpus.range(start, min(start + batch, n)), f"h{start}")
        commit_batch(db, Batch(run_id=f"h{start}", documents=docs), settings)
    seconds = time.perf_counter() - t
    done.set()
    sampler.join()
    return seconds, before, dict(at_peak)


def rebuild_store(db: Path) -> tuple[float, int]:
    """Delete the LSH store and time its rebuild from the warehouse (what a crash or a restored file costs)."""
    shutil.rmtree(store_directory(db))
    t = time.perf_counter()
    with session(db, read_only=True, memory_limit=INGEST_MEMORY_LIMIT) as con:
        store = open_lsh_store(db, con, DedupSettings())
    return time.perf_counter() - t, store.band_rows


def directory_mb(path: Path) -> float:
    return sum(p.stat().st_size for p in path.iterdir()) / 1e6


def empty_warehouse(db: Path, settings: DedupSettings) -> Path:
    """A warehouse with its schema and an empty LSH store, so the empty-side probe times the batch alone."""
    with session(db, read_only=False):
        pass
    with session(db, read_only=True) as con:
        open_lsh_store(db, con, settings)
    return db


def merge_due(db: Path) -> bool:
    """Whether the next commit to `db` merges DuckDB's small row groups (every 16th commit does)."""
    with session(db, read_only=True) as con:
        return merges_row_groups(commits_since_merge(con))


def timed_commit(db: Path, docs, settings: DedupSettings, run: str) -> tuple[float, bool]:
    """Seconds one commit of `docs` takes, and whether it merged row groups."""
    merges = merge_due(db)
    os.sync()  # flush earlier writes (the index build, the previous probe) so they are not billed to this batch
    t = time.perf_counter()
    commit_batch(db, Batch(run_id=run, documents=docs), settings)
    return time.perf_counter() - t, merges


def report_probes(title: str, n: int, into_empty: list[float], into_full: list[float]) -> None:
    empty_s, full_s = statistics.median(into_empty), statistics.median(into_full)
    print(f"\n## {title} (median of {len(into_empty)})")
    print(f"{'into empty warehouse':>28}: {empty_s:.3f}s")
    print(f"{f'into warehouse of {n:,}':>28}: {full_s:.3f}s")
    print(f"{'incremental ratio':>28}: {full_s / empty_s:.2f}x (target <= 1.5x)")
    pairs = ", ".join(f"{e:.2f}/{f:.2f}" for e, f in zip(into_empty, into_full, strict=True))
    print(f"{'each probe, empty / full':>28}: {pairs}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=100_000, help="paragraphs indexed (10000, 100000, 1000000)")
    parser.add_argument("--batch", type=int, default=10_000, help="paragraphs per incremental batch")
    parser.add_argument("--baseline-n", type=int, default=3_000, help="paragraphs for the datasketch baseline")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--repeats", type=int, default=7, help="probe batches timed, median reported")
    args = parser.parse_args()
    settings = DedupSettings()

    corpus = SyntheticCorpus(args.seed)
    print(f"settings: shingle={settings.shingle} num_perm={settings.num_perm} bands={settings.bands}x{settings.rows}")
    sample = corpus.range(0, min(args.n, 100_000))
    print(f"\n## Stage throughput on {len(sample):,} paragraphs (paragraphs/s, one core, best of 3 interleaved)")
    for name, value in stage_throughput(sample, settings, args.baseline_n).items():
        print(f"{name:>28}: {value:,.1f}" + ("x" if name.startswith("ratio") else ""))
    del sample

    with tempfile.TemporaryDirectory() as tmp:
        full_db = Path(tmp) / "full.duckdb"
        context = multiprocessing.get_context("spawn")  # a clean child, so its peak RSS is the indexing alone
        with context.Pool(1) as pool:
            build, before, peak = pool.apply(index_history, (full_db, args.n, args.batch, args.seed))
        per_million = peak["total"] * 1e6 / args.n
        print(f"\n## Indexing {args.n:,} paragraphs into DuckDB in batches of {args.batch:,} (child process)")
        print(f"{'end-to-end dedup+load':>28}: {rate(args.n, build):,.0f} paragraphs/s ({build:.1f}s)")
        target = f"{per_million:,.0f} MB per million" if args.n >= 1_000_000 else "run --n 1000000 for the target"
        print(f"{'peak RSS':>28}: {peak['total']:,.0f} MB ({target}; target <= 300 MB per million)")
        print(f"{'':>28}  heap {peak['RssAnon']:,.0f} MB + mapped files and code {peak['RssFile']:,.0f} MB")
        heap, files = before["RssAnon"], before["RssFile"]
        print(f"{'after imports':>28}: {before['total']:,.0f} MB (heap {heap:,.0f} + files {files:,.0f})")
        print(f"{'peak RSS above imports':>28}: {peak['total'] - before['total']:,.0f} MB")
        print(f"{'warehouse file':>28}: {full_db.stat().st_size / 1e6:,.0f} MB")
        print(f"{'LSH store beside it':>28}: {directory_mb(store_directory(full_db)):,.0f} MB")

        probes = itertools.count(args.n, args.batch)  # first paragraph of each probe batch
        into_empty, into_full, merged = [], [], 0
        for _ in range(args.repeats):  # fresh probe batches each time: a repeated batch would be a no-op
            start = next(probes)
            probe_docs = as_documents(corpus.range(start, start + args.batch), f"probe{start}")
            empty = empty_warehouse(Path(tmp) / f"empty{start}.duckdb", settings)
            into_empty.append(timed_commit(empty, probe_docs, settings, f"p{start}")[0])
            seconds, merges = timed_commit(full_db, probe_docs, settings, f"p{start}")
            into_full.append(seconds)
            merged += merges
        label = f"One {args.batch:,}-paragraph batch ({merged} of the full side's commits merged row groups)"
        report_probes(label, args.n, into_empty, into_full)

        empty = empty_warehouse(Path(tmp) / "empty-run.duckdb", settings)
        into_empty, into_full, merging = [], [], []
        for _ in range(COMPACT_EVERY_BATCHES):  # each side's row groups are merged by one of these commits
            start = next(probes)
            probe_docs = as_documents(corpus.range(start, start + args.batch), f"run{start}")
            (empty_s, empty_merged), (full_s, full_merged) = (
                timed_commit(db, probe_docs, settings, f"r{start}") for db in (empty, full_db)
            )
            into_empty.append(empty_s)
            into_full.append(full_s)
            sides = (("empty", empty_s, empty_merged), ("full", full_s, full_merged))
            merging += [f"{side} {seconds:.2f}s" for side, seconds, merged in sides if merged]
        print(f"\n## A run of {COMPACT_EVERY_BATCHES} batches of {args.batch:,} paragraphs, merges included (total)")
        print(f"{'into empty warehouse':>28}: {sum(into_empty):.2f}s")
        print(f"{f'into warehouse of {args.n:,}':>28}: {sum(into_full):.2f}s")
        print(f"{'incremental ratio':>28}: {sum(into_full) / sum(into_empty):.2f}x (the 1.5x target is per batch)")
        print(f"{'merging commits':>28}: {', '.join(merging)}")

        with context.Pool(1) as pool:
            seconds, band_rows = pool.apply(rebuild_store, (full_db,))
        print(f"\n## Rebuilding the LSH store from the warehouse ({band_rows:,} band rows)")
        print(f"{'rebuild':>28}: {seconds:.1f}s")


if __name__ == "__main__":
    main()
