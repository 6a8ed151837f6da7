"""`wirecopy ingest --engine/--workers` and the `[compute]` settings reach the flow; bad values are one line."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pytest
from typer.testing import CliRunner

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
