"""The `wirecopy` command line, invoked in-process on real files and a real warehouse."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import duckdb
import pytest
from typer.testing import CliRunner

from wirecopy.cli import app

runner = CliRunner()


@pytest.fixture(scope="module")
def cli_db(prefect_harness, seeds_dir: Path, tmp_path_factory) -> Path:
    db = tmp_path_factory.mktemp("cli") / "warehouse.duckdb"
    result = runner.invoke(app, ["ingest", str(seeds_dir), "--db", str(db)])
    assert result.exit_code == 0, result.output
    assert "documents (new / already stored)" in result.output and "5 / 0" in result.output
    return db


@pytest.mark.parametrize("command", [[], ["ingest"], ["sql"], ["stats"], ["runs"], ["config"]])
def test_every_command_has_help(command: list[str]) -> None:
    result = runner.invoke(app, [*command, "--help"])
    assert result.exit_code == 0
    assert "Usage" in result.output


def test_missing_path_is_an_error_row_and_the_run_goes_on(prefect_harness, seeds_dir: Path, tmp_path: Path) -> None:
    missing = tmp_path / "nowhere"
    db = tmp_path / "w.duckdb"
    result = runner.invoke(app, ["ingest", str(missing), str(seeds_dir / "000_1fb43b33b6164833.txt"), "--db", str(db)])
    assert result.exit_code == 3, result.output  # some inputs failed, their error rows are written
    assert f"{missing} does not exist" in result.output and "Traceback" not in result.output
    import duckdb

    with duckdb.connect(str(db), read_only=True) as con:
        assert con.execute("SELECT count(*) FROM documents").fetchone()[0] == 1
        assert con.execute("SELECT source_uri, reason FROM ingest_errors").fetchall() == [
            (str(missing), f"{missing} does not exist")
        ]


def test_ingest_json_summary_and_exit_codes(prefect_harness, seeds_dir: Path, tmp_path: Path) -> None:
    db = tmp_path / "w.duckdb"
    first = runner.invoke(app, ["ingest", str(seeds_dir), "--db", str(db), "--json"])
    assert first.exit_code == 0, first.output
    summary = json.loads(first.stdout)
    assert summary["status"] == "completed" and summary["documents_new"] == 5 and summary["errors"] == 0
    assert summary["warehouse"] == str(db) and len(summary["run_id"]) == 32
    again = runner.invoke(app, ["ingest", str(seeds_dir), "--db", str(db), "--json"])
    assert again.exit_code == 0 and json.loads(again.stdout)["documents_seen"] == 5  # already stored: still 0
    failed = runner.invoke(app, ["ingest", "ftp://example.org/a.txt", "--db", str(db), "--json"])
    assert failed.exit_code == 3
    assert json.loads(failed.stdout)["error_messages"] == [
        "ftp://example.org/a.txt: read: ftp://example.org/a.txt: unsupported scheme ftp:// "
        "(only http and https URLs are fetched)"
    ]
    usage = runner.invoke(app, ["ingest", "--remote", "--db", str(db), "x.txt"])
    assert usage.exit_code == 2 and "--db does not go with --remote" in usage.output
    assert runner.invoke(app, ["ingest"]).exit_code == 2  # no SOURCES: click's usage error


def test_sql_csv_and_json(cli_db: Path) -> None:
    query = "select outlet, count(*) as n from paragraph_dedup group by 1 order by 1"
    as_csv = runner.invoke(app, ["sql", query, "--db", str(cli_db), "--format", "csv"])
    assert as_csv.exit_code == 0, as_csv.output
    rows = list(csv.DictReader(io.StringIO(as_csv.output)))
    assert len(rows) == 5 and all(int(r["n"]) > 0 for r in rows)
    as_json = runner.invoke(app, ["sql", query, "--db", str(cli_db), "--format", "json"])
    assert [r["outlet"] for r in json.loads(as_json.output)] == [r["outlet"] for r in rows]


def test_sql_table_shows_brackets_literally(cli_db: Path) -> None:
    result = runner.invoke(
        app, ["sql", "select text from removed_segments where text like '[ad%'", "--db", str(cli_db)]
    )
    assert result.exit_code == 0 and "[ad_1]" in result.output


def test_sql_errors_are_clear(cli_db: Path, tmp_path: Path) -> None:
    bad = runner.invoke(app, ["sql", "select nope from paragraphs", "--db", str(cli_db)])
    assert bad.exit_code != 0 and "query failed" in bad.output and "Traceback" not in bad.output
    missing = runner.invoke(app, ["sql", "select 1", "--db", str(tmp_path / "absent.duckdb")])
    assert missing.exit_code != 0 and "no warehouse" in missing.output


def test_sql_cannot_write(cli_db: Path) -> None:
    result = runner.invoke(app, ["sql", "delete from paragraphs", "--db", str(cli_db)])
    assert result.exit_code != 0 and "read-only" in result.output.lower()


def test_stats_and_runs(cli_db: Path) -> None:
    stats = runner.invoke(app, ["stats", "--db", str(cli_db)])
    assert stats.exit_code == 0 and "paragraphs" in stats.output and "exact" in stats.output
    counted = json.loads(runner.invoke(app, ["stats", "--db", str(cli_db), "-f", "json"]).stdout)
    assert sorted(counted["links"]) == ["containment", "exact", "near"]  # every method, as a run summary has
    assert {"outlet_boilerplate", "boilerplate_overrides"} <= counted["tables"].keys()
    runs = runner.invoke(app, ["runs", "--db", str(cli_db)])
    assert runs.exit_code == 0 and "compl" in runs.output  # "completed", possibly cut to the terminal width


@pytest.mark.parametrize("command", [["reprocess"], ["boilerplate"], ["boilerplate", "list"], ["inbox"], ["server"]])
def test_operational_commands_have_help(command: list[str]) -> None:
    result = runner.invoke(app, [*command, "--help"])
    assert result.exit_code == 0 and "Usage" in result.output


def test_reprocess_command_rebuilds_in_place(cli_db: Path) -> None:
    from tests.linkcheck import dedup_state

    before = dedup_state(cli_db)
    result = runner.invoke(app, ["reprocess", "--db", str(cli_db)])
    assert result.exit_code == 0, result.output
    assert "reprocessed 5 raw documents" in result.output
    assert dedup_state(cli_db) == before


def test_boilerplate_list_on_seeds_is_empty_and_clear(cli_db: Path) -> None:
    result = runner.invoke(app, ["boilerplate", "list", "--db", str(cli_db), "--format", "json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output) == []


def test_the_server_banner_names_its_api_when_other_commands_would_not_find_it(tmp_path: Path, monkeypatch) -> None:
    """`wirecopy server --port N` with N other than `server.port`: `ingest --remote` alone would look at the
    configured port, so the banner's command says where the server is."""
    from types import SimpleNamespace

    from wirecopy import cli
    from wirecopy.config import load_settings

    settings = load_settings(db=tmp_path / "w.duckdb")
    server = SimpleNamespace(url="http://127.0.0.1:4398", api_url="http://127.0.0.1:4398/api", log_path=tmp_path / "l")
    monkeypatch.setattr(cli.console, "width", 400)
    named = "PREFECT_API_URL=http://127.0.0.1:4398/api wirecopy ingest --remote FILES"
    for looked_up, names_it in ((settings.server.api_url, True), (server.api_url, False)):
        with cli.console.capture() as captured:
            cli._print_banner(settings, server, looked_up)
        text = captured.get()
        assert "wirecopy ingest --remote FILES" in text and (named in text) is names_it


def test_when_the_prefect_api_goes_away_the_outcome_is_the_warehouse_s(cli_db: Path) -> None:
    """`wirecopy server` stopped during a run: Prefect's client fails (a transport error, possibly chained), the
    run's own work went on. The command then reports what the warehouse recorded for its run id."""
    import httpx

    from wirecopy import cli
    from wirecopy.cli_ingest import api_went_away
    from wirecopy.cli_output import Failed
    from wirecopy.config import load_settings

    settings = load_settings(db=cli_db)
    with duckdb.connect(str(cli_db), read_only=True) as con:
        run_id, paragraphs, links = con.execute(
            "SELECT run_id, paragraphs_new, exact_links + near_links + containment_links FROM ingest_runs"
        ).fetchone()
    try:
        try:
            raise httpx.ConnectError("[Errno 111] Connection refused")
        except httpx.ConnectError as cause:
            raise RuntimeError("Task run is not set") from cause  # what Prefect may raise on top of it
    except RuntimeError as chained:
        lost = chained
    assert api_went_away(lost) and not api_went_away(ValueError("bad input"))

    summary = cli._outcome_without_api(lost, settings, run_id)
    assert (summary.status, summary.documents_new, summary.paragraphs) == ("completed", 5, paragraphs)
    assert sum(summary.duplicates.values()) == links
    with pytest.raises(Failed, match="not recorded: it did not start"):
        cli._outcome_without_api(lost, settings, "0" * 32)
    with pytest.raises(ValueError, match="bad input"):
        cli._outcome_without_api(ValueError("bad input"), settings, run_id)
