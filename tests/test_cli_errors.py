"""Bad input to the `wirecopy` CLI gets one error line naming the input (no traceback unless -v) and the exit
status of EXIT_CODES: 2 for a bad option value, 1 for a warehouse that cannot be read or a failed run. Also:
`ingest --json` in every case, valid `sql -f json`, and the outlets of a dry run counted once each."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests import warehouse_fixtures
from tests.conftest import ROOT
from wirecopy.cli import app

runner = CliRunner()
seeds_warehouse = warehouse_fixtures.seeds_warehouse
WIRECOPY = str(Path(sys.executable).with_name("wirecopy"))
HAS_PROC = Path("/proc/self").is_dir()


def _one_line_error(result, code: int, *needles: str) -> None:
    """The command exited with `code`, printed no traceback, and its output names every needle."""
    assert result.exit_code == code, result.output
    assert "Traceback" not in result.output, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    flat = " ".join(result.output.replace("│", " ").split())
    for needle in needles:
        assert needle in flat, (needle, result.output)


@pytest.fixture(scope="module")
def not_duckdb(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("bad") / "notes.duckdb"
    path.write_text("these are notes, not a database\n", encoding="utf-8")
    return path


# 1. tracebacks that became one-line errors


def test_export_out_that_is_a_file_or_cannot_be_made(seeds_warehouse: Path, tmp_path: Path) -> None:
    existing = tmp_path / "taken.txt"
    existing.write_text("x", encoding="utf-8")
    db = ["--db", str(seeds_warehouse)]
    _one_line_error(runner.invoke(app, ["export", *db, "--out", str(existing)]), 2, "--out", str(existing))
    under_file = existing / "sub"
    _one_line_error(runner.invoke(app, ["export", *db, "--out", str(under_file)]), 2, "--out", str(under_file))
    if HAS_PROC:
        _one_line_error(runner.invoke(app, ["export", *db, "--out", "/proc/nope"]), 2, "--out /proc/nope")
        assert not Path("/proc/nope").exists()


def test_report_out_that_is_a_folder_or_cannot_be_made(seeds_warehouse: Path, tmp_path: Path) -> None:
    db = ["--db", str(seeds_warehouse)]
    _one_line_error(runner.invoke(app, ["report", *db, "--out", str(tmp_path)]), 2, "--out", "is a folder")
    assert list(tmp_path.iterdir()) == []  # nothing half-written into the folder
    taken = tmp_path / "taken.txt"
    taken.write_text("x", encoding="utf-8")
    _one_line_error(runner.invoke(app, ["report", *db, "--out", str(taken / "r.html")]), 2, "--out", str(taken))
    if HAS_PROC:
        result = runner.invoke(app, ["report", *db, "--out", "/proc/nope/r.html"])
        _one_line_error(result, 2, "--out /proc/nope/r.html")
    written = runner.invoke(app, ["report", *db, "--out", str(tmp_path / "new" / "r.html")])
    assert written.exit_code == 0 and (tmp_path / "new" / "r.html").stat().st_size > 0, written.output


@pytest.mark.parametrize(
    "command",
    [
        ["stats"],
        ["runs"],
        ["runs", "-f", "json"],
        ["sql", "SELECT 1"],
        ["report", "--out", "{tmp}/r.html"],
        ["export", "--out", "{tmp}/export"],
        ["boilerplate", "list"],
        ["boilerplate", "history"],
        ["boilerplate", "refresh"],
        ["boilerplate", "drop", "some-outlet", "--hash", "1"],
    ],
)
def test_a_file_that_is_not_duckdb_is_named_in_one_line(command: list[str], not_duckdb: Path, tmp_path: Path) -> None:
    args = [part.replace("{tmp}", str(tmp_path)) for part in command]
    result = runner.invoke(app, [*args, "--db", str(not_duckdb)])
    _one_line_error(result, 1, f"error: the warehouse {not_duckdb} is not a DuckDB database file")
    assert not (tmp_path / "r.html").exists()
    assert sorted(p.name for p in not_duckdb.parent.iterdir()) == [not_duckdb.name]  # nothing made beside it


def test_a_duckdb_file_that_is_not_a_warehouse_is_one_line(tmp_path: Path) -> None:
    import duckdb

    other = tmp_path / "other.duckdb"
    duckdb.connect(str(other)).close()
    for command in (["stats"], ["runs"]):
        _one_line_error(runner.invoke(app, [*command, "--db", str(other)]), 1, f"cannot read the warehouse {other}")


# 1., 2. and 4.: bad option values are usage errors (exit 2) naming the option


@pytest.mark.parametrize(
    ("command", "named"),
    [
        (["runs", "--limit", "-1"], "--limit"),
        (["sql", "SELECT 1", "--limit", "-1"], "--limit"),
        (["boilerplate", "list", "--limit", "-1"], "--limit"),
        (["report", "--top", "-1"], "--top"),
        (["stats", "--wait", "-1"], "--wait"),
        (["sql", "SELECT 1", "-f", "xml"], "--format"),
        (["export", "--out", "{tmp}/e", "-f", "xml"], "--format"),
        (["export", "--out", "{tmp}/e", "-t", "nosuch"], "--table nosuch"),
        (["export", "--out", "{tmp}/e", "--since", "notadate"], "--since 'notadate'"),
        (["report", "--since", "notadate"], "--since 'notadate'"),
        (["report", "--since", "2024-02-01", "--until", "2024-01-01"], "--since"),
        (["boilerplate", "drop", "some-outlet"], "--hash, --paragraph or --text"),
        (["boilerplate", "keep", "--hash", "1"], "OUTLET"),
    ],
)
def test_bad_option_values_are_usage_errors(
    command: list[str], named: str, seeds_warehouse: Path, tmp_path: Path
) -> None:
    args = [part.replace("{tmp}", str(tmp_path)) for part in command]
    result = runner.invoke(app, [*args, "--db", str(seeds_warehouse)])
    _one_line_error(result, 2, named)
    assert not (tmp_path / "e").exists()


def test_sql_limit_zero_is_still_allowed(seeds_warehouse: Path) -> None:
    result = runner.invoke(app, ["sql", "SELECT 1 AS one", "--db", str(seeds_warehouse), "--limit", "0"])
    assert result.exit_code == 0 and "(1 rows, 0 shown)" in result.output, result.output


# 3. -v after the command


def _wirecopy(*args: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != "COLUMNS"} | {"WIRECOPY_CONFIG": ""}  # no config file
    return subprocess.run([WIRECOPY, *args], capture_output=True, text=True, timeout=120, env=env, cwd=ROOT)


def test_verbose_is_taken_after_the_command(not_duckdb: Path, tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text("x", encoding="utf-8")
    dry = _wirecopy("ingest", str(tmp_path), "--dry-run", "-v")
    assert dry.returncode == 0 and "1 outlets: a" in dry.stdout, dry.stderr
    quiet = _wirecopy("boilerplate", "list", "--db", str(not_duckdb))
    assert (
        quiet.returncode == 1 and quiet.stderr == f"error: the warehouse {not_duckdb} is not a DuckDB database file\n"
    )
    for args in (
        ["stats", "--db", str(not_duckdb), "-v"],
        ["boilerplate", "list", "--verbose", "--db", str(not_duckdb)],
    ):
        loud = _wirecopy(*args)
        assert loud.returncode == 1 and "Traceback" in loud.stderr and "not a valid DuckDB" in loud.stderr, args


# 5. ingest --json


def test_ingest_json_duplicates_always_has_every_method(prefect_harness, seeds_warehouse: Path, tmp_path: Path) -> None:
    db = warehouse_fixtures.copy_warehouse(seeds_warehouse, tmp_path)
    again = runner.invoke(app, ["ingest", str(ROOT / "seeds"), "--db", str(db), "--json"])
    assert again.exit_code == 0, again.output
    summary = json.loads(again.stdout)
    assert summary["documents_new"] == 0 and summary["duplicates"] == {"exact": 0, "near": 0, "containment": 0}


def test_ingest_json_on_a_failed_run(prefect_harness, tmp_path: Path) -> None:
    db = tmp_path / "w.duckdb"
    (tmp_path / "w.duckdb.writer").write_text("x", encoding="utf-8")  # a file where the run makes its folder
    result = runner.invoke(app, ["ingest", str(ROOT / "seeds"), "--db", str(db), "--json"])
    assert result.exit_code == 1 and "Traceback" not in result.output, result.output
    failure = json.loads(result.stdout)
    assert failure["status"] == "failed" and failure["warehouse"] == str(db)
    assert failure["error"].startswith("the run failed: ") and "-v" in failure["error"]


def test_ingest_json_dry_run_is_the_plan(tmp_path: Path) -> None:
    root = tmp_path / "in"
    root.mkdir()
    for name in ("empty.jsonl", "data.jsonl"):
        (root / name).write_text('{"text": "x"}\n', encoding="utf-8")
    (root / "empty.txt").write_text("x", encoding="utf-8")
    result = runner.invoke(app, ["ingest", str(root), str(tmp_path / "missing"), "--dry-run", "--json"])
    assert result.exit_code == 3, result.output  # an input that would fail: as the ingest would exit
    clean = runner.invoke(app, ["ingest", str(root), "--dry-run", "--json"])
    assert clean.exit_code == 0, clean.output
    plan = json.loads(result.stdout)
    assert plan["dry_run"] is True and plan["outlets"] == ["data", "empty"]
    rows = {Path(row["input"]).name: row for row in plan["inputs"]}
    assert rows["data.jsonl"] | {"input": None} == {
        "input": None, "kind": "jsonl", "outlet": "data", "record_outlet": True, "error": None,
    }  # fmt: skip
    assert rows["empty.txt"]["outlet"] == "empty" and rows["empty.txt"]["record_outlet"] is False
    assert (
        rows["missing"]["kind"] == "error"
        and rows["missing"]["outlet"] is None
        and "does not exist" in (rows["missing"]["error"])
    )


# 6. sql -f json is valid JSON


def test_sql_json_is_valid_for_nan_infinity_and_blobs(seeds_warehouse: Path) -> None:
    query = (
        "SELECT 'nan'::DOUBLE AS nan, '-inf'::DOUBLE AS ninf, 1.5::DOUBLE AS x, '\\xAA\\x01'::BLOB AS blob, "
        "['nan'::DOUBLE, 2.0] AS list, {'b': '\\xFF'::BLOB} AS struct, hex('\\xAA\\x01'::BLOB) AS sql_hex"
    )
    result = runner.invoke(app, ["sql", query, "--db", str(seeds_warehouse), "-f", "json"])
    assert result.exit_code == 0, result.output

    def refuse(constant: str) -> None:
        raise AssertionError(f"not JSON: {constant}")

    (row,) = json.loads(result.stdout, parse_constant=refuse)
    assert row == {
        "nan": None, "ninf": None, "x": 1.5, "blob": "AA01", "list": [None, 2.0], "struct": {"b": "FF"},
        "sql_hex": "AA01",
    }  # fmt: skip
    as_csv = runner.invoke(app, ["sql", "SELECT '\\xAA\\x01'::BLOB AS blob", "--db", str(seeds_warehouse), "-f", "csv"])
    assert as_csv.stdout == "blob\nAA01\n"
    nested = runner.invoke(app, ["sql", "SELECT ['a', 'b,c'] AS l, {'k': 1} AS s", "--db", str(seeds_warehouse),
                                 "-f", "csv"])  # fmt: skip
    (row,) = list(csv.DictReader(io.StringIO(nested.stdout)))
    assert json.loads(row["l"]) == ["a", "b,c"] and json.loads(row["s"]) == {"k": 1}  # JSON cells, as exports
    helped = " ".join(runner.invoke(app, ["sql", "--help"]).output.replace("│", " ").split())
    assert "NaN and ±Infinity are null" in helped and "upper-case hex" in helped


def test_sql_json_columns_and_intervals_come_out_as_values(seeds_warehouse: Path) -> None:
    """A JSON column is the JSON value, not a string of it; an interval is ISO 8601, in every format."""
    query = 'SELECT \'{"load": 1.5, "ok": [true]}\'::JSON AS j, INTERVAL 27 HOUR AS i, [INTERVAL 500 MILLISECOND] AS l'
    as_json = runner.invoke(app, ["sql", query, "--db", str(seeds_warehouse), "-f", "json"])
    assert as_json.exit_code == 0, as_json.output
    assert json.loads(as_json.stdout) == [{"j": {"load": 1.5, "ok": [True]}, "i": "P1DT3H", "l": ["PT0.5S"]}]
    as_csv = runner.invoke(app, ["sql", query, "--db", str(seeds_warehouse), "-f", "csv"])
    (row,) = list(csv.DictReader(io.StringIO(as_csv.stdout)))
    assert row["i"] == "P1DT3H" and json.loads(row["l"]) == ["PT0.5S"]
    as_table = runner.invoke(app, ["sql", query, "--db", str(seeds_warehouse)], env={"COLUMNS": "300"})
    assert "P1DT3H" in as_table.output and '["PT0.5S"]' in as_table.output and "timedelta" not in as_table.output


# 7. what --wait waits for


def test_wait_help_says_what_the_code_waits_for() -> None:
    for command in ("sql", "stats", "runs", "report", "export"):
        helped = " ".join(runner.invoke(app, [command, "--help"]).output.replace("│", " ").split())
        assert "another program holds the warehouse read-write; ingests never make it wait" in helped, command
        assert "while an ingest" not in helped, command


# 8. outlets of a dry run


def test_dry_run_counts_each_outlet_once(tmp_path: Path) -> None:
    root = tmp_path / "in"
    root.mkdir()
    for name in ("empty.jsonl", "data.jsonl", "binary.jsonl"):
        (root / name).write_text('{"text": "x"}\n', encoding="utf-8")
    (root / "empty.txt").write_text("x", encoding="utf-8")
    result = runner.invoke(app, ["ingest", str(root), "--dry-run"], env={"COLUMNS": "300"})
    assert result.exit_code == 0, result.output
    assert "3 outlets: binary, data, empty (JSONL records may name others)" in result.output
    assert "empty (or the record's outlet field)" in result.output  # the table still says so per file
    text_only = runner.invoke(app, ["ingest", str(root / "empty.txt"), "--dry-run"])
    assert "1 outlets: empty\n" in text_only.output


def test_a_warehouse_path_that_cannot_be_written_stops_ingest_inbox_and_server_before_any_run(tmp_path: Path) -> None:
    """A folder, a file in the way of a folder, a file that is not DuckDB, another program's DuckDB file, or an
    unwritable place: a usage error naming the warehouse and the reason, and nothing is created beside it."""
    import duckdb

    (tmp_path / "folder").mkdir()
    (tmp_path / "notes.duckdb").write_text("not a database\n", encoding="utf-8")
    with duckdb.connect(str(tmp_path / "theirs.duckdb")) as con:
        con.execute("CREATE TABLE paragraphs (x INTEGER)")
    cases = {
        "folder": "is a directory",
        "notes.duckdb/w.duckdb": "notes.duckdb is a file, not a folder",
        "notes.duckdb": "is not a DuckDB database file",
        "theirs.duckdb": "holds tables (paragraphs) but no schema_migrations: not a wirecopy warehouse",
    }
    if HAS_PROC:
        cases["/proc/w.duckdb"] = "cannot write in /proc"
    before = sorted(p.name for p in tmp_path.iterdir())
    for name, reason in cases.items():
        db = tmp_path / name
        for command in (["ingest", str(ROOT / "seeds")], ["inbox"], ["server"]):
            result = runner.invoke(app, [*command, "--db", str(db)])
            _one_line_error(result, 2, f"warehouse {db}", reason)
    assert sorted(p.name for p in tmp_path.iterdir()) == before


def test_migrations_refuse_a_duckdb_file_that_wirecopy_did_not_make(tmp_path: Path) -> None:
    import duckdb
    from wirecopy.warehouse.db import NotAWarehouse, apply_migrations

    with duckdb.connect(str(tmp_path / "theirs.duckdb")) as con:
        con.execute("CREATE TABLE sales (x INTEGER)")
        with pytest.raises(NotAWarehouse, match=r"holds tables \(sales\) but no schema_migrations"):
            apply_migrations(con)
        assert [row[0] for row in con.execute("SELECT table_name FROM duckdb_tables()").fetchall()] == ["sales"]
    from wirecopy.warehouse.snapshot import prepare_writer

    with pytest.raises(NotAWarehouse, match=r"theirs\.duckdb: the DuckDB file holds tables \(sales\)"):
        prepare_writer(tmp_path / "theirs.duckdb")  # what a run does first: nothing is copied or made beside it
    assert sorted(p.name for p in tmp_path.iterdir()) == ["theirs.duckdb"]
