"""`wirecopy export`: public tables to Parquet, CSV or JSON Lines files."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from wirecopy import cli_output
from wirecopy.cli_output import (
    DbOption,
    WaitOption,
    cli_settings,
    console,
    fail,
    make_folder,
    parse_time,
    progress_bar,
    usage,
    warehouse_errors,
)


def export(
    out: Annotated[Path, typer.Option("--out", "-o", help="folder to write the files into")],
    db: DbOption = None,
    output: Annotated[str, typer.Option("--format", "-f", help="parquet | csv | jsonl")] = "parquet",
    table: Annotated[
        list[str] | None, typer.Option("--table", "-t", help="table or view to export (repeatable; default: all)")
    ] = None,
    since: Annotated[str | None, typer.Option(help="rows from this time on (YYYY-MM-DD[THH:MM], UTC)")] = None,
    partition_rows: Annotated[
        int, typer.Option(min=0, help="tables with more rows are written as date=YYYY-MM-DD/ partitions")
    ] = 1_000_000,
    wait: WaitOption = None,
) -> None:
    """Export public tables and views (one file each, date partitions for large ones) through a read-only
    connection: clean_corpus, paragraph_dedup, syndication, documents, paragraphs, … (see --table)."""
    from wirecopy.exports import TABLES, ExportFailed, ExportFormat, ExportInTheWay, export_tables
    from wirecopy.warehouse.db import WarehouseBusy, WarehouseMissing

    fmt = output.lower()
    if fmt not in ExportFormat.__members__:
        raise usage(f"--format must be parquet, csv or jsonl, not {output!r}")
    unknown = [name for name in table or () if name not in TABLES]
    if unknown:
        raise usage(f"unknown --table {', '.join(unknown)}: choose from {', '.join(TABLES)}")
    from_time = parse_time(since, "--since")
    settings = cli_settings(db)
    seconds = settings.sql_wait_seconds if wait is None else wait
    names = list(dict.fromkeys(table or TABLES))
    try:  # --out is made once the warehouse is open: a missing or unreadable warehouse leaves nothing behind
        with progress_bar("export", len(names), unit="tables") as advance, warehouse_errors(settings.db):
            result = export_tables(
                settings.db, out, format=fmt, tables=list(dict.fromkeys(table)) if table else None, since=from_time,
                partition_rows=partition_rows, wait_seconds=seconds,
                on_table=lambda done: advance(description=done.table), make_out=make_folder,
            )  # fmt: skip
    except WarehouseMissing as error:
        raise fail(str(error)) from None
    except ExportInTheWay as error:  # the user's own files where a table's export goes: never replaced
        raise usage(f"--out {out}: {error}") from None
    except ExportFailed as error:
        if cli_output.verbose:
            raise
        raise fail(str(error)) from None
    except WarehouseBusy:
        raise fail(
            f"the warehouse {settings.db} is held read-write by another program (waited {seconds:g}s): "
            "try again, or wait longer with --wait SECONDS"
        ) from None
    except OSError as error:
        raise fail(f"cannot write the export into --out {out}: {error}") from None
    listing = Table("table", "rows", "file", "bytes", title=f"export → {out} ({fmt}, {result.seconds:.2f}s)")
    for done in result.tables:
        shown = f"{done.path.name}/date=…" if done.partitioned else done.path.name
        listing.add_row(done.table, f"{done.rows:,}", escape(shown), f"{done.bytes:,}")
    console.print(listing)
