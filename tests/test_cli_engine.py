"""`wirecopy ingest --engine/--workers` and the `[compute]` settings reach the flow; bad values are one line."""

from __future__ import annotations

import json
import socket
from pathlib import Path

import duckdb
import pytest
from typer.testing import CliRunner
from wirecopy.flows.engines import SchedulerUnreachable, check_scheduler

from wirecopy.cli import app

runner = CliRunner()


def test_engine_and_workers_flags_reach_the_run(prefect_harness, seeds_dir: Path, tmp_path: Path) -> None:
    db = tmp_path / "w.duckdb"
    result = runner.invoke(app, ["ingest", str(seeds_dir), "--db", str(db), "--engine", "dask", "--workers", "3"])
    assert result.exit_code == 0, result.output
    with duckdb.connect(str(db), read_only=True) as con:
        (settings,) = con.execute("SELECT settings FROM ingest_runs").fetchone()
    assert json.loads(settings)["compute"] | {"address": None} == {
        "engine": "dask", "workers": 3, "address": None, "queue_batches": None,
    }  # fmt: skip


@pytest.mark.parametrize(
    ("arguments", "env", "message"),
    [
        (["--engine", "spark"], {}, "--engine must be local or dask"),
        (["--workers", "0"], {}, "--workers"),
        ([], {"WIRECOPY_COMPUTE__ENGINE": "spark"}, "compute.engine"),
        ([], {"WIRECOPY_COMPUTE__ADDRESS": "10.0.0.5:8786"}, "compute.address"),
    ],
)
def test_bad_compute_settings_are_one_line(
    seeds_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, arguments: list[str], env: dict, message: str
) -> None:
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    result = runner.invoke(app, ["ingest", str(seeds_dir), "--db", str(tmp_path / "w.duckdb"), *arguments])
    assert result.exit_code != 0
    assert message in result.output and "Traceback" not in result.output
    assert not (tmp_path / "w.duckdb").exists()


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]  # closed again when the block ends: nothing listens there


def test_check_scheduler_names_the_address_and_the_reason() -> None:
    with socket.socket() as listening:
        listening.bind(("127.0.0.1", 0))
        listening.listen()
        check_scheduler(f"tcp://127.0.0.1:{listening.getsockname()[1]}")  # something answers: no error
    address = f"tcp://127.0.0.1:{_closed_port()}"
    with pytest.raises(SchedulerUnreachable, match=f"dask scheduler {address} .*unreachable: Connection refused"):
        check_scheduler(address)
    with pytest.raises(SchedulerUnreachable, match="no host:port"):
        check_scheduler("tcp://scheduler-without-port")


def test_an_unreachable_scheduler_fails_even_a_run_of_one_batch(
    prefect_harness, seeds_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """One small batch is cleaned in the flow's process, so no worker would ever reveal a wrong address: the run
    checks it first, fails with the reason, and is recorded as failed; nothing else is written."""
    address = f"tcp://127.0.0.1:{_closed_port()}"
    monkeypatch.setenv("WIRECOPY_COMPUTE__ADDRESS", address)
    db = tmp_path / "w.duckdb"
    result = runner.invoke(app, ["ingest", str(seeds_dir / sorted(p.name for p in seeds_dir.iterdir())[0]),
                                 "--db", str(db), "--engine", "dask"])  # fmt: skip
    assert result.exit_code == 1
    assert f"SchedulerUnreachable: dask scheduler {address} (compute.address) is unreachable" in result.output
    with duckdb.connect(str(db), read_only=True) as con:
        ((status, error),) = con.execute("SELECT status, error FROM ingest_runs").fetchall()
        assert con.execute("SELECT count(*) FROM documents").fetchone() == (0,)
    assert status == "failed" and error.startswith(f"SchedulerUnreachable: dask scheduler {address} (compute")
    listed = runner.invoke(app, ["runs", "--db", str(db)], env={"COLUMNS": "200"})
    assert listed.exit_code == 0 and f": SchedulerUnreachable: dask scheduler {address}" in listed.output
