"""Reliability: SIGKILL at several points of a real `wirecopy ingest`, then a rerun, gives exactly what a clean
run gives; a reprocess killed midway leaves the warehouse as it was; three ingests at once, with a query loop
and an external reader holding the published file open throughout, equal the same ingests one after another.
Kill points are states (a run's lock file, the n-th commit, a publish in progress), not times."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from pathlib import Path

import duckdb
import pytest
from wirecopy.flows.ingest import ingest
from wirecopy.warehouse.lsh_store import store_directory
from wirecopy.warehouse.reprocess import rebuild_path
from wirecopy.warehouse.snapshot import publish, writer_directory, writer_path

from tests.linkcheck import dedup_state, table_counts
from tests.reliability import (
    WIRECOPY,
    descendants,
    env_without_wirecopy,
    kill_all,
    rows,
    run_lock_files,
    start_ingest,
    wait_for_commits,
    wait_until,
    write_corpus,
)

DOCUMENTS = 96
BATCH_FILES = 8


@pytest.fixture(scope="module")
def api(prefect_harness) -> str:
    from prefect.settings import PREFECT_API_URL

    return PREFECT_API_URL.value()


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> Path:
    return write_corpus(tmp_path_factory.mktemp("kills") / "corpus", DOCUMENTS)


@pytest.fixture(scope="module")
def clean(corpus: Path, tmp_path_factory) -> Path:
    db = tmp_path_factory.mktemp("clean") / "warehouse.duckdb"
    ingest(sources=[str(corpus)], db=str(db), batch_files=BATCH_FILES)
    return db


def _env(api: str) -> dict[str, str]:
    return env_without_wirecopy(PREFECT_API_URL=api, WIRECOPY_BATCH_FILES=str(BATCH_FILES))


def _content(db: Path) -> tuple[dict, set]:
    counts = table_counts(db)
    for table in ("ingest_runs", "schema_migrations", "row_group_merges"):
        counts.pop(table, None)
    return counts, dedup_state(db)


def _kill_at(process: subprocess.Popen, db: Path, point: str) -> None:
    if point == "started":
        wait_until(lambda: run_lock_files(db) or process.poll() is not None, 120, what="the run's lock file")
    elif point.startswith("commit-"):
        wait_for_commits(db, int(point.split("-")[1]), process)
    elif point == "publishing":
        tmp = writer_directory(db) / "publish.tmp"
        wait_until(lambda: tmp.exists() or process.poll() is not None, 180, interval=0.0005, what="a publish")
    family = descendants(process.pid)
    process.kill()
    process.wait(timeout=30)
    kill_all(family)


@pytest.mark.parametrize("point", ["started", "commit-1", "commit-3", "commit-6", "publishing"])
def test_sigkill_then_rerun_equals_a_clean_run(api: str, corpus: Path, clean: Path, tmp_path: Path, point: str):
    db = tmp_path / "warehouse.duckdb"
    process = start_ingest([str(corpus)], db, _env(api))
    try:
        _kill_at(process, db, point)
    finally:
        kill_all(descendants(process.pid) | {process.pid})
    killed_early = process.returncode == -9
    rerun = subprocess.run([WIRECOPY, "ingest", str(corpus), "--db", str(db), "--json"], env=_env(api),
                           capture_output=True, text=True, timeout=600)  # fmt: skip
    assert rerun.returncode == 0, rerun.stderr
    assert _content(db) == _content(clean)
    statuses = [r[0] for r in rows(db, "SELECT status FROM ingest_runs ORDER BY started_at")]
    if point == "started":  # the kill may land before the run wrote its row (then it committed nothing either)
        assert statuses in (["interrupted", "completed"], ["completed"]), statuses
    elif killed_early and point != "publishing":
        assert statuses == ["interrupted", "completed"], statuses
    else:  # the kill may land after the run recorded its end (during or after the publish)
        assert statuses in (["interrupted", "completed"], ["completed", "completed"]), statuses
    orphans = rows(db, "SELECT count(*) FROM documents WHERE run_id NOT IN (SELECT run_id FROM ingest_runs)")
    assert orphans == [(0,)]
    assert run_lock_files(db) == []
    reasons = rows(db, "SELECT error FROM ingest_runs WHERE status = 'interrupted'")
    assert all(reason.startswith("its process ended without recording the run's end") for (reason,) in reasons)


def test_a_publish_cut_short_leaves_the_published_file_whole(api: str, corpus: Path, tmp_path: Path) -> None:
    """A crash between the copy and the rename leaves a partial temporary file: readers never see it, the
    next publish replaces it."""
    db = tmp_path / "warehouse.duckdb"
    ingest(sources=[str(corpus)], db=str(db), batch_files=BATCH_FILES)
    before = _content(db)
    partial = writer_directory(db) / "publish.tmp"
    partial.write_bytes(writer_path(db).read_bytes()[: 1 << 16])  # what a killed copy leaves
    assert _content(db) == before
    assert publish(db) is not None and not partial.exists()
    assert _content(db) == before


def test_reprocess_killed_midway_leaves_the_warehouse_as_it_was(api: str, corpus: Path, tmp_path: Path) -> None:
    db = tmp_path / "warehouse.duckdb"
    ingest(sources=[str(corpus)], db=str(db), batch_files=BATCH_FILES)
    before = _content(db)
    writer = writer_path(db)
    env = _env(api) | {"WIRECOPY_LOCK_WAIT_SECONDS": "60"}
    process = subprocess.Popen([WIRECOPY, "reprocess", "--db", str(db)], env=env, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True)  # fmt: skip
    manifest = store_directory(rebuild_path(writer)) / "manifest.json"
    try:
        wait_until(lambda: manifest.exists() or process.poll() is not None, 180, interval=0.002,
                   what="the rebuild's first committed page")  # fmt: skip
        assert process.poll() is None, process.stderr.read()
        process.kill()
        process.wait(timeout=30)
    finally:
        kill_all(descendants(process.pid) | {process.pid})
    assert rebuild_path(writer).exists()  # cut short midway
    assert _content(db) == before  # readers: the published file is untouched
    assert _content(writer) == before  # the writer's file too
    again = subprocess.run([WIRECOPY, "reprocess", "--db", str(db)], env=env, capture_output=True, text=True,
                           timeout=600)  # fmt: skip
    assert again.returncode == 0, again.stderr
    assert f"reprocessed {DOCUMENTS} raw documents" in again.stdout
    assert _content(db) == before and not rebuild_path(writer).exists()


READER = """
import duckdb, json, sys
con = duckdb.connect(sys.argv[1], read_only=True)
print(json.dumps(con.execute("SELECT count(*) FROM documents").fetchone()[0]), flush=True)
for line in sys.stdin:
    print(json.dumps(con.execute("SELECT count(*) FROM documents").fetchone()[0]), flush=True)
"""
SNAPSHOT = (
    "SELECT (SELECT count(*) FROM documents) AS documents, (SELECT count(*) FROM paragraphs) AS paragraphs, "
    "(SELECT coalesce(sum(paragraph_count), 0) FROM documents) AS announced"
)


def test_three_ingests_a_query_loop_and_an_external_reader(api: str, tmp_path: Path) -> None:
    parts = [write_corpus(tmp_path / f"part{i}", 40, start=40 * i) for i in range(3)]  # copies across parts too
    seed = tmp_path / "seed.txt"
    seed.write_text("A first article, published before the external reader opens the warehouse.", "utf-8")
    reference = tmp_path / "sequential.duckdb"
    for source in (seed, *parts):
        ingest(sources=[str(source)], db=str(reference), batch_files=BATCH_FILES)

    db = tmp_path / "shared.duckdb"
    ingest(sources=[str(seed)], db=str(db))  # published before the reader opens it
    reader = subprocess.Popen([sys.executable, "-c", READER, str(db)], stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, text=True)  # fmt: skip
    seen_by_reader = [json.loads(reader.stdout.readline())]
    observations: list[dict] = []
    failures: list[str] = []
    stop = threading.Event()

    def query_loop() -> None:
        while not stop.is_set():
            done = subprocess.run([WIRECOPY, "sql", SNAPSHOT, "--db", str(db), "--format", "json"],
                                  capture_output=True, text=True, timeout=120)  # fmt: skip
            if done.returncode == 0:
                observations.extend(json.loads(done.stdout))
            else:
                failures.append(done.stderr)

    loop = threading.Thread(target=query_loop)
    loop.start()
    try:
        ingests = [start_ingest([str(part)], db, _env(api)) for part in parts]
        outputs = [process.communicate(timeout=600) for process in ingests]
        reader.stdin.write("again\n")
        reader.stdin.flush()
        seen_by_reader.append(json.loads(reader.stdout.readline()))
    finally:
        stop.set()
        loop.join(timeout=180)
        reader.kill()
        reader.wait(timeout=30)
        for process in locals().get("ingests", []):
            kill_all(descendants(process.pid) | {process.pid})
    assert [p.returncode for p in ingests] == [0, 0, 0], outputs
    assert not failures, failures[:3]
    assert seen_by_reader == [1, 1]  # the reader's connection kept its snapshot through three ingests
    counts = table_counts(db)
    expected = table_counts(reference)
    assert counts.pop("ingest_runs") == expected.pop("ingest_runs") == 4
    assert counts == expected
    assert dedup_state(db) == dedup_state(reference)
    assert observations and all(o["paragraphs"] == o["announced"] for o in observations), observations[:3]
    assert max(o["documents"] for o in observations) <= counts["documents"]
    with duckdb.connect(str(db), read_only=True) as con:
        assert con.execute("SELECT count(*) FROM documents").fetchone()[0] == counts["documents"]
    assert oct(os.stat(db).st_mode & 0o777) == "0o600"
