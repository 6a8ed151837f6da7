"""What every `wirecopy` command shares: consoles, the --db option, one-line errors, csv/json output."""

from __future__ import annotations

import csv
import io
import json
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape

console = Console()
err_console = Console(stderr=True)

DbOption = Annotated[
    Path | None, typer.Option("--db", help="warehouse file (default: $WIRECOPY_DB or ./warehouse.duckdb)")
]
FORMATS = ("table", "csv", "json")


def fail(message: str) -> typer.Exit:
    """Print one red error line; raise the returned Exit (status 1)."""
    err_console.print(f"[red]error:[/red] {escape(message)}", highlight=False, soft_wrap=True)
    return typer.Exit(code=1)


def usage(message: str) -> typer.Exit:
    """Print one red error line for a command used wrongly; raise the returned Exit (status 2, as click's)."""
    err_console.print(f"[red]usage error:[/red] {escape(message)}", highlight=False, soft_wrap=True)
    return typer.Exit(code=2)


def cli_settings(db: Path | None):
    """The effective configuration, or a one-line error naming the bad setting."""
    from wirecopy.config import ConfigError, load_settings

    try:
        return load_settings(db=db)
    except ConfigError as error:
        raise fail(str(error)) from None


def check_format(output: str) -> None:
    if output not in FORMATS:
        raise usage(f"--format must be table, csv or json, not {output!r}")


def write_records(columns: list[str], rows: list[tuple], output: str) -> bool:
    """Write rows as csv or json on stdout; False for `table`, which each command renders its own way."""
    if output == "json":
        records = [dict(zip(columns, row, strict=True)) for row in rows]
        sys.stdout.write(json.dumps(records, ensure_ascii=False, default=str, indent=1) + "\n")
        return True
    if output == "csv":
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow(columns)
        writer.writerows(rows)
        sys.stdout.write(buffer.getvalue())
        return True
    return False
