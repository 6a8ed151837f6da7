"""Concurrency with real processes: two `wirecopy ingest` at once while `wirecopy sql` queries in a loop
lose and duplicate nothing (same tables as one sequential ingest) and readers never see half a run; a reader
holding the published file through a whole inbox run blocks nothing; `wirecopy sql` waits a bounded time for
another program holding the file read-write; an ingest waiting for another writer fails clearly and leaves the
inbox files for the next run."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import threading
from pathlib import Path

from wirecopy.deployments.served import WIRECOPY
from wirecopy.flows.inbox import inbox
from wirecopy.flows.ingest import ingest

from tests.linkcheck import dedup_state, table_counts

TREE = Path(__file__).parent / "fixtures" / "connectors" / "tree"
SNAPSHOT = (
    "SELECT (SELECT count(*) FROM documents) AS documents, (SELECT count(*) FROM paragraphs) AS paragraphs, "
    "(SELECT coalesce(sum(paragraph_count), 0) FROM documents) AS announced"
)
READ_THROUGH = (
    "import duckdb, sys; c = duckdb.connect(sys.argv[1], read_only=True)\n"
    "while True:\n"
    "    print(c.execute('SELECT count(*) FROM documents').fetchone()[0], flush=True)\n"
    "    if not sys.stdin.readline(): break\n"
)
HOLD = "import duckdb, sys, time; c = duckdb.connect(sys.argv[1], read_only=sys.argv[2] == 'ro'); " \
       "print('held', flush=True); time.sleep(float(sys.argv[3])); c.close()"  # fmt: skip


def wirecopy(*args: str, env: dict | None = None, timeout: float = 180) -> subprocess.CompletedProcess:
    return subprocess.run([WIRECOPY, *args], capture_output=True, text=True, env=env, timeout=timeout)


def hold(db: Path, mode: str, seconds: float) -> subprocess.Popen:
    """Another process holding the warehouse open (read-only `ro` or read-write `rw`) for `seconds`."""
    process = subprocess.Popen([sys.executable, "-c", HOLD, str(db), mode, str(seconds)], stdout=subprocess.PIPE)
    assert process.stdout.readline().strip() == b"held"
    return process


def test_two_ingests_at_once_with_readers_lose_and_duplicate_nothing(prefect_harness, tmp_path, seeds_dir: Path):
    reference = tmp_path / "sequential.duckdb"
    ingest(sources=[str(seeds_dir), str(TREE)], db=str(reference))

    shared = tmp_path / "concurrent.duckdb"
    observations: list[dict] = []
    failures: list[str] = []
    stop = threading.Event()

    def read_in_a_loop() -> None:
        while not stop.is_set():
            result = wirecopy("sql", SNAPSHOT, "--db", str(shared), "--format", "json", "--wait", "60")
            if result.returncode == 0:
                observations.extend(json.loads(result.stdout))
            elif "no warehouse" not in result.stderr:
                failures.append(result.stderr)

    reader = threading.Thread(target=read_in_a_loop)
    reader.start()
    try:
        ingests = [
            subprocess.Popen([WIRECOPY, "ingest", source, "--db", str(shared)], stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True)
            for source in (str(seeds_dir), str(TREE))
        ]  # fmt: skip
        outputs = [process.communicate(timeout=180) for process in ingests]
    finally:
        stop.set()
        reader.join(timeout=120)
    assert [p.returncode for p in ingests] == [0, 3], outputs  # the tree has inputs that fail (exit status 3)
    assert not failures, failures[:3]

    expected = table_counts(reference)
    got = table_counts(shared)
    assert got.pop("ingest_runs") == 2 and expected.pop("ingest_runs") == 1
    assert got == expected
    assert dedup_state(shared) == dedup_state(reference)

    seeds_only = 5
    batch_sizes = {0, seeds_only, expected["documents"] - seeds_only, expected["documents"]}
    assert observations, "the reader loop saw the warehouse at least once"
    for seen in observations:  # a reader sees whole batches only
        assert seen["documents"] in batch_sizes and seen["paragraphs"] == seen["announced"], seen


def test_sql_waits_while_another_program_holds_the_file_read_write(tmp_path: Path, seeds_dir: Path, prefect_harness):
    """wirecopy never opens the published file read-write, but another program may (the DuckDB CLI without
    -readonly): `wirecopy sql` waits a bounded time for it, then says so in one line."""
    db = tmp_path / "warehouse.duckdb"
    ingest(sources=[str(seeds_dir)], db=str(db))
    writer = hold(db, "rw", 3)
    waited = wirecopy("sql", "SELECT count(*) AS n FROM documents", "--db", str(db), "--format", "csv")
    assert waited.returncode == 0 and waited.stdout.splitlines() == ["n", "5"], waited.stderr
    assert writer.wait(timeout=30) == 0

    writer = hold(db, "rw", 20)
    try:
        busy = wirecopy("sql", "SELECT 1", "--db", str(db), "--wait", "1")
    finally:
        writer.kill()
    assert busy.returncode == 1
    assert busy.stderr.count("\n") == 1 and "held read-write by another program (waited 1s)" in busy.stderr


def test_a_reader_holding_the_warehouse_for_a_whole_inbox_run_blocks_nothing(
    tmp_path: Path, seeds_dir: Path, prefect_harness
):
    """A second process keeps a read-only connection to the published file open through a whole ingest: the
    ingest completes, the reader keeps its consistent (old) view, and a new reader sees the new one."""
    db = tmp_path / "warehouse.duckdb"
    seeds = sorted(seeds_dir.iterdir())
    ingest(sources=[str(seeds[0])], db=str(db))
    box = tmp_path / "inbox"
    box.mkdir()
    for seed in seeds[1:3]:
        shutil.copy(seed, box / seed.name)
    from prefect.settings import PREFECT_API_URL

    env = os.environ | {"PREFECT_API_URL": PREFECT_API_URL.value(), "WIRECOPY_INBOX__SETTLE_SECONDS": "0"}
    reader = subprocess.Popen(
        [sys.executable, "-c", READ_THROUGH, str(db)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    try:
        assert reader.stdout.readline().strip() == "1"  # the reader's connection is open
        done = wirecopy("inbox", "--dir", str(box), "--db", str(db), env=env, timeout=300)
        assert done.returncode == 0, done.stderr
        reader.stdin.write("again\n")
        reader.stdin.flush()
        assert reader.stdout.readline().strip() == "1"  # the same connection: the same snapshot, no error
    finally:
        reader.kill()
        reader.wait(timeout=30)
    assert table_counts(db)["documents"] == 3
    assert sorted(p.name for p in (box / ".done").rglob("*.txt")) == [s.name for s in seeds[1:3]]


def test_ingest_waiting_for_another_writer_fails_clearly_and_leaves_inbox_files(
    tmp_path: Path, seeds_dir: Path, prefect_harness, monkeypatch
):
    from filelock import FileLock
    from wirecopy.warehouse.snapshot import writer_path

    db = tmp_path / "warehouse.duckdb"
    seeds = sorted(seeds_dir.iterdir())
    ingest(sources=[str(seeds[0])], db=str(db))
    box = tmp_path / "inbox"
    box.mkdir()
    for seed in seeds[1:3]:
        shutil.copy(seed, box / seed.name)
    from prefect.settings import PREFECT_API_URL

    env = os.environ | {  # the session's Prefect API (saves starting an ephemeral one)
        "PREFECT_API_URL": PREFECT_API_URL.value(),
        "WIRECOPY_LOCK_WAIT_SECONDS": "1",
        "WIRECOPY_INBOX__SETTLE_SECONDS": "0",
    }
    other_writer = FileLock(f"{writer_path(db)}.lock")  # another ingest, stuck in its write
    other_writer.acquire()
    try:
        blocked = wirecopy("inbox", "--dir", str(box), "--db", str(db), env=env)
    finally:
        other_writer.release()
    assert blocked.returncode == 1
    assert blocked.stderr.startswith("error: ") and blocked.stderr.count("\n") == 1, blocked.stderr
    assert f"warehouse {db} is busy: another wirecopy process" in blocked.stderr.replace("\n", "")
    assert "2 inbox file(s) left for the next run" in blocked.stderr
    assert sorted(p.name for p in box.iterdir() if not p.name.startswith(".")) == [s.name for s in seeds[1:3]]
    assert not list(box.glob(".processing/*")) and not list(box.glob(".done/*"))

    monkeypatch.setenv("WIRECOPY_INBOX__SETTLE_SECONDS", "0")
    again = inbox(directory=str(box), db=str(db))  # the next run, once the reader is gone
    assert len(again.done) == 2 and table_counts(db)["documents"] == 3
