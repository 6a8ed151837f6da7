"""A 10k-paragraph batch into a full warehouse against the same batch into an empty one, through the CLI.

    .venv/bin/python bench/increment.py [--base 1000000] [--batch 10000] [--seed 1] [--repeat 3]

1. Generates (deterministically, reused when already there) the e2e corpus (bench/e2e.py's generator) of
   `--base` body paragraphs, then the next `--batch` paragraphs of the same generator as the batch: new
   articles that republish recent ones of the base, as a scheduled run would find them.
2. Ingests the base once into bench/out/increment-<base>-s<seed>/full.duckdb (kept for the next run).
3. Starts `wirecopy server` (`wirecopy.deployments.served`; the CLI runs report to it, so none pays a
   Prefect start), ingests the batch once into a scratch warehouse, not measured (the first run against a
   fresh server was 1.5–3 s slower in every earlier run of this bench, and it was always one into the full
   warehouse), then, `--repeat` times, alternately: `wirecopy ingest BATCH` into a fresh copy of the full
   warehouse and into an empty one.
   The full warehouse is first brought to where any earlier run leaves it: learned boilerplate refreshed,
   published twice, so that its publish patches the older snapshot (warehouse/snapshot.py), where the empty
   one's first publish copies.
4. Prints the median wall seconds of each (the whole CLI process) and the flow's own seconds
   (`ingest_runs.seconds`), and their ratio full / empty: the issue's target is ≤ 1.5.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from e2e import OUT, ROOT, CorpusGenerator, _last_run, run_measured, write_shards
from wirecopy.deployments.served import start_served
from wirecopy.warehouse.boilerplate import refresh_boilerplate
from wirecopy.warehouse.snapshot import publish, writer_path

from wirecopy.cleaning.learned import BoilerplateSettings


def build_split_corpus(base: int, batch: int, seed: int) -> tuple[Path, Path]:
    """The base corpus and the batch that follows it, one generator for both (reused when complete)."""
    folder = OUT / f"increment-{base}-b{batch}-s{seed}"
    manifest = folder / "corpus.json"
    base_dir, batch_dir = folder / "base", folder / "batch"
    if manifest.exists() and json.loads(manifest.read_text()).get("complete"):
        return base_dir, batch_dir
    for directory in (base_dir, batch_dir):
        shutil.rmtree(directory, ignore_errors=True)
        directory.mkdir(parents=True)
    generator = CorpusGenerator(seed)
    number, _ = write_shards(generator, base_dir, base, first_article=0)
    number, _ = write_shards(generator, batch_dir, batch, first_article=number)
    manifest.write_text(json.dumps({"base": base, "batch": batch, "seed": seed, "articles": number, "complete": True}))
    return base_dir, batch_dir


def _warehouse_files(db: Path) -> list[Path]:
    """The warehouse file and everything wirecopy keeps beside it (LSH store, writer's folder)."""
    return sorted(db.parent.glob(db.name + "*"))


def copy_warehouse(db: Path, target: Path) -> None:
    for path in _warehouse_files(db):
        destination = target.parent / (target.name + path.name[len(db.name) :])
        if path.is_dir():
            shutil.copytree(path, destination)
        else:
            shutil.copy2(path, destination)


def _ingest(corpus: Path, db: Path, env: dict[str, str], timeout: float) -> dict:
    command = [str(ROOT / ".venv" / "bin" / "wirecopy"), "ingest", str(corpus), "--db", str(db)]
    measured = run_measured(command, env, timeout=timeout)
    run = _last_run(db)
    return {"wall_seconds": round(measured.wall, 3), "flow_seconds": round(run["seconds"], 3),
            "peak_rss_mb": round(measured.peak_rss_mb), "stage_seconds": run["stage_seconds"],
            "paragraphs_new": run["paragraphs_new"],
            "links": [run["exact_links"], run["near_links"], run["containment_links"]]}  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--base", type=int, default=1_000_000, help="body paragraphs already in the warehouse")
    parser.add_argument("--batch", type=int, default=10_000, help="body paragraphs of the incoming batch")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--timeout", type=float, default=7200.0, help="seconds per child process")
    args = parser.parse_args()
    base_dir, batch_dir = build_split_corpus(args.base, args.batch, args.seed)
    full = base_dir.parent / "full.duckdb"
    result: dict = {"base": args.base, "batch": args.batch, "seed": args.seed, "load_before": os.getloadavg()[0]}
    server = start_served(OUT / "increment-server", timeout=180)  # the CLI runs below report to it
    env = server.client_env() | {"WIRECOPY_CONFIG": ""}
    try:
        if not (base_dir.parent / "full.done").exists():
            for path in _warehouse_files(full):
                shutil.rmtree(path) if path.is_dir() else path.unlink()
            result["base_ingest"] = _ingest(base_dir, full, env, args.timeout)
            (base_dir.parent / "full.done").write_text(json.dumps(result["base_ingest"]))
        # as after any earlier scheduled run: the schema and the learned boilerplate up to date, an older
        # snapshot kept for the next publish (a warehouse built by an older wirecopy gets there once)
        refresh_boilerplate(writer_path(full), BoilerplateSettings())
        publish(full)
        with tempfile.TemporaryDirectory(prefix="wirecopy-increment-", dir=OUT) as tmp:  # a warm-up, not measured
            _ingest(batch_dir, Path(tmp) / "warm-up.duckdb", env, args.timeout)
        runs: dict[str, list[dict]] = {"full": [], "empty": []}
        for _ in range(args.repeat):
            with tempfile.TemporaryDirectory(prefix="wirecopy-increment-", dir=OUT) as tmp:
                into_full = Path(tmp) / "full.duckdb"
                copy_warehouse(full, into_full)
                os.sync()  # the copy's write-back is not the ingest's cost
                runs["full"].append(_ingest(batch_dir, into_full, env, args.timeout))
                runs["empty"].append(_ingest(batch_dir, Path(tmp) / "empty.duckdb", env, args.timeout))
    finally:
        server.stop()
    result["runs"] = runs
    for measure in ("wall_seconds", "flow_seconds"):
        full_median = statistics.median(run[measure] for run in runs["full"])
        empty_median = statistics.median(run[measure] for run in runs["empty"])
        result[measure] = {"full": full_median, "empty": empty_median, "ratio": round(full_median / empty_median, 3)}
    result["load_after"] = os.getloadavg()[0]
    print(f"batch of {args.batch:,} paragraphs into a warehouse of {args.base:,} vs an empty one "
          f"(median of {args.repeat}, a running server):")  # fmt: skip
    for measure in ("wall_seconds", "flow_seconds"):
        row = result[measure]
        print(f"  {measure:<13} full {row['full']:7.2f} s   empty {row['empty']:7.2f} s   ratio {row['ratio']:.2f}")
    print(f"  new paragraphs full / empty: {runs['full'][0]['paragraphs_new']} / {runs['empty'][0]['paragraphs_new']}; "
          f"links full {runs['full'][0]['links']} / empty {runs['empty'][0]['links']}")  # fmt: skip
    print(f"  stages full: {runs['full'][0]['stage_seconds']}")
    print(f"  stages empty: {runs['empty'][0]['stage_seconds']}")
    path = OUT / f"increment-{args.base}-{datetime.now(UTC):%Y%m%dT%H%M%S}.json"
    path.write_text(json.dumps(result, indent=2, default=str))
    print(f"→ {path.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
