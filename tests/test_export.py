"""`wirecopy export`: every public table round-trips (row counts and rows equal), read back by DuckDB and pyarrow,
in one file or date partitions; CSV and JSON Lines (partitioned in the Parquet layout); --since; the CLI's errors,
and nothing created for a warehouse that is missing."""

from __future__ import annotations

import json
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb
import pyarrow.dataset as ds
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner
from wirecopy.warehouse.db import WarehouseMissing

from tests import warehouse_fixtures
from tests.conftest import SEEDS
from wirecopy.cli import app
from wirecopy.exports import HIVE_NULL, TABLES, ExportInTheWay, export_tables

runner = CliRunner()
seeds_warehouse = warehouse_fixtures.seeds_warehouse


@pytest.fixture(scope="module")
def dated_warehouse(prefect_harness, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A warehouse ingested by the real flow from 24 articles of 4 outlets published over six days (neighbours
    share paragraphs: copies across outlets), then one document's times cleared (the schema allows it): its rows
    have no date."""
    from wirecopy.flows.ingest import ingest

    root = tmp_path_factory.mktemp("dated")
    pool = [line for path in sorted(SEEDS.glob("*.txt")) for line in path.read_text("utf-8").splitlines()]
    pool = [line.strip() for line in pool if len(line.split()) >= 6]
    start = datetime(2024, 3, 1, 8, tzinfo=UTC)
    records = [
        {"outlet": f"outlet{i % 4}", "published_at": (start + timedelta(hours=6 * i)).isoformat(),
         "text": "\n".join(pool[(2 * i + k) % len(pool)] for k in range(4))}
        for i in range(24)
    ]  # fmt: skip
    corpus = root / "articles.jsonl"
    corpus.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), encoding="utf-8")
    db = root / "warehouse.duckdb"
    ingest(sources=[str(corpus)], db=str(db))
    with duckdb.connect(str(db)) as con:
        (doc_id,) = con.execute("SELECT doc_id FROM documents ORDER BY published_at DESC LIMIT 1").fetchone()
        for table in ("documents", "raw_documents"):
            con.execute(f"UPDATE {table} SET published_at = NULL, fetched_at = NULL WHERE doc_id = ?", [doc_id])
    return db


def _layout(folder: Path, suffix: str) -> list[str]:
    """Every file and folder under `folder`, relative, with the file suffix `suffix` left out."""
    return sorted(str(p.relative_to(folder)).removesuffix(suffix) for p in folder.rglob("*"))


def _canonical(record: dict) -> str:
    return json.dumps(record, sort_keys=True, ensure_ascii=False)


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


def test_jsonl_partitions_hold_every_row_once_in_the_parquet_layout(dated_warehouse: Path, tmp_path: Path) -> None:
    """Every row of every partitioned table is in exactly one JSON Lines part, the one of its date (no date:
    `date=__HIVE_DEFAULT_PARTITION__`), and the folders and file names are those of the Parquet export."""
    parquet = export_tables(dated_warehouse, tmp_path / "parquet", partition_rows=10)
    jsonl = export_tables(dated_warehouse, tmp_path / "jsonl", format="jsonl", partition_rows=10)
    shape = [(t.table, t.rows, t.partitioned) for t in parquet.tables]
    assert [(t.table, t.rows, t.partitioned) for t in jsonl.tables] == shape
    assert _layout(tmp_path / "jsonl", ".jsonl") == _layout(tmp_path / "parquet", ".parquet")
    parted = [t for t in jsonl.tables if t.partitioned]
    assert {"paragraphs", "paragraph_dedup", "documents", "syndication"} <= {t.table for t in parted}
    days = {p.name for p in (tmp_path / "jsonl" / "paragraphs").iterdir()}
    assert days == {f"date=2024-03-0{d}" for d in range(1, 7)} | {f"date={HIVE_NULL}"}
    with duckdb.connect(str(dated_warehouse), read_only=True) as con:
        con.execute("SET TimeZone = 'UTC'")
        for table in parted:
            relation, moment, columns = TABLES[table.table]
            dated = f"SELECT {columns}, CAST({moment} AS DATE) AS export_day FROM {relation}"
            expected: Counter[tuple[str, str]] = Counter()
            for (text,) in con.execute(f"SELECT CAST(to_json(s) AS VARCHAR) FROM ({dated}) s").fetchall():
                record = json.loads(text)
                expected[f"date={record.pop('export_day') or HIVE_NULL}", _canonical(record)] += 1
            written = Counter(
                (part.parent.name, _canonical(json.loads(line)))
                for part in table.path.rglob("*.jsonl")
                for line in part.read_text(encoding="utf-8").splitlines()
            )
            assert written == expected and sum(written.values()) == table.rows, table.table


def test_cli_jsonl_export_larger_than_partition_rows(dated_warehouse: Path, tmp_path: Path) -> None:
    result = runner.invoke(app, ["export", "--out", str(tmp_path), "--partition-rows", "10", "--table", "paragraphs",
                                 "--format", "jsonl", "--db", str(dated_warehouse)])  # fmt: skip
    assert result.exit_code == 0, result.output
    parts = sorted((tmp_path / "paragraphs").rglob("*"))
    assert [p.name for p in parts if p.is_file()] == ["part_0.jsonl"] * 7
    lines = sum(len(p.read_text(encoding="utf-8").splitlines()) for p in parts if p.is_file())
    assert lines == _counts(dated_warehouse)["paragraphs"] > 10
    assert sorted(p.name for p in tmp_path.iterdir()) == ["paragraphs"]  # no partial left beside it


def test_a_missing_warehouse_creates_no_output_folder(tmp_path: Path) -> None:
    missing, out = tmp_path / "missing.duckdb", tmp_path / "out"
    result = runner.invoke(app, ["export", "--out", str(out), "--db", str(missing)])
    assert result.exit_code == 1 and f"error: no warehouse at {missing}" in " ".join(result.output.split())
    with pytest.raises(WarehouseMissing):
        export_tables(missing, out)
    notes = tmp_path / "notes.duckdb"
    notes.write_text("not a database\n", encoding="utf-8")
    result = runner.invoke(app, ["export", "--out", str(out), "--db", str(notes)])
    assert result.exit_code == 1 and "is not a DuckDB database file" in result.output
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.duckdb"]


def test_an_export_failure_names_the_table_and_format(seeds_warehouse: Path, tmp_path: Path) -> None:
    broken = warehouse_fixtures.copy_warehouse(seeds_warehouse, tmp_path)
    with duckdb.connect(str(broken)) as con:
        con.execute("CREATE OR REPLACE VIEW syndication AS SELECT 1 AS x")  # there, but DuckDB fails to export it
    out = tmp_path / "out"
    result = runner.invoke(app, ["export", "--out", str(out), "--db", str(broken), "-f", "jsonl",
                                 "-t", "documents", "-t", "syndication"])  # fmt: skip
    flat = " ".join(result.output.split())
    assert result.exit_code == 1 and "error: cannot export syndication as jsonl:" in flat, result.output
    assert "cannot read the warehouse" not in flat and "Traceback" not in flat
    assert sorted(p.name for p in out.iterdir()) == ["documents.jsonl"]  # no partial file left


def test_a_warehouse_published_before_the_latest_migration_still_exports_and_counts(
    seeds_warehouse: Path, tmp_path: Path
) -> None:
    """A read-only connection cannot migrate: a warehouse an older wirecopy published lacks `run_errors` (010)
    until the next ingest. `export` of every table and `stats` take what it has; asking for the table by name
    says why it is not there."""
    old = tmp_path / "old.duckdb"
    old.write_bytes(seeds_warehouse.read_bytes())
    with duckdb.connect(str(old)) as con:
        con.execute("DROP TABLE run_errors")
        con.execute("DELETE FROM schema_migrations WHERE version = 10")
    everything = runner.invoke(app, ["export", "--db", str(old), "--out", str(tmp_path / "all")])
    assert everything.exit_code == 0, everything.output
    assert sorted(p.name.split(".")[0] for p in (tmp_path / "all").iterdir()) == sorted(set(TABLES) - {"run_errors"})
    named = runner.invoke(app, ["export", "--db", str(old), "--out", str(tmp_path / "one"), "--table", "run_errors"])
    assert named.exit_code == 1 and "run_errors as parquet: not in this warehouse" in named.output.replace("\n", "")
    assert not (tmp_path / "one").exists()
    stats = runner.invoke(app, ["stats", "--db", str(old), "-f", "json"])
    assert stats.exit_code == 0, stats.output
    counted = json.loads(stats.stdout)
    assert "run_errors" not in counted["tables"] and counted["tables"]["paragraphs"] > 0
    with duckdb.connect(str(old), read_only=True) as con:
        links = dict(con.execute("SELECT method, count(*) FROM duplicate_links GROUP BY 1").fetchall())
    assert counted["links"] == {"containment": 0, "exact": 0, "near": 0} | links  # every method, 0 when none


def _tree(folder: Path) -> dict[str, bytes | None]:
    """Every path under `folder` (relative) → a file's bytes, None for a folder."""
    return {str(p.relative_to(folder)): p.read_bytes() if p.is_file() else None for p in sorted(folder.rglob("*"))}


def test_cli_export_never_deletes_a_users_folder_named_like_a_table(seeds_warehouse: Path, tmp_path: Path) -> None:
    """The user's `documents/` folder (contracts, not date partitions) stops the export, exit 2 naming it; nothing
    is deleted or written."""
    project = tmp_path / "proj"
    (project / "documents" / "contracts").mkdir(parents=True)
    (project / "documents" / "contracts" / "c1.pdf").write_bytes(b"%PDF-1.4 the user's contract\n")
    before = _tree(project)
    result = runner.invoke(app, ["export", "--out", str(project), "-t", "documents", "--db", str(seeds_warehouse)])
    flat = " ".join(result.output.split())
    assert result.exit_code == 2, result.output
    assert f"{project / 'documents'} is in the way of the documents export" in flat and "contracts" in flat
    assert _tree(project) == before


def _obstacle(path: Path, kind: str) -> None:
    """Something of the user's at `path`, where an export of the table goes."""
    if kind == "folder":  # a dataset another tool wrote, named like a file
        path.mkdir()
        (path / "part-0.parquet").write_bytes(b"PAR1 written by Spark")
    elif kind == "empty folder":
        path.mkdir()
    elif kind == "not a part file":
        (path / "date=2024-03-01").mkdir(parents=True)
        (path / "date=2024-03-01" / "notes.txt").write_text("mine\n", encoding="utf-8")
    elif kind == "symlink":
        (path.parent / "elsewhere").mkdir()
        path.symlink_to(path.parent / "elsewhere")
    else:
        path.write_text(kind, encoding="utf-8")


@pytest.mark.parametrize(
    ("fmt", "name", "kind"),
    [
        ("parquet", "documents.parquet", "folder"),
        ("parquet", "documents.parquet", "my notes, not Parquet\n"),
        ("csv", "documents.csv", "title,author\nA,B\n"),
        ("jsonl", "documents.jsonl", '{"title": "A"}\n'),
        ("parquet", "documents", "a file named like the table\n"),
        ("parquet", "documents", "empty folder"),
        ("csv", "documents", "not a part file"),
        ("jsonl", "documents", "symlink"),
    ],
)
def test_what_no_export_wrote_stops_every_table_before_anything_is_written(
    seeds_warehouse: Path, tmp_path: Path, fmt: str, name: str, kind: str
) -> None:
    out = tmp_path / "out"
    out.mkdir()
    _obstacle(out / name, kind)
    before = _tree(out)
    with pytest.raises(ExportInTheWay) as raised:
        export_tables(seeds_warehouse, out, format=fmt, tables=["syndication", "documents"])
    assert raised.value.path == out / name and raised.value.table == "documents"
    assert _tree(out) == before  # not even syndication, the table before it


@pytest.mark.parametrize("fmt", ["parquet", "csv", "jsonl"])
def test_an_earlier_export_is_replaced_in_either_layout(seeds_warehouse: Path, tmp_path: Path, fmt: str) -> None:
    """File → folder of date partitions (with a file browser's litter in it) → file again, and an empty file: each
    export replaces what the earlier one wrote."""
    rows = _counts(seeds_warehouse)["paragraphs"]
    single = export_tables(seeds_warehouse, tmp_path, format=fmt, tables=["paragraphs"]).tables[0]
    assert single.path.is_file() and not single.partitioned
    parted = export_tables(seeds_warehouse, tmp_path, format=fmt, tables=["paragraphs"], partition_rows=10).tables[0]
    assert parted.partitioned and parted.rows == rows and not single.path.exists()
    (parted.path / ".DS_Store").write_bytes(b"\0")
    next(parted.path.glob("date=*")).joinpath("Thumbs.db").write_bytes(b"\0")
    again = export_tables(seeds_warehouse, tmp_path, format=fmt, tables=["paragraphs"]).tables[0]
    assert again.path == single.path and again.rows == rows and not parted.path.exists()
    assert export_tables(seeds_warehouse, tmp_path, format=fmt, tables=["paragraphs"]).tables[0].rows == rows
    again.path.write_bytes(b"")  # nothing in it to lose
    assert export_tables(seeds_warehouse, tmp_path, format=fmt, tables=["paragraphs"]).tables[0].rows == rows
    assert sorted(p.name for p in tmp_path.iterdir()) == [again.path.name]
