"""Compute engines end to end: worker processes (local) and a real Dask LocalCluster of two process workers give
the warehouse of a single in-process batch, link for link; a re-ingest skips stored documents without workers."""

from __future__ import annotations

import gc
import json
import random
import shutil
import tempfile
from pathlib import Path

import duckdb
import pytest
from wirecopy.deployments.served import wait_until
from wirecopy.flows import ahead
from wirecopy.flows.ingest import ingest
from wirecopy.flows.prepared import prepare_ahead

from tests.linkcheck import dedup_state, table_counts
from wirecopy import process_memory

WORDS = [f"w{i:03d}" for i in range(400)]
SMALL_BATCHES = 30_000  # bytes: the corpus below (~200 KB) makes several batches and cuts its JSONL file


def _corpus(root: Path, seeds_dir: Path) -> Path:
    """The seeds plus a JSONL file of 240 articles from 6 outlets, a third republishing an earlier one with edits."""
    rng = random.Random(12)
    shutil.copytree(seeds_dir, root / "seeds")
    articles: list[list[str]] = []
    lines = []
    for number in range(240):
        if articles and number % 3 == 0:
            paragraphs = list(rng.choice(articles))
            edited = rng.randrange(len(paragraphs))
            words = paragraphs[edited].split()
            words[rng.randrange(len(words))] = rng.choice(WORDS)
            paragraphs[edited] = " ".join(words)
        else:
            paragraphs = [" ".join(rng.choices(WORDS, k=rng.randint(12, 40))) + "." for _ in range(rng.randint(3, 8))]
        articles.append(paragraphs)
        record = {
            "outlet": f"outlet{number % 6}",
            "published_at": f"2024-01-{1 + number % 28:02d}T{number % 24:02d}:00:00Z",
            "text": "\n".join(["[ad_1]", *paragraphs]),
        }
        lines.append(json.dumps(record))
    (root / "wire.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return root


@pytest.fixture(scope="module")
def corpus(tmp_path_factory, seeds_dir: Path) -> Path:
    return _corpus(tmp_path_factory.mktemp("engines"), seeds_dir)


@pytest.fixture(scope="module")
def reference(prefect_harness, corpus: Path, tmp_path_factory) -> Path:
    """The corpus in one batch, prepared in the flow's own process (however large: no worker)."""
    from wirecopy.flows import prepared

    db = tmp_path_factory.mktemp("reference") / "warehouse.duckdb"
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(prepared, "IN_PROCESS_MAX_BYTES", 10_000_000)
        summary = ingest(sources=[str(corpus)], db=str(db), batch_bytes=10_000_000)
    assert summary.documents_new == 245 and "wait" not in summary.stage_seconds
    assert summary.duplicates.get("exact", 0) > 0 and summary.duplicates.get("near", 0) > 0
    return db


def _same_warehouse(db: Path, reference: Path) -> None:
    assert dedup_state(db) == dedup_state(reference)
    counts, expected = table_counts(db), table_counts(reference)
    counts.pop("ingest_runs"), expected.pop("ingest_runs")
    assert counts == expected


def _batches_of_last_run(db: Path) -> int:
    """Commits to a fresh warehouse (fewer than 16: none of them merged row groups, so the counter is theirs)."""
    with duckdb.connect(str(db), read_only=True) as con:
        (commits,) = con.execute("SELECT commits_since FROM row_group_merges").fetchone()
    return commits


@pytest.mark.parametrize("engine", ["local", "dask"])
def test_two_workers_give_the_reference_warehouse_link_for_link(
    prefect_harness, corpus: Path, reference: Path, tmp_path: Path, engine: str
) -> None:
    db = tmp_path / f"{engine}.duckdb"
    spools = tmp_path / "tmp"
    spools.mkdir()
    with pytest.MonkeyPatch.context() as patch:  # the workers (both engines: local ones) hand batches back as files
        patch.setattr(tempfile, "tempdir", str(spools))
        summary = ingest(sources=[str(corpus)], db=str(db), batch_bytes=SMALL_BATCHES, engine=engine, workers=2)
    assert summary.documents_new == 245 and summary.errors == 0
    assert "wait" in summary.stage_seconds  # the batches were prepared by the workers
    assert _batches_of_last_run(db) >= 5
    _same_warehouse(db, reference)
    assert not list(spools.glob("wirecopy-batches-*"))  # the spool directory went with the run


def test_one_batch_goes_to_a_worker_unless_it_is_small(prefect_harness, corpus: Path, reference: Path, tmp_path):
    """A run of one batch larger than `prepared.IN_PROCESS_MAX_BYTES` is cleaned by the local engine's worker (the
    flow's process imports and writes meanwhile); a small one, like the seeds, in the flow's process, and on Dask
    any single batch (a cluster would take seconds to start)."""
    from wirecopy.flows import prepared

    whole = ingest(sources=[str(corpus)], db=str(tmp_path / "one.duckdb"), batch_bytes=10_000_000)
    assert sum(f.stat().st_size for f in corpus.rglob("*") if f.is_file()) > prepared.IN_PROCESS_MAX_BYTES
    assert (
        whole.documents_new == 245
        and "wait" in whole.stage_seconds
        and _batches_of_last_run(tmp_path / "one.duckdb") == 1
    )
    _same_warehouse(tmp_path / "one.duckdb", reference)
    again = ingest(sources=[str(corpus)], db=str(tmp_path / "one.duckdb"), batch_bytes=10_000_000)
    assert again.documents_seen == 245 and "wait" not in again.stage_seconds  # all stored: read here, no worker
    seeds = ingest(sources=[str(corpus / "seeds")], db=str(tmp_path / "seeds.duckdb"), batch_bytes=10_000_000)
    assert seeds.documents_new == 5 and "wait" not in seeds.stage_seconds
    on_dask = ingest(sources=[str(corpus)], db=str(tmp_path / "dask.duckdb"), batch_bytes=10_000_000, engine="dask")
    assert on_dask.documents_new == 245 and "wait" not in on_dask.stage_seconds  # no cluster for one batch
    _same_warehouse(tmp_path / "dask.duckdb", reference)


def test_reingest_skips_stored_documents_before_cleaning_and_hands_no_batch_to_a_worker(
    prefect_harness, corpus: Path, reference: Path, tmp_path: Path
) -> None:
    db = tmp_path / "twice.duckdb"
    ingest(sources=[str(corpus)], db=str(db), batch_bytes=SMALL_BATCHES, workers=2)
    again = ingest(sources=[str(corpus)], db=str(db), batch_bytes=SMALL_BATCHES, workers=2)
    assert again.documents_new == 0 and again.documents_seen == 245 and again.paragraphs == 0
    assert "wait" not in again.stage_seconds
    assert again.stage_seconds["transform"] < again.stage_seconds["extract"] + 1.0
    _same_warehouse(db, reference)


def test_one_large_jsonl_file_is_cut_into_batches(prefect_harness, corpus: Path, reference: Path, tmp_path: Path):
    db = tmp_path / "cut.duckdb"
    summary = ingest(sources=[str(corpus / "wire.jsonl")], db=str(db), batch_bytes=SMALL_BATCHES, workers=2)
    assert summary.documents_new == 240
    assert _batches_of_last_run(db) >= 5
    with duckdb.connect(str(db), read_only=True) as con:
        uris = [r[0] for r in con.execute("SELECT source_uri FROM raw_documents ORDER BY source_uri").fetchall()]
    assert sorted(int(uri.rsplit("#L", 1)[1]) for uri in uris) == list(range(1, 241))  # file line numbers kept


def test_batches_prepared_ahead_of_the_run_give_the_reference_warehouse(
    prefect_harness, corpus: Path, reference: Path, tmp_path: Path, monkeypatch
) -> None:
    """What `wirecopy ingest` prepares while its temporary Prefect server starts (`prepare_ahead`, here without a
    server) is claimed by the run with the same plan: the warehouse is the reference's, link for link."""
    monkeypatch.setenv("WIRECOPY_BATCH_BYTES", str(SMALL_BATCHES))
    db = tmp_path / "ahead.duckdb"
    handed = prepare_ahead([str(corpus)], db=str(db), workers=2)
    assert handed is not None
    wait_until(lambda: handed.pulled >= 2, 120, what="two batches prepared ahead")
    summary = ingest(sources=[str(corpus)], db=str(db), workers=2)
    assert summary.documents_new == 245 and summary.errors == 0
    assert summary.stage_seconds["ahead"] > 0 and "wait" in summary.stage_seconds
    assert _batches_of_last_run(db) >= 5
    _same_warehouse(db, reference)


def test_work_prepared_ahead_for_other_inputs_is_discarded(
    prefect_harness, corpus: Path, reference: Path, tmp_path: Path, monkeypatch
) -> None:
    """A file added between the work ahead and the run changes the run's plan: the run prepares everything
    itself, and the work ahead is stopped."""
    monkeypatch.setenv("WIRECOPY_BATCH_BYTES", str(SMALL_BATCHES))
    inputs = tmp_path / "inputs"
    shutil.copytree(corpus / "seeds", inputs / "seeds")
    handed = prepare_ahead([str(inputs)], db=str(tmp_path / "other.duckdb"), workers=2)
    assert handed is not None
    wait_until(lambda: handed.pulled >= 1, 120, what="a batch prepared ahead (the plan made)")
    shutil.copy(corpus / "wire.jsonl", inputs / "wire.jsonl")
    summary = ingest(sources=[str(inputs)], db=str(tmp_path / "other.duckdb"), workers=2)
    assert summary.documents_new == 245 and "ahead" not in summary.stage_seconds
    assert not handed._thread.is_alive() and ahead.claim(handed.key) is None
    _same_warehouse(tmp_path / "other.duckdb", reference)


def test_a_record_repeated_in_one_batch_is_stored_once(prefect_harness, tmp_path: Path) -> None:
    """A scraper that writes the same record twice: the second copy counts as already stored, the run goes on."""
    record = json.dumps({"outlet": "outlet1", "url": "https://outlet1.example/1", "text": "\n".join(WORDS[:40])})
    other = json.dumps({"outlet": "outlet2", "url": "https://outlet2.example/1", "text": " ".join(WORDS[40:80])})
    source = tmp_path / "repeated.jsonl"
    source.write_text("\n".join([record, other, record]) + "\n", encoding="utf-8")
    db = tmp_path / "repeated.duckdb"
    summary = ingest(sources=[str(source)], db=str(db))
    assert (summary.documents_new, summary.documents_seen, summary.errors) == (2, 1, 0)
    with duckdb.connect(str(db), read_only=True) as con:
        assert con.execute("SELECT count(*), count(DISTINCT paragraph_id) FROM paragraphs").fetchone() == (41, 41)


def _arrow_memory_pool() -> str:
    import pyarrow as pa

    return pa.default_memory_pool().backend_name


def test_local_workers_return_freed_memory_like_the_writer() -> None:
    """The local engine's workers allocate through the C library with fixed thresholds (wirecopy/process_memory.py),
    not pyarrow's own pool, which keeps what a batch freed."""
    from wirecopy.flows.engines import local_pool

    with local_pool(1) as pool:
        assert pool.submit(_arrow_memory_pool).result(timeout=120) == "system"
        assert pool.submit(gc.get_threshold).result(timeout=120) == process_memory.BATCH_GC_THRESHOLDS


_OWNER = """
import os, sys, time
from wirecopy.flows.engines import local_pool
pool = local_pool(1)
print(pool.submit(os.getpid).result(timeout=120), flush=True)
time.sleep(600)  # killed by the test
"""


def test_a_local_worker_exits_when_the_process_that_started_it_dies() -> None:
    """Killed outright (SIGKILL, a server stopped by its pid mid-run), the pool's owner cannot shut its workers
    down: they notice they were handed to another parent and exit instead of living on."""
    import signal
    import subprocess
    import sys
    import time

    from tests.reliability import alive

    owner = subprocess.Popen([sys.executable, "-c", _OWNER], stdout=subprocess.PIPE, text=True)
    try:
        worker = int(owner.stdout.readline())
        assert alive(worker)
    finally:
        owner.send_signal(signal.SIGKILL)
        owner.wait(timeout=60)
    deadline = time.monotonic() + 60
    while alive(worker) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not alive(worker)


def test_the_run_leaves_its_starting_heap_out_of_collections_and_puts_it_back(
    prefect_harness, corpus: Path, tmp_path: Path, monkeypatch
) -> None:
    """While the writer commits batches, what the process held when the run started is frozen (the collector
    skips it); after the run nothing is (a served deployment's process goes on)."""
    from wirecopy.flows import ingest as ingest_module

    frozen: list[int] = []
    commit = ingest_module.commit_batch

    def spied(*args, **kwargs):
        frozen.append(gc.get_freeze_count())
        return commit(*args, **kwargs)

    monkeypatch.setattr(ingest_module, "commit_batch", spied)
    assert gc.get_freeze_count() == 0
    summary = ingest(sources=[str(corpus / "seeds")], db=str(tmp_path / "gc.duckdb"))
    assert summary.documents_new == 5 and len(frozen) == 1 and frozen[0] > 10_000
    assert gc.get_freeze_count() == 0 and gc.get_threshold() != process_memory.BATCH_GC_THRESHOLDS


def test_the_local_engine_gives_each_batch_as_prepared_in_process(corpus: Path, tmp_path: Path) -> None:
    """`prepared_batches` over the local engine's pool (no flow run, as the work ahead runs it): every batch in
    plan order, equal to the same batch prepared in this process, and the stages it waited recorded."""
    import numpy as np
    from wirecopy.connectors.sources import plan_files
    from wirecopy.flows.prepared import LocalEngine, prepare_arguments, prepared_batches

    from wirecopy.config import load_settings
    from wirecopy.pipeline import plan_batches, prepare_arrow

    settings = load_settings(db=tmp_path / "unused.duckdb")
    planned, _ = plan_files([str(corpus)])
    refs = plan_batches(planned, SMALL_BATCHES, settings.batch_files)
    stored = np.empty(0, dtype="S16")
    arguments = prepare_arguments(stored, settings, None)
    stages: dict[str, float] = {}
    got = list(prepared_batches(refs, stored, settings, stages, None, LocalEngine(2, arguments)))
    expected = [prepare_arrow(ref, **arguments) for ref in refs]
    assert len(refs) >= 5 and len(got) == len(refs)
    for batch, same in zip(got, expected, strict=True):
        assert {k: v for k, v in batch.items() if k != "header"} == {k: v for k, v in same.items() if k != "header"}
    assert "wait" in stages


def test_the_work_ahead_imports_no_prefect() -> None:
    """`wirecopy ingest` starts the work ahead before it imports Prefect (≈ 1 s): the module must not pull it in."""
    import subprocess
    import sys

    probe = "import sys, wirecopy.flows.prepared; print(sorted(m for m in sys.modules if m.split('.')[0] == 'prefect'))"
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"


def test_a_warmed_worker_no_batch_needed_is_stopped_with_the_batches(corpus: Path, tmp_path: Path) -> None:
    """The local engine starts its workers (`warm`) before the first batch is read; when every batch turns out
    stored (a re-ingest), none is handed to them, and they exit when the batches end."""
    import multiprocessing

    import numpy as np
    from wirecopy.connectors.files import SourceLimits
    from wirecopy.connectors.sources import plan_files
    from wirecopy.flows.prepared import LocalEngine, prepare_arguments, prepared_batches

    from wirecopy.config import load_settings
    from wirecopy.pipeline import plan_batches, prepared_header, read_fresh

    settings = load_settings(db=tmp_path / "unused.duckdb")
    planned, _ = plan_files([str(corpus)])
    refs = plan_batches(planned, SMALL_BATCHES, settings.batch_files)
    limits = SourceLimits(max_bytes=settings.max_file_bytes)
    keys = [bytes.fromhex(raw.source_key) for ref in refs for raw in read_fresh(ref, np.empty(0, "S16"), limits).raws]
    stored = np.sort(np.array(keys, dtype="S16"))  # every document of the corpus, read from these places
    before = set(multiprocessing.active_children())  # workers of earlier tests may still be exiting

    def started() -> set:
        return set(multiprocessing.active_children()) - before

    engine = LocalEngine(1, prepare_arguments(stored, settings, None))
    batches = prepared_batches(refs, stored, settings, {}, None, engine)
    first = next(batches)
    assert len(started()) == 1  # warmed while the first batch was read here
    headers = [prepared_header(first)] + [prepared_header(batch) for batch in batches]
    assert len(headers) == len(refs) and all(h["documents"] == 0 and h["skipped"] > 0 for h in headers)
    wait_until(lambda: not started(), timeout=60, what="the warmed worker to exit")
