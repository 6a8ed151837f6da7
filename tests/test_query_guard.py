"""`wirecopy sql` cannot create or change any file: each statement kind is tried, and every file under the
warehouse's folder, the working directory and the home directory is compared before and after."""

from __future__ import annotations

import contextlib
import hashlib
import os
import subprocess
from pathlib import Path

import duckdb
import pytest
from typer.testing import CliRunner
from wirecopy.deployments.served import WIRECOPY

from wirecopy.cli import app
from wirecopy.query import EmptyQuery, QueryRefused, check_query, open_reader

runner = CliRunner()

WRITING_STATEMENTS = [
    "COPY (SELECT 'x') TO '{db}' (FORMAT csv)",
    "COPY (SELECT 'x') TO '{lsh}/manifest.json' (FORMAT csv)",
    "COPY paragraphs TO '{dir}/leak.parquet' (FORMAT parquet)",
    "COPY paragraphs FROM '{dir}/leak.csv'",
    "EXPORT DATABASE '{dir}/export'",
    "ATTACH '{dir}/other.duckdb' AS other",
    "ATTACH ':memory:' AS other",
    "DETACH warehouse",
    "INSTALL httpfs",
    "LOAD httpfs",
    "FORCE INSTALL json",
    "SET threads = 1",
    "SET enable_external_access = true",
    "SET GLOBAL lock_configuration = false",
    "RESET threads",
    "SET VARIABLE x = 1",
    "USE memory",
    "PRAGMA enable_profiling",
    "PRAGMA profiling_output = '{dir}/profile.txt'",
    "pragma version",
    "/* comment */ PRAGMA database_size",
    "CREATE TABLE t AS SELECT 1 AS a",
    "CREATE TEMP TABLE t AS SELECT 1 AS a",
    "CREATE VIEW v AS SELECT 1 AS a",
    "CREATE OR REPLACE MACRO m() AS 1",
    "CREATE SECRET s (TYPE s3, KEY_ID 'k', SECRET 'v')",
    "CREATE SEQUENCE s",
    "DROP TABLE paragraphs",
    "ALTER TABLE paragraphs ADD COLUMN x INTEGER",
    "INSERT INTO ingest_runs (run_id, started_at, status) VALUES ('x', now(), 'x')",
    "UPDATE paragraphs SET text = ''",
    "DELETE FROM paragraphs",
    "TRUNCATE paragraphs",
    "CHECKPOINT",
    "FORCE CHECKPOINT",
    "VACUUM",
    "ANALYZE",
    "BEGIN TRANSACTION",
    "CALL pragma_version()",
    "EXPLAIN ANALYZE COPY (SELECT 1) TO '{dir}/explained.csv'",
    "EXPLAIN COPY (SELECT 1) TO '{dir}/explained.csv'",
    "SELECT 1; COPY (SELECT 1) TO '{dir}/second.csv'",
    "SELECT 1; DROP TABLE paragraphs",
]


def _tree(*roots: Path) -> dict[str, tuple]:
    """Every file and folder under the roots: (kind, size, mode, mtime, sha256)."""
    found: dict[str, tuple] = {}
    for root in roots:
        for directory, folders, files in os.walk(root):
            for name in folders:
                stat = os.lstat(os.path.join(directory, name))
                found[os.path.join(directory, name)] = ("dir", stat.st_mode)
            for name in files:
                path = os.path.join(directory, name)
                stat = os.lstat(path)
                digest = hashlib.sha256(Path(path).read_bytes()).hexdigest()
                found[path] = ("file", stat.st_size, stat.st_mode, stat.st_mtime_ns, digest)
    return found


@pytest.fixture(scope="module")
def guarded(prefect_harness, seeds_dir: Path, tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("guard")
    db = folder / "warehouse.duckdb"
    result = runner.invoke(app, ["ingest", str(seeds_dir), "--db", str(db)])
    assert result.exit_code == 0, result.output
    (folder / "leak.csv").write_text("a\nb\n")
    return db


def _lsh_dir(db: Path) -> Path:
    from wirecopy.warehouse.lsh_store import store_directory

    try:
        from wirecopy.warehouse.snapshot import writer_path
    except ImportError:
        return store_directory(db)
    return store_directory(writer_path(db))


def _format(statement: str, db: Path) -> str:
    return statement.format(db=db, lsh=_lsh_dir(db), dir=db.parent)


@pytest.mark.parametrize("statement", WRITING_STATEMENTS)
def test_sql_refuses_and_changes_no_file(guarded: Path, statement: str) -> None:
    assert _lsh_dir(guarded).is_dir()
    before = _tree(guarded.parent)
    query = _format(statement, guarded)
    result = runner.invoke(app, ["sql", query, "--db", str(guarded)])
    assert result.exit_code == 1, (query, result.output)
    assert "refused" in result.output, result.output
    assert len(result.output.strip().splitlines()) == 1, result.output
    assert _tree(guarded.parent) == before


@pytest.mark.parametrize("statement", WRITING_STATEMENTS)
def test_the_connection_itself_cannot_write(guarded: Path, statement: str, tmp_path: Path) -> None:
    """The second layer: the same statements on the reader connection, without the statement check."""
    before = _tree(guarded.parent)
    con = open_reader(guarded)
    try:
        with contextlib.suppress(duckdb.Error):
            con.execute(_format(statement, guarded))
        for probe in ("SELECT count(*) FROM paragraphs", "SELECT current_setting('enable_external_access')"):
            con.execute(probe).fetchall()
        assert con.execute("SELECT current_setting('enable_external_access')").fetchone()[0] is False
        assert con.execute("SELECT current_setting('lock_configuration')").fetchone()[0] is True
    finally:
        con.close()
    assert _tree(guarded.parent) == before


def test_reader_cannot_read_other_files(guarded: Path) -> None:
    result = runner.invoke(app, ["sql", "SELECT * FROM read_csv('/etc/passwd')", "--db", str(guarded)])
    assert result.exit_code == 1
    assert "disabled by configuration" in result.output


@pytest.mark.parametrize(
    "query",
    [
        "SELECT count(*) FROM paragraphs",
        "with x as (select 1 as a) select * from x",
        "FROM documents LIMIT 1",
        "VALUES (1), (2)",
        "DESCRIBE paragraphs",
        "SHOW TABLES",
        "SUMMARIZE ingest_runs",
        "EXPLAIN SELECT * FROM paragraph_dedup",
        "EXPLAIN ANALYZE SELECT count(*) FROM paragraphs",
        "(SELECT 1)",
        "SELECT * FROM pragma_table_info('paragraphs')",
        "SELECT ';' AS semicolon, 'COPY x TO y' AS text",
        "/* a comment */\nSELECT 1;",
    ],
)
def test_sql_runs_queries(guarded: Path, query: str) -> None:
    before = _tree(guarded.parent)
    result = runner.invoke(app, ["sql", query, "--db", str(guarded), "--format", "csv"])
    assert result.exit_code == 0, result.output
    assert _tree(guarded.parent) == before


@pytest.mark.parametrize("query", ["", "   ", ";", " ; ;", "/* only a comment */"])
def test_empty_query_is_a_usage_error(guarded: Path, query: str) -> None:
    result = runner.invoke(app, ["sql", query, "--db", str(guarded)])
    assert result.exit_code == 2, result.output
    assert "usage error: empty query" in result.output
    assert "Traceback" not in result.output


def test_several_statements_are_a_usage_error_not_the_last_result_alone(guarded: Path) -> None:
    result = runner.invoke(app, ["sql", "SELECT 1 AS a;\nSELECT 2 AS b;", "--db", str(guarded), "--format", "csv"])
    assert result.exit_code == 2, result.output
    assert "one statement at a time: the query holds 2" in result.output and "b" not in result.stdout.split()
    assert check_query("SELECT 1; SELECT 2; SELECT 3") == 3 and check_query("SELECT ';'") == 1


def test_bad_format_is_a_usage_error(guarded: Path) -> None:
    result = runner.invoke(app, ["sql", "SELECT 1", "--db", str(guarded), "--format", "xml"])
    assert result.exit_code == 2 and "--format must be table, csv or json" in result.output


def test_check_query_names_the_statement() -> None:
    with pytest.raises(QueryRefused, match=r"^COPY is refused"):
        check_query("copy (select 1) to 'x.csv'")
    with pytest.raises(QueryRefused, match=r"^EXPORT is refused"):
        check_query("export database 'x'")
    with pytest.raises(EmptyQuery):
        check_query("  ")
    check_query("select 'pragma' as pragma")


def test_sql_in_a_real_process_creates_nothing(guarded: Path, tmp_path: Path) -> None:
    """A separate process with its own working and home directories: INSTALL/EXPORT/COPY leave both empty."""
    home, work = tmp_path / "home", tmp_path / "work"
    home.mkdir()
    work.mkdir()
    env = os.environ | {"HOME": str(home)}
    before = _tree(guarded.parent)
    for query in ("INSTALL httpfs", f"EXPORT DATABASE '{work}/x'", "COPY (SELECT 1) TO 'here.csv'", "SELECT 42"):
        done = subprocess.run(
            [WIRECOPY, "sql", query, "--db", str(guarded), "--format", "csv"],
            cwd=work, env=env, capture_output=True, text=True, timeout=120,
        )  # fmt: skip
        if query == "SELECT 42":
            assert done.returncode == 0 and "42" in done.stdout, done.stderr
        else:
            assert done.returncode == 1 and "refused" in done.stderr, done.stderr
    assert _tree(home, work) == {}
    assert _tree(guarded.parent) == before


def test_a_refused_statement_is_named_by_what_it_does() -> None:
    """A WITH before a write names the write; a PIVOT that DuckDB would run as a CREATE TYPE says how to pivot."""
    with pytest.raises(QueryRefused, match=r"^INSERT is refused"):
        check_query("WITH x AS (SELECT 1) INSERT INTO t SELECT * FROM x")
    with pytest.raises(QueryRefused, match=r"^DELETE is refused"):
        check_query("SELECT 'أذربيجان' AS a; DELETE FROM paragraphs")
    with pytest.raises(QueryRefused, match=r"^PIVOT without IN is refused.*ON col IN \('a', 'b'\)"):
        check_query("PIVOT paragraphs ON position USING count(*)")
    assert check_query("PIVOT paragraphs ON position IN (1, 2) USING count(*)") == 1
    assert check_query("SELECT 'é', 'ي' AS ya, 2 -- تعليق") == 1
