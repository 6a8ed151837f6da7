"""Measure what publishing the readers' snapshot costs (warehouse/snapshot.py), at a given warehouse size.

    nice .venv/bin/python -m warehouse.publish_cost --n 100000
    nice .venv/bin/python -m warehouse.publish_cost --n 1000000 --keep /tmp/w1m   # reuse with --reuse

Builds a warehouse of N synthetic paragraphs (bench/dedup.py's corpus, committed in 10,000-paragraph batches
into the writer's file, as an ingest run does), then times `publish` several times: each is a checkpoint, a
copy of the writer's file, an fsync and a rename. Also times one more commit with and without a publish after
it, and checks that a reader holding the published file open is not in the way.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from wirecopy.warehouse.commit import Batch, commit_batch
from wirecopy.warehouse.snapshot import prepare_writer, publish, writer_path

from wirecopy.dedup.settings import DedupSettings


def build(published: Path, n: int, batch: int) -> float:
    from bench.dedup import SyntheticCorpus, as_documents

    writer = prepare_writer(published)
    corpus, settings = SyntheticCorpus(1), DedupSettings()
    start = time.perf_counter()
    for first in range(0, n, batch):
        docs = as_documents(corpus.range(first, min(first + batch, n)), f"h{first}")
        commit_batch(writer, Batch(run_id=f"h{first}", documents=docs), settings)
        print(f"  {min(first + batch, n):,} paragraphs, {time.perf_counter() - start:.0f} s", flush=True)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=100_000)
    parser.add_argument("--batch", type=int, default=10_000)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--keep", type=Path, help="folder to build in and keep (default: a temporary one)")
    parser.add_argument("--reuse", action="store_true", help="the warehouse in --keep is already built")
    args = parser.parse_args()
    folder = args.keep or Path(tempfile.mkdtemp(prefix="publish-cost-", dir="/tmp"))
    folder.mkdir(parents=True, exist_ok=True)
    published = folder / "warehouse.duckdb"
    if not args.reuse:
        print(f"building {args.n:,} paragraphs in {folder}", flush=True)
        print(f"built in {build(published, args.n, args.batch):.0f} s", flush=True)
    writer = writer_path(published)
    size = writer.stat().st_size
    times = []
    for _ in range(args.repeats):
        done = publish(published)
        times.append(done.seconds)
    print(
        f"writer file {size / 1e6:,.0f} MB; publish ({done.method}): median {statistics.median(times):.2f} s, "
        f"min {min(times):.2f} s, max {max(times):.2f} s over {len(times)} ({', '.join(f'{t:.2f}' for t in times)})"
    )
    reader = subprocess.Popen(
        [sys.executable, "-c", "import duckdb, sys; c = duckdb.connect(sys.argv[1], read_only=True); "
         "print(c.execute('SELECT count(*) FROM paragraphs').fetchone()[0], flush=True); sys.stdin.read()",
         str(published)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    held = reader.stdout.readline().strip()
    from bench.dedup import SyntheticCorpus, as_documents

    docs = as_documents(SyntheticCorpus(2).range(0, args.batch), "probe")
    t = time.perf_counter()
    commit_batch(writer, Batch(run_id="probe", documents=docs), DedupSettings())
    commit = time.perf_counter() - t
    t = time.perf_counter()
    publish(published)
    after = time.perf_counter() - t
    reader.stdin.close()
    reader.wait(timeout=60)
    print(
        f"with a reader holding the published file ({held} paragraphs): one {args.batch:,}-paragraph commit "
        f"{commit:.2f} s, then its publish {after:.2f} s ({after / (commit + after):.0%} of the run's write time)"
    )
    print(f"published file {published.stat().st_size / 1e6:,.0f} MB, mode {oct(os.stat(published).st_mode & 0o777)}")
    changed_blocks(published, writer, args.batch)


def changed_blocks(published: Path, writer: Path, batch: int, block: int = 262_144) -> None:
    """The alternative measured: patching an unused older snapshot in place with only the blocks a run changed
    (DuckDB's 256 KB blocks). How many blocks one more commit changes, and what finding them costs."""
    from bench.dedup import SyntheticCorpus, as_documents

    docs = as_documents(SyntheticCorpus(3).range(0, batch), "probe2")
    commit_batch(writer, Batch(run_id="probe2", documents=docs), DedupSettings())
    from wirecopy.warehouse.db import session

    with session(writer, read_only=False) as con:
        con.execute("CHECKPOINT warehouse")
    t = time.perf_counter()
    changed = total = 0
    with open(writer, "rb") as new, open(published, "rb") as old:
        while True:
            a, b = new.read(block), old.read(block)
            if not a:
                break
            total += 1
            changed += a != b
    seconds = time.perf_counter() - t
    print(
        f"one more {batch:,}-paragraph commit changes {changed:,} of {total:,} blocks "
        f"({changed * block / 1e6:,.0f} MB, {changed / total:.0%}); reading and comparing both files {seconds:.2f} s"
    )


if __name__ == "__main__":
    main()
