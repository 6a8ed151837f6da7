"""Ctrl-C and SIGTERM stop a real `wirecopy ingest` at any stage: the flow stops, its run is recorded as
`interrupted`, the writer lock is released and the temporary Prefect server the command started is gone.
Every wait is on a state (a lock file, a commit, a process exit), never on the clock alone."""

from __future__ import annotations

import json
import signal
import subprocess
from pathlib import Path

import duckdb
import pytest
from filelock import FileLock
from wirecopy.warehouse.snapshot import writer_path

from tests.reliability import (
    WIRECOPY,
    alive,
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


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> Path:
    return write_corpus(tmp_path_factory.mktemp("signals") / "corpus", 240)


def _env(tmp_path: Path) -> dict[str, str]:
    # no PREFECT_API_URL: each command starts its own temporary Prefect server, which must not outlive it
    env = {k: v for k, v in env_without_wirecopy().items() if k != "PREFECT_API_URL"}
    return env | {"PREFECT_HOME": str(tmp_path / ".prefect"), "WIRECOPY_BATCH_FILES": "8"}


def _stop_and_check(process: subprocess.Popen, signum: int, db: Path) -> None:
    family = descendants(process.pid)
    assert family, "the command should have started a temporary Prefect server"
    process.send_signal(signum)
    try:
        stdout, stderr = process.communicate(timeout=90)
    except subprocess.TimeoutExpired:
        kill_all(descendants(process.pid) | {process.pid})
        raise
    try:
        assert process.returncode == 1, stderr
        assert "interrupted" in stderr, stderr
        assert "Traceback" not in stderr, stderr
        if "--json" in process.args:  # what a script reads on stdout says the same
            assert json.loads(stdout)["status"] == "interrupted", stdout
        wait_until(lambda: not any(alive(pid) for pid in family), 30, what="the command's child processes gone")
    finally:
        kill_all({pid for pid in family if alive(pid)})
    writer = writer_path(db)
    FileLock(f"{writer}.lock").acquire(timeout=0)  # released
    assert run_lock_files(db) == []
    statuses = rows(writer, "SELECT status, error FROM ingest_runs")
    assert statuses == [("interrupted", "stopped by Ctrl-C or SIGTERM")], statuses


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_signal_during_loading_stops_flow_lock_and_server(corpus: Path, tmp_path: Path, signum: int) -> None:
    db = tmp_path / "warehouse.duckdb"
    process = start_ingest([str(corpus)], db, _env(tmp_path), "--json")
    try:
        wait_for_commits(db, 2, process)
    except BaseException:
        kill_all(descendants(process.pid) | {process.pid})
        raise
    _stop_and_check(process, signum, db)
    documents = rows(writer_path(db), "SELECT count(*) FROM documents")[0][0]
    assert 0 < documents < 240  # what was committed stays; the rest comes with the next run


def test_sigterm_while_waiting_for_the_writer_lock(corpus: Path, tmp_path: Path) -> None:
    """Another writer holds the lock: the waiting ingest still stops at once on SIGTERM."""
    db = tmp_path / "warehouse.duckdb"
    writer = writer_path(db)
    writer.parent.mkdir(parents=True)
    held = FileLock(f"{writer}.lock")
    held.acquire()
    try:
        process = start_ingest([str(corpus)], db, _env(tmp_path))
        try:
            wait_until(lambda: _running(writer) or process.poll() is not None, 120, what="the run's row written")
            assert process.poll() is None, process.stderr.read()
        except BaseException:
            kill_all(descendants(process.pid) | {process.pid})
            raise
        family = descendants(process.pid)
        process.send_signal(signal.SIGTERM)
        try:
            _, stderr = process.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            kill_all(descendants(process.pid) | {process.pid})
            raise AssertionError("SIGTERM ignored while waiting for the writer lock") from None
        assert process.returncode == 1 and "interrupted" in stderr, stderr
        wait_until(lambda: not any(alive(pid) for pid in family), 30, what="the command's child processes gone")
    finally:
        held.release()
    assert rows(writer, "SELECT status FROM ingest_runs") == [("interrupted",)]


def _running(writer: Path) -> bool:
    """Whether the writer's file has a `running` row (False while it is missing or open read-write)."""
    try:
        return rows(writer, "SELECT count(*) FROM ingest_runs WHERE status = 'running'") == [(1,)]
    except duckdb.Error:
        return False


def test_a_killed_run_is_marked_interrupted_by_the_next(corpus: Path, tmp_path: Path) -> None:
    """SIGKILL leaves a `running` row; the next run marks it `interrupted` with what its batches stored."""
    db = tmp_path / "warehouse.duckdb"
    env = _env(tmp_path)
    process = start_ingest([str(corpus)], db, env)
    family: set[int] = set()
    try:
        wait_for_commits(db, 2, process)
        family = descendants(process.pid)
        process.kill()
        process.wait(timeout=30)
    finally:
        kill_all(descendants(process.pid) | family)
    writer = writer_path(db)
    assert rows(writer, "SELECT status FROM ingest_runs") == [("running",)]
    small = tmp_path / "one.txt"
    small.write_text("A single short article about the harbour, written for the next run to carry.", "utf-8")
    done = subprocess.run(
        [WIRECOPY, "ingest", str(small), "--db", str(db)],
        env=env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    runs = rows(db, "SELECT status, documents_new, paragraphs_new FROM ingest_runs ORDER BY started_at")
    assert [r[0] for r in runs] == ["interrupted", "completed"]
    stored = rows(db, "SELECT count(*) FROM documents WHERE run_id = (SELECT run_id FROM ingest_runs "
                      "WHERE status = 'interrupted')")[0][0]  # fmt: skip
    assert runs[0][1] == stored > 0
    orphans = rows(db, "SELECT count(*) FROM documents WHERE run_id NOT IN (SELECT run_id FROM ingest_runs)")
    assert orphans == [(0,)]


def test_a_run_on_its_own_temporary_server_sends_its_logs_before_the_server_stops(tmp_path: Path) -> None:
    """Prefect's log and event workers are drained while the temporary server still answers: nothing is retried
    against a stopped server at exit, nor reported lost ("Error logging to API")."""
    corpus = write_corpus(tmp_path / "corpus", 6)
    db = tmp_path / "warehouse.duckdb"
    env = _env(tmp_path) | {"PREFECT_LOGGING_LEVEL": "INFO"}  # a user's default: the flow's logs go to the API
    process = start_ingest([str(corpus)], db, env)
    try:
        _, stderr = process.communicate(timeout=300)
    finally:
        kill_all(descendants(process.pid) | {process.pid})
    assert process.returncode == 0, stderr
    assert "Error logging to API" not in stderr and "connection attempts failed" not in stderr, stderr
    assert rows(db, "SELECT status, documents_new FROM ingest_runs") == [("completed", 6)]
    # the batch was prepared while the temporary server started, and the run claimed it
    assert "ahead" in rows(db, "SELECT stage_seconds FROM ingest_runs")[0][0]
