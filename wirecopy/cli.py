"""`wirecopy` command line: ingest sources, query the warehouse, inspect runs and configuration."""

from __future__ import annotations

import csv
import io
import json
import logging
import os
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

app = typer.Typer(
    help="Ingest news text, strip boilerplate, deduplicate paragraphs, query with SQL.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
console = Console()
err_console = Console(stderr=True)

DbOption = Annotated[
    Path | None, typer.Option("--db", help="warehouse file (default: $WIRECOPY_DB or ./warehouse.duckdb)")
]


def _prefect_defaults() -> None:
    """Keep Prefect's state under the project and quiet, unless the user configured otherwise."""
    os.environ.setdefault("PREFECT_HOME", str(Path.cwd() / ".prefect"))
    os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "90")
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")


def _fail(message: str) -> typer.Exit:
    err_console.print(f"[red]error:[/red] {message}", highlight=False)
    return typer.Exit(code=1)


def _settings(db: Path | None):
    from wirecopy.config import ConfigError, load_settings

    try:
        return load_settings(db=db)
    except ConfigError as error:
        raise _fail(str(error)) from None


@app.callback()
def main(verbose: Annotated[bool, typer.Option("--verbose", "-v", help="show Prefect and debug logs")] = False):
    _prefect_defaults()
    if verbose:
        os.environ["PREFECT_LOGGING_LEVEL"] = "INFO"
        logging.basicConfig(level=logging.INFO)


@app.command()
def ingest(
    sources: Annotated[list[str], typer.Argument(help="files, directories, globs or http(s) URLs")],
    db: DbOption = None,
) -> None:
    """Run the ingest flow over SOURCES and print a summary."""
    missing = [s for s in sources if not _looks_like_url(s) and not _path_or_glob_exists(s)]
    if missing:
        raise _fail(f"no such file, directory or matching glob: {', '.join(missing)}")
    settings = _settings(db)
    from flows.ingest import ingest as ingest_flow
    from wirecopy.report import summary_rows

    summary = ingest_flow(sources=sources, db=str(settings.db))
    table = Table(title=f"ingest → {settings.db}", show_header=False)
    for name, value in summary_rows(summary):
        table.add_row(name, escape(value))
    console.print(table)
    for message in summary.error_messages:
        err_console.print(f"[yellow]input error:[/yellow] {message}", highlight=False)


def _looks_like_url(source: str) -> bool:
    return source.startswith(("http://", "https://"))


def _path_or_glob_exists(source: str) -> bool:
    import glob

    return Path(source).exists() or bool(glob.glob(source, recursive=True))


@app.command("sql")
def sql_command(
    query: Annotated[str, typer.Argument(help="a SQL query")],
    db: DbOption = None,
    output: Annotated[str, typer.Option("--format", "-f", help="table | csv | json")] = "table",
    limit: Annotated[int, typer.Option(help="rows shown at most in table format")] = 200,
) -> None:
    """Run QUERY against the warehouse, opened read-only, and print the result."""
    if output not in ("table", "csv", "json"):
        raise _fail(f"--format must be table, csv or json, not {output!r}")
    import duckdb

    from warehouse.db import WarehouseBusy, WarehouseMissing, session

    settings = _settings(db)
    try:
        with session(settings.db, read_only=True, wait_seconds=settings.lock_wait_seconds) as con:
            cursor = con.execute(query)
            columns = [d[0] for d in cursor.description or []]
            rows = cursor.fetchall()
    except (WarehouseMissing, WarehouseBusy) as error:
        raise _fail(str(error)) from None
    except duckdb.Error as error:
        raise _fail(f"query failed: {error}") from None
    _print_rows(columns, rows, output, limit)


def _print_rows(columns: list[str], rows: list[tuple], output: str, limit: int) -> None:
    if output == "json":
        sys.stdout.write(
            json.dumps([dict(zip(columns, r, strict=True)) for r in rows], ensure_ascii=False, default=str, indent=1)
            + "\n"
        )
    elif output == "csv":
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow(columns)
        writer.writerows(rows)
        sys.stdout.write(buffer.getvalue())
    else:
        table = Table(*columns)
        for row in rows[:limit]:
            table.add_row(*("NULL" if v is None else escape(str(v)) for v in row))
        console.print(table)
        if len(rows) > limit:
            console.print(f"({len(rows)} rows, {limit} shown)")


@app.command()
def stats(db: DbOption = None) -> None:
    """Row counts per table and duplicate links per method."""
    from warehouse import sql
    from warehouse.db import WarehouseBusy, WarehouseMissing, session

    settings = _settings(db)
    try:
        with session(settings.db, read_only=True, wait_seconds=settings.lock_wait_seconds) as con:
            counts = con.execute(sql.TABLE_COUNTS).fetchall()
            methods = con.execute(sql.LINKS_BY_METHOD).fetchall()
    except (WarehouseMissing, WarehouseBusy) as error:
        raise _fail(str(error)) from None
    _print_rows(["table", "rows"], counts, "table", 100)
    _print_rows(["method", "links"], methods, "table", 100)


@app.command()
def runs(db: DbOption = None, limit: Annotated[int, typer.Option(help="how many runs")] = 20) -> None:
    """The most recent ingest runs."""
    from warehouse import sql
    from warehouse.db import WarehouseBusy, WarehouseMissing, session

    settings = _settings(db)
    try:
        with session(settings.db, read_only=True, wait_seconds=settings.lock_wait_seconds) as con:
            cursor = con.execute(sql.RECENT_RUNS, {"limit": limit})
            columns = [d[0] for d in cursor.description]
            rows = cursor.fetchall()
    except (WarehouseMissing, WarehouseBusy) as error:
        raise _fail(str(error)) from None
    _print_rows(columns, rows, "table", limit)


@app.command()
def config(db: DbOption = None) -> None:
    """Print the effective configuration (defaults < wirecopy.toml < WIRECOPY_* env < flags)."""
    settings = _settings(db)
    sys.stdout.write(json.dumps(settings.model_dump(mode="json"), indent=2) + "\n")
