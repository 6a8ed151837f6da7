"""`wirecopy export`: every public table round-trips (row counts and rows equal), read back by DuckDB and pyarrow,
in one file or date partitions; CSV and JSON Lines; --since; the CLI's errors."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pyarrow.dataset as ds
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from tests import warehouse_fixtures
from wirecopy.cli import app
from wirecopy.exports import TABLES, export_tables

runner = CliRunner()
seeds_warehouse = warehouse_fixtures.seeds_warehouse


def _counts(db: Path) -> dict[str, int]:
    with duckdb.connect(str(db), read_only=True) as con:
        return {name: con.execute(f"SELECT count(*) FROM {name}").fetchone()[0] for name in TABLES}


def test_every_public_table_round_trips_through_parquet(seeds_warehouse: Path, tmp_path: Path) -> None:
    result = export_tables(seeds_warehouse, tmp_path / "out")
    counts = _counts(seeds_warehouse)
    assert [t.table for t in result.tables] == list(TABLES)
    assert {t.table: t.rows for t in result.tables} == counts
    assert counts["paragraphs"] > 0 and counts["syndication"] > 0
    with duckdb.connect() as con, duckdb.connect(str(seeds_warehouse), read_only=True) as source:
        for table in result.tables:
            assert table.path == tmp_path / "out" / f"{table.table}.parquet" and not table.partitioned
            assert con.execute(f"SELECT count(*) FROM read_parquet('{table.path}')").fetchone()[0] == table.rows
            assert pq.read_table(table.path).num_rows == table.rows
            relation, _, columns = TABLES[table.table]
            stored = f"(SELECT {columns} FROM {relation})"
            assert pq.read_table(table.path).column_names == [d[0] for d in source.execute(stored).description]
            for first, second in ((stored, f"read_parquet('{table.path}')"), (f"read_parquet('{table.path}')", stored)):
                differ = f"SELECT count(*) FROM (SELECT * FROM {first} EXCEPT ALL SELECT * FROM {second})"
                assert source.execute(differ).fetchone()[0] == 0, table.table


def test_large_tables_are_written_as_date_partitions(seeds_warehouse: Path, tmp_path: Path) -> None:
    result = export_tables(seeds_warehouse, tmp_path, partition_rows=50)
    counts = _counts(seeds_warehouse)
    parted = {t.table for t in result.tables if t.partitioned}
    assert parted == {name for name, rows in counts.items() if rows > 50} and "paragraphs" in parted
    for name in parted:
        folder = tmp_path / name
        assert all(p.parent.name.startswith("date=") for p in folder.rglob("*.parquet"))
        dataset = ds.dataset(folder, format="parquet", partitioning="hive")
        assert dataset.count_rows() == counts[name]
        with duckdb.connect() as con:
            read = con.execute(f"SELECT count(*) FROM read_parquet('{folder}/**/*.parquet', hive_partitioning=true)")
            assert read.fetchone()[0] == counts[name]
    again = export_tables(seeds_warehouse, tmp_path, tables=["paragraphs"])  # back to one file: no stale folder
    assert again.tables[0].path.is_file() and not (tmp_path / "paragraphs").exists()


@pytest.mark.parametrize("fmt", ["csv", "jsonl"])
def test_csv_and_jsonl(seeds_warehouse: Path, tmp_path: Path, fmt: str) -> None:
    result = export_tables(seeds_warehouse, tmp_path, format=fmt.upper(), tables=["syndication", "paragraphs"])
    for table in result.tables:
        data = table.path.read_bytes()
        assert table.path.suffix == f".{fmt}" and b"\r\n" not in data
        lines = data.decode("utf-8").splitlines()
        if fmt == "jsonl":
            records = [json.loads(line) for line in lines]
            assert len(records) == table.rows and all(isinstance(r, dict) for r in records)
        else:
            with duckdb.connect() as con:
                assert con.execute(f"SELECT count(*) FROM read_csv('{table.path}')").fetchone()[0] == table.rows


def test_csv_cells_of_lists_and_structs_are_json(seeds_warehouse: Path, tmp_path: Path) -> None:
    """A CSV reader gets a list or struct column back as JSON text equal to the stored value."""
    import csv

    result = export_tables(seeds_warehouse, tmp_path, format="csv", tables=["syndication", "ingest_runs"])
    with duckdb.connect(str(seeds_warehouse), read_only=True) as con:
        query = "SELECT cluster_id, outlets, list_transform(copies, c -> c.outlet) FROM syndication"
        stored = {row[0]: (row[1], row[2]) for row in con.execute(query).fetchall()}
        sources = con.execute("SELECT sources FROM ingest_runs").fetchall()
    with result.tables[0].path.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == len(stored) > 0
    for row in rows:
        outlets, copied = stored[row["cluster_id"]]
        assert json.loads(row["outlets"]) == outlets
        assert [copy["outlet"] for copy in json.loads(row["copies"])] == copied
    with result.tables[1].path.open(newline="", encoding="utf-8") as handle:
        assert [json.loads(row["sources"]) for row in csv.DictReader(handle)] == [list(s) for (s,) in sources]


def test_since_filters_on_publication_time(seeds_warehouse: Path, tmp_path: Path) -> None:
    future = export_tables(seeds_warehouse, tmp_path / "a", since=datetime(2100, 1, 1, tzinfo=UTC))
    assert all(t.rows == 0 for t in future.tables)
    past = export_tables(seeds_warehouse, tmp_path / "b", since=datetime(2000, 1, 1))
    assert {t.table: t.rows for t in past.tables} == _counts(seeds_warehouse)


def test_cli_export(seeds_warehouse: Path, tmp_path: Path) -> None:
    ok = runner.invoke(app, ["export", "--db", str(seeds_warehouse), "--out", str(tmp_path), "--format", "JSONL",
                             "--table", "clean_corpus", "-t", "syndication"])  # fmt: skip
    assert ok.exit_code == 0, ok.output
    assert sorted(p.name for p in tmp_path.iterdir()) == ["clean_corpus.jsonl", "syndication.jsonl"]
    bad_table = runner.invoke(app, ["export", "--db", str(seeds_warehouse), "--out", str(tmp_path), "-t", "nope"])
    assert bad_table.exit_code == 2 and "unknown --table nope" in bad_table.output
    bad_format = runner.invoke(app, ["export", "--db", str(seeds_warehouse), "--out", str(tmp_path), "-f", "xlsx"])
    assert bad_format.exit_code == 2 and "--format must be parquet, csv or jsonl" in bad_format.output
