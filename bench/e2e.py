"""End-to-end ingest benchmark: `wirecopy ingest` through the CLI against the naive datasketch script, same run.

    .venv/bin/python bench/e2e.py --n 100000 [--seed 1] [--engine local|dask] [--workers N] [--skip-naive]
                                  [--reingest] [--server-port PORT]
    .venv/bin/python bench/e2e.py writer 100000 [BATCH_BYTES]     # the single writer alone (commits only)

1. Generates (deterministically for `--n` and `--seed`, reused when already there) an article-JSONL corpus
   under bench/out/corpus-<n>-s<seed>/ (manifest beside it: corpus-<n>-s<seed>.json): 20 outlets (even:
   Arabic, odd: English), words from a Zipf-weighted vocabulary of 3,000 per language, articles of 4–12 body
   paragraphs plus a date line and an ad / source / read-also line, shards of ~5,000 paragraphs. A quarter of
   the articles republish an earlier article of another outlet of the same language, each paragraph copied
   exactly, with 1–3 words changed, cut to a part (containment) or with an agency attribution added.
2. Runs, each as a child process measured the same way (wall, CPU-seconds of the process and all its
   descendants, peak RSS of the whole process tree sampled every 50 ms):
   (a) `wirecopy ingest CORPUS --db TMP/e2e.duckdb` through the installed CLI (a temporary Prefect server
       starts, unless PREFECT_API_URL or `--server-port` names a running one); with `--reingest`, the same
       command again on the now-filled warehouse;
   (b) the naive script a user would write in an afternoon (`python bench/e2e.py naive ...`): normalise
       (NFKC, lower case, punctuation to spaces), word 3-grams, `MinHash(64).update_batch`,
       `MinHashLSH(threshold=0.5)`, union-find over the LSH candidates, one DuckDB table.
3. Prints paragraphs/s for each, with the process start (Prefect's included) and without it (wirecopy: the
   flow's own `ingest_runs.seconds`, plus the seconds its first batches were prepared ahead while a temporary
   Prefect server started, stage `ahead`; naive: its work after the imports), the ratio, CPU-seconds (wirecopy's
   also by process: the command — flow, writer, Prefect client —, its workers, the Prefect server), cores busy
   (CPU-seconds / wall), peak RSS of the tree, warehouse bytes (file + LSH store) and seconds per stage from
   `ingest_runs.stage_seconds`; writes the same as JSON into bench/out/e2e-<n>-<UTC time>.json.

Paragraphs/s are body paragraphs of the corpus (N) over seconds, for both sides; the naive script also hashes
the two boilerplate lines of each article, which wirecopy removes.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import random
import re
import resource
import socket
import subprocess
import sys
import tempfile
import threading
import time
import unicodedata
from collections import deque
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "bench" / "out"
OUTLETS = 20
SHARD_PARAGRAPHS = 5_000
SYNDICATED_SHARE = 0.25
ARABIC_LETTERS = "ابتثجحخدذرزسشصضطظعغفقكلمنهويءأإآةى"
LATIN_LETTERS = "abcdefghijklmnopqrstuvwxyz"
VOCABULARY = 3_000
AR_MONTHS = ["يناير", "فبراير", "مارس", "أبريل", "مايو", "يونيو", "يوليو", "أغسطس", "سبتمبر", "أكتوبر", "نوفمبر"]
EN_MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October"]
FOOTERS = {
    "ar": ["[ad_1]", "المصدر: وكالات", "اقرأ أيضا: تطورات جديدة في الملف"],
    "en": ["[ad_1]", "Source: agencies", "Read more: the latest on the story"],
}
ATTRIBUTIONS = {"ar": "بحسب وكالة رويترز", "en": "Reuters reported"}


# --- corpus ---------------------------------------------------------------------------------------


def _vocabulary(rng: random.Random, letters: str) -> list[str]:
    words: set[str] = set()
    while len(words) < VOCABULARY:
        words.add("".join(rng.choice(letters) for _ in range(rng.randint(2, 9))))
    ordered = sorted(words)
    rng.shuffle(ordered)  # Zipf ranks in a random order, not alphabetical
    return ordered


@dataclass
class _Article:
    outlet: int
    language: str
    paragraphs: list[str]


class CorpusGenerator:
    """Articles as a pure function of the seed and their number (paragraph budget aside)."""

    def __init__(self, seed: int):
        rng = random.Random(seed)
        self.seed = seed
        self.words = {"ar": _vocabulary(rng, ARABIC_LETTERS), "en": _vocabulary(rng, LATIN_LETTERS)}
        self.weights = [1.0 / (rank + 1) ** 0.9 for rank in range(VOCABULARY)]
        self.recent: dict[str, deque[_Article]] = {"ar": deque(maxlen=500), "en": deque(maxlen=500)}

    def _paragraph(self, rng: random.Random, language: str) -> str:
        words = rng.choices(self.words[language], weights=self.weights, k=rng.randint(12, 60))
        return " ".join(words).capitalize() + "."

    def _copy(self, rng: random.Random, text: str, language: str) -> str:
        kind = rng.random()
        if kind < 0.4:
            return text
        tokens = text.rstrip(".").split()
        if kind < 0.75:  # 1–3 words changed
            for _ in range(rng.randint(1, 3)):
                tokens[rng.randrange(len(tokens))] = rng.choice(self.words[language])
            return " ".join(tokens) + "."
        if kind < 0.9 and len(tokens) >= 16:  # a cut: 50–80 % of the words
            size = int(len(tokens) * rng.uniform(0.5, 0.8))
            start = rng.randrange(len(tokens) - size + 1)
            return " ".join(tokens[start : start + size]) + "."
        return f"{text.rstrip('.')}، {ATTRIBUTIONS['ar']}." if language == "ar" else f"{ATTRIBUTIONS['en']} {text}"

    def article(self, number: int, budget: int) -> _Article:
        rng = random.Random(self.seed * 1_000_003 + number)
        outlet = rng.randrange(OUTLETS)
        language = "ar" if outlet % 2 == 0 else "en"
        size = min(budget, rng.randint(4, 12))
        pool = [a for a in self.recent[language] if a.outlet != outlet]
        if pool and rng.random() < SYNDICATED_SHARE:
            source = rng.choice(pool)
            paragraphs = [self._copy(rng, text, language) for text in source.paragraphs][:size]
            paragraphs += [self._paragraph(rng, language) for _ in range(size - len(paragraphs))]
        else:
            paragraphs = [self._paragraph(rng, language) for _ in range(size)]
        made = _Article(outlet, language, paragraphs)
        self.recent[language].append(made)
        return made


def _date_line(rng: random.Random, language: str) -> str:
    if language == "ar":
        return f"{rng.randint(1, 28)} {rng.choice(AR_MONTHS)} 2023"
    return f"{rng.choice(EN_MONTHS)} {rng.randint(1, 28)}, 2023"


def build_corpus(n: int, seed: int) -> Path:
    """Write the corpus of `n` body paragraphs (reused when its manifest says it is complete)."""
    directory = OUT / f"corpus-{n}-s{seed}"
    manifest = directory.with_suffix(".json")  # beside, not inside: the corpus folder is ingested whole
    if manifest.exists() and json.loads(manifest.read_text()).get("paragraphs") == n:
        return directory
    directory.mkdir(parents=True, exist_ok=True)
    for old in directory.glob("*.jsonl"):
        old.unlink()
    articles, shards = write_shards(CorpusGenerator(seed), directory, n, first_article=0)
    manifest.write_text(json.dumps({"paragraphs": n, "articles": articles, "shards": shards, "seed": seed}))
    return directory


def write_shards(generator: CorpusGenerator, directory: Path, paragraphs: int, first_article: int) -> tuple[int, int]:
    """Write the generator's articles from number `first_article` on, `paragraphs` body paragraphs in all, as
    JSONL shards of ~5,000 paragraphs; returns (the next article number, shards written)."""
    base = datetime(2023, 1, 1, tzinfo=UTC)
    seed = generator.seed
    written = shard = in_shard = 0
    number = first_article
    handle = (directory / f"shard-{shard:04d}.jsonl").open("w", encoding="utf-8")
    while written < paragraphs:
        made = generator.article(number, paragraphs - written)
        rng = random.Random(-(seed * 1_000_003 + number))
        lines = [_date_line(rng, made.language), *made.paragraphs, rng.choice(FOOTERS[made.language])]
        record = {
            "url": f"https://outlet{made.outlet:02d}.example/{number}",
            "outlet": f"outlet{made.outlet:02d}",
            "title": f"article {number}",
            "published_at": (base + timedelta(minutes=7 * number)).isoformat(),
            "text": "\n".join(lines),
        }
        handle.write(json.dumps(record, ensure_ascii=False) + "\n")
        written += len(made.paragraphs)
        in_shard += len(made.paragraphs)
        number += 1
        if in_shard >= SHARD_PARAGRAPHS and written < paragraphs:
            handle.close()
            shard += 1
            in_shard = 0
            handle = (directory / f"shard-{shard:04d}.jsonl").open("w", encoding="utf-8")
    handle.close()
    return number, shard + 1


# --- measuring a process tree ---------------------------------------------------------------------


def _children(pid: int) -> list[int]:
    found = []
    try:
        for task in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{task}/children") as handle:
                found += [int(child) for child in handle.read().split()]
    except OSError:
        pass
    return found


def _tree(root: int) -> list[int]:
    """The processes of the tree under `root` (those alive while it is walked)."""
    pids, todo = [], [root]
    while todo:
        pid = todo.pop()
        pids.append(pid)
        todo += _children(pid)
    return pids


def _tree_rss_bytes(
    root: int, cpu_seen: dict[int, tuple[str, float]] | None = None, rss_by_kind: dict[str, int] | None = None
) -> int:
    """RSS of the process tree under `root`; with `cpu_seen`, also records each process's kind (`process_kind`)
    and CPU-seconds so far (a process's last sample stands for its total), and with `rss_by_kind` the RSS of
    each kind in this sample."""
    total, page = 0, os.sysconf("SC_PAGE_SIZE")
    for pid in _tree(root):
        try:
            with open(f"/proc/{pid}/statm") as handle:
                rss = int(handle.read().split()[1]) * page
            total += rss
            if cpu_seen is not None:
                kind, cpu = _kind_and_cpu(pid)
                if pid in cpu_seen and cpu_seen[pid][0] != "command":
                    kind = cpu_seen[pid][0]  # a child reads as its parent before its exec, and as "" once it exits
                cpu_seen[pid] = kind, cpu
                if rss_by_kind is not None:
                    rss_by_kind[kind] = rss_by_kind.get(kind, 0) + rss
        except OSError:
            continue
    return total


def _tree_pss_bytes(root: int) -> int:
    """Proportional set size of the process tree under `root`: each shared page (libraries, the page cache of
    mapped files) counted once across the tree, not once per process as an RSS sum does. Costs ≈ 1 ms a
    process, hence sampled less often than the RSS."""
    total = 0
    for pid in _tree(root):
        try:
            with open(f"/proc/{pid}/smaps_rollup") as handle:
                total += next(int(line.split()[1]) * 1024 for line in handle if line.startswith("Pss:"))
        except (OSError, StopIteration):
            continue
    return total


_TICKS = os.sysconf("SC_CLK_TCK")


def _kind_and_cpu(pid: int) -> tuple[str, float]:
    with open(f"/proc/{pid}/stat") as handle:
        fields = handle.read().rsplit(")", 1)[1].split()
    with open(f"/proc/{pid}/cmdline", "rb") as handle:
        command = handle.read().replace(b"\0", b" ").decode(errors="replace")
    return process_kind(command), (int(fields[11]) + int(fields[12])) / _TICKS


def process_kind(command: str) -> str:
    """What a process of the measured tree is, from its command line: the Prefect server, a worker (a process
    pool's or Dask's), or the command itself (wirecopy: the flow, the writer and Prefect's client)."""
    if "uvicorn" in command or "prefect.server" in command:
        return "prefect server"
    if "multiprocessing" in command or "distributed" in command or "dask worker" in command:
        return "workers"  # not any "dask": `wirecopy ingest --engine dask` is the command
    return "command"


@dataclass
class Measured:
    """One child process tree: wall seconds, CPU-seconds (all descendants), peak RSS of the tree, output."""

    wall: float
    cpu: float
    peak_rss_mb: float
    stdout: str = field(repr=False)
    cpu_by_kind: dict[str, float] = field(default_factory=dict)  # sampled every 50 ms: may miss the last 50 ms
    peak_rss_mb_by_kind: dict[str, float] = field(default_factory=dict)  # each kind's own peak (not simultaneous)
    peak_pss_mb: float = 0.0  # the tree's proportional set size, sampled every 250 ms

    @property
    def cores_busy(self) -> float:
        return self.cpu / self.wall if self.wall else 0.0


def run_measured(command: list[str], env: dict[str, str], timeout: float) -> Measured:
    """Run `command` to its end, sampling the RSS of its whole process tree every 50 ms (its PSS every 250 ms)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    process = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT)
    peak = peak_pss = 0
    done = threading.Event()
    cpu_seen: dict[int, tuple[str, float]] = {}
    peak_by_kind: dict[str, int] = {}

    def sample() -> None:
        nonlocal peak, peak_pss
        for tick in itertools.count():
            if done.wait(0.05):
                return
            if tick % 5 == 0:
                peak_pss = max(peak_pss, _tree_pss_bytes(process.pid))
            by_kind: dict[str, int] = {}
            peak = max(peak, _tree_rss_bytes(process.pid, cpu_seen, by_kind))
            for kind, rss in by_kind.items():
                peak_by_kind[kind] = max(peak_by_kind.get(kind, 0), rss)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    try:
        stdout, stderr = process.communicate(timeout=timeout)
    finally:
        done.set()
        sampler.join()
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if process.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed ({process.returncode}):\n{stderr[-4000:]}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    by_kind: dict[str, float] = {}
    for kind, seconds in cpu_seen.values():
        by_kind[kind] = by_kind.get(kind, 0.0) + seconds
    peak_by_kind_mb = {kind: round(rss / 2**20) for kind, rss in peak_by_kind.items()}
    return Measured(
        wall=wall,
        cpu=cpu,
        peak_rss_mb=peak / 2**20,
        stdout=stdout,
        cpu_by_kind=by_kind,
        peak_rss_mb_by_kind=peak_by_kind_mb,
        peak_pss_mb=peak_pss / 2**20,
    )


# --- the naive script -----------------------------------------------------------------------------


def naive_main(corpus: Path, db: Path) -> None:
    """The afternoon script: datasketch MinHash + LSH over every line of every article, union-find, one table."""
    started = time.perf_counter()
    import duckdb
    import pyarrow as pa
    from datasketch import MinHash, MinHashLSH

    work = time.perf_counter()
    punctuation = re.compile(r"[^\w\s]")
    lsh = MinHashLSH(threshold=0.5, num_perm=64)
    parent: list[int] = []

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    outlets, docs, positions, texts = [], [], [], []
    for shard in sorted(corpus.glob("*.jsonl")):
        with shard.open(encoding="utf-8") as handle:
            for line_no, line in enumerate(handle):
                record = json.loads(line)
                for position, text in enumerate(p.strip() for p in record["text"].split("\n") if p.strip()):
                    tokens = punctuation.sub(" ", unicodedata.normalize("NFKC", text).lower()).split()
                    shingles = {" ".join(tokens[i : i + 3]) for i in range(max(1, len(tokens) - 2))}
                    m = MinHash(num_perm=64)
                    m.update_batch([s.encode("utf-8") for s in shingles])
                    key = len(parent)
                    parent.append(key)
                    for other in lsh.query(m):
                        a, b = find(key), find(other)
                        if a != b:
                            parent[max(a, b)] = min(a, b)
                    lsh.insert(key, m)
                    outlets.append(record["outlet"])
                    docs.append(f"{shard.name}#{line_no}")
                    positions.append(position)
                    texts.append(text)
    clusters = [find(i) for i in range(len(parent))]
    rows = pa.table({"outlet": outlets, "doc": docs, "position": positions, "text": texts, "cluster": clusters})
    con = duckdb.connect(str(db))
    con.register("rows", rows)
    con.execute("CREATE OR REPLACE TABLE paragraphs AS SELECT * FROM rows")
    con.close()
    end = time.perf_counter()
    print(json.dumps({"lines": len(parent), "work_seconds": end - work, "import_seconds": work - started}))


# --- the single writer's ceiling -------------------------------------------------------------------


def writer_main(n: int, seed: int, batch_bytes: int) -> None:
    """Prepare every batch of the corpus first (untimed), then time the writer alone: `commit_batch` of each
    prepared batch into a fresh warehouse, as the flow's `load` does. Paragraphs per second of one writer."""
    import numpy as np

    sys.path.insert(0, str(ROOT))
    from wirecopy.connectors.sources import plan_files
    from wirecopy.warehouse.commit import Batch, commit_batch

    from wirecopy.dedup.settings import DedupSettings
    from wirecopy.pipeline import load_input, plan_batches, prepare_arrow

    corpus = build_corpus(n, seed)
    planned, _ = plan_files([str(corpus)])
    refs = plan_batches(planned, batch_bytes, 500)
    settings = DedupSettings()  # the workers make the match step's inputs ahead, as in an ingest
    prepared = [prepare_arrow(ref, np.empty(0, dtype="S16"), 20_000_000, dedup=settings) for ref in refs]
    with tempfile.TemporaryDirectory(prefix="wirecopy-writer-") as tmp:
        db = Path(tmp) / "w.duckdb"
        wall, cpu, paragraphs = time.perf_counter(), time.process_time(), 0
        for number, data in enumerate(prepared):
            batch = load_input(data, settings)
            result = commit_batch(db, Batch(f"run{number}", table=batch.table, sketches=batch.sketches), settings)
            paragraphs += result.paragraphs_new
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    print(
        f"writer alone: {paragraphs:,} paragraphs in {len(refs)} commits of ≤ {batch_bytes:,} bytes: "
        f"{wall:.1f} s wall, {cpu:.1f} CPU-s → {paragraphs / wall:,.0f}/s wall, {paragraphs / cpu:,.0f}/s per CPU-s"
    )


# --- the run --------------------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _bytes(db: Path) -> int:
    store = db.with_name(db.name + ".lsh")
    extra = sum(p.stat().st_size for p in store.rglob("*") if p.is_file()) if store.exists() else 0
    return db.stat().st_size + extra


def _last_run(db: Path) -> dict:
    import duckdb

    con = duckdb.connect(str(db), read_only=True)
    try:
        row = con.execute(
            "SELECT seconds, stage_seconds, paragraphs_new, documents_new, documents_seen, exact_links, near_links, "
            "containment_links, errors FROM ingest_runs ORDER BY finished_at DESC LIMIT 1"
        ).fetchone()
    finally:
        con.close()
    names = ["seconds", "stage_seconds", "paragraphs_new", "documents_new", "documents_seen", "exact_links",
             "near_links", "containment_links", "errors"]  # fmt: skip
    run = dict(zip(names, row, strict=True))
    run["stage_seconds"] = json.loads(run["stage_seconds"])
    return run


def _ingest(corpus: Path, db: Path, env: dict[str, str], args: argparse.Namespace, n: int) -> dict:
    command = [str(ROOT / ".venv" / "bin" / "wirecopy"), "ingest", str(corpus), "--db", str(db)]
    if args.engine:
        command += ["--engine", args.engine]
    if args.workers:
        command += ["--workers", str(args.workers)]
    measured = run_measured(command, env, timeout=args.timeout)
    run = _last_run(db)
    ahead = run["stage_seconds"].get("ahead", 0.0)  # batches prepared while the server started count as work
    return {
        "command": " ".join(command),
        "wall_seconds": round(measured.wall, 2),
        "flow_seconds": round(run["seconds"], 2),
        "ahead_seconds": round(ahead, 2),
        "paragraphs_per_s": round(n / measured.wall),
        "paragraphs_per_s_without_start": round(n / (run["seconds"] + ahead)),
        "cpu_seconds": round(measured.cpu, 1),
        "cpu_seconds_by_process": {kind: round(seconds, 1) for kind, seconds in sorted(measured.cpu_by_kind.items())},
        "cores_busy": round(measured.cores_busy, 2),
        "peak_rss_mb": round(measured.peak_rss_mb),
        "peak_rss_mb_by_process": dict(sorted(measured.peak_rss_mb_by_kind.items())),
        "peak_pss_mb": round(measured.peak_pss_mb),
        "warehouse_bytes": _bytes(db),
        "stage_seconds": {k: round(v, 2) for k, v in run["stage_seconds"].items()},
        "run": {k: v for k, v in run.items() if k not in ("seconds", "stage_seconds")},
    }


def _naive(corpus: Path, db: Path, env: dict[str, str], args: argparse.Namespace, n: int) -> dict:
    command = [sys.executable, str(Path(__file__).resolve()), "naive", str(corpus), str(db)]
    measured = run_measured(command, env, timeout=args.timeout)
    out = json.loads(measured.stdout.strip().splitlines()[-1])
    return {
        "wall_seconds": round(measured.wall, 2),
        "work_seconds": round(out["work_seconds"], 2),
        "paragraphs_per_s": round(n / measured.wall),
        "paragraphs_per_s_without_start": round(n / out["work_seconds"]),
        "lines_hashed": out["lines"],
        "cpu_seconds": round(measured.cpu, 1),
        "cores_busy": round(measured.cores_busy, 2),
        "peak_rss_mb": round(measured.peak_rss_mb),
        "warehouse_bytes": db.stat().st_size,
    }


def _print(result: dict) -> None:
    def line(name: str, side: dict) -> None:
        print(
            f"{name:<10} {side['paragraphs_per_s']:>8,}/s  without start {side['paragraphs_per_s_without_start']:>8,}/s"
            f"  wall {side['wall_seconds']:>7.1f} s  cpu {side['cpu_seconds']:>7.1f} s  cores {side['cores_busy']:.2f}"
            f"  peak RSS {side['peak_rss_mb']:>5} MB  warehouse {side['warehouse_bytes'] / 2**20:.1f} MB"
        )

    print(f"corpus: {result['paragraphs']:,} paragraphs, {result['articles']:,} articles, {result['shards']} shards")
    line("wirecopy", result["wirecopy"])
    print(f"           stages (s): {result['wirecopy']['stage_seconds']}")
    print(f"           CPU-s by process: {result['wirecopy']['cpu_seconds_by_process']}")
    print(
        f"           peak RSS by process (MB, each its own peak): {result['wirecopy']['peak_rss_mb_by_process']}; "
        f"peak PSS of the tree {result['wirecopy']['peak_pss_mb']} MB (shared pages counted once)"
    )
    print(f"           run: {result['wirecopy']['run']}")
    if "reingest" in result:
        line("re-ingest", result["reingest"])
        print(f"           re-ingest speedup (flow seconds): {result['reingest_speedup']:.1f}x")
    if "naive" in result:
        line("naive", result["naive"])
        print(f"ratio wirecopy/naive: {result['ratio']:.2f} with start, {result['ratio_without_start']:.2f} without")


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "naive":
        naive_main(Path(sys.argv[2]), Path(sys.argv[3]))
        return
    if len(sys.argv) > 1 and sys.argv[1] == "writer":  # bench/e2e.py writer N [BATCH_BYTES]
        writer_main(int(sys.argv[2]), 1, int(sys.argv[3]) if len(sys.argv) > 3 else 16_000_000)
        return
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=100_000, help="body paragraphs (10000, 100000, 1000000)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--engine", choices=["local", "dask"], help="wirecopy ingest --engine")
    parser.add_argument("--workers", type=int, help="wirecopy ingest --workers")
    parser.add_argument("--skip-naive", action="store_true", help="run wirecopy only")
    parser.add_argument("--reingest", action="store_true", help="ingest the same corpus again (all stored)")
    parser.add_argument("--timeout", type=float, default=7200.0, help="seconds per child process")
    parser.add_argument("--label", default="", help="added to the JSON file name")
    parser.add_argument(
        "--server-port", type=int, help="report to the `wirecopy server` on this port (default: a temporary server)"
    )
    args = parser.parse_args()
    corpus = build_corpus(args.n, args.seed)
    manifest = json.loads(corpus.with_suffix(".json").read_text())
    env = dict(os.environ)
    env.setdefault("PREFECT_HOME", str(ROOT / ".prefect"))
    env.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    env.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "90")
    env["WIRECOPY_CONFIG"] = ""  # no configuration file: defaults only, whatever the working folder holds
    # a running server is reused by the CLI: unless asked to, point it at a port where none listens
    env["WIRECOPY_SERVER__PORT"] = str(args.server_port or _free_port())
    result: dict = {"n": args.n, "seed": args.seed, "at": datetime.now(UTC).isoformat(timespec="seconds")}
    result |= {"paragraphs": manifest["paragraphs"], "articles": manifest["articles"], "shards": manifest["shards"]}
    result["cpus"] = os.cpu_count()
    result["load_before"] = os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix="wirecopy-e2e-") as tmp:
        db = Path(tmp) / "e2e.duckdb"
        result["wirecopy"] = _ingest(corpus, db, env, args, args.n)
        if args.reingest:
            result["reingest"] = _ingest(corpus, db, env, args, args.n)
            result["reingest_speedup"] = result["wirecopy"]["flow_seconds"] / result["reingest"]["flow_seconds"]
        if not args.skip_naive:
            result["naive"] = _naive(corpus, Path(tmp) / "naive.duckdb", env, args, args.n)
            result["ratio"] = result["wirecopy"]["paragraphs_per_s"] / result["naive"]["paragraphs_per_s"]
            result["ratio_without_start"] = (
                result["wirecopy"]["paragraphs_per_s_without_start"] / result["naive"]["paragraphs_per_s_without_start"]
            )
    _print(result)
    OUT.mkdir(parents=True, exist_ok=True)
    label = f"-{args.label}" if args.label else ""
    path = OUT / f"e2e-{args.n}{label}-{datetime.now(UTC):%Y%m%dT%H%M%S}.json"
    path.write_text(json.dumps(result, indent=2, default=str))
    print(f"→ {path.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
