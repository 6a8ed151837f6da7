"""What every `wirecopy` command shares: consoles, the --db option, one-line errors, csv/json output."""

from __future__ import annotations

import csv
import io
import json
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape

PIPE_WIDTH = 10_000
"""Columns of output that is not a terminal (pipes, files): tables never wrap at 80 columns there. $COLUMNS,
when set, still wins."""


def _console(stderr: bool = False) -> Console:
    made = Console(stderr=stderr)
    if not made.is_terminal and "COLUMNS" not in os.environ:
        made.width = PIPE_WIDTH
    return made


console = _console()
err_console = _console(stderr=True)

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


def check_format(output: str) -> str:
    """The --format value, case-insensitive (`JSON` = `json`); anything else is a usage error (exit 2)."""
    if output.lower() not in FORMATS:
        raise usage(f"--format must be table, csv or json, not {output!r}")
    return output.lower()


def write_records(columns: list[str], rows: list[tuple], output: str) -> bool:
    """Write rows as csv or json on stdout; False for `table`, which each command renders its own way."""
    if output == "json":
        records = [dict(zip(columns, row, strict=True)) for row in rows]
        sys.stdout.write(json.dumps(records, ensure_ascii=False, default=str, indent=1) + "\n")
        return True
    if output == "csv":
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(columns)
        writer.writerows(rows)
        sys.stdout.write(buffer.getvalue())
        return True
    return False


def parse_time(value: str | None, option: str) -> datetime | None:
    """An ISO date or date-time (`2024-05-01`, `2024-05-01T12:00`, `…+03:00`); no zone means UTC."""
    if value is None:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise fail(f"{option} {value!r} is not a date or date-time (YYYY-MM-DD[THH:MM[:SS]][+HH:MM])") from None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment


@contextmanager
def progress_bar(description: str, total: float | None, *, unit: str = "", quiet: bool = False) -> Iterator:
    """A progress bar on stderr with count, rate and ETA; silent when stderr is not a terminal or `quiet`.
    Yields `advance(amount=1, description=None)`; `total` may be None until known (`advance.total = n`)."""
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TaskProgressColumn,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    columns = [
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TaskProgressColumn(),
        TextColumn("{task.fields[rate]}"),
        TimeElapsedColumn(),
        TextColumn("ETA"),
        TimeRemainingColumn(),
    ]
    progress = Progress(*columns, console=err_console, transient=True, disable=quiet or not err_console.is_terminal)
    with progress:
        task = progress.add_task(description, total=total, rate="")

        def advance(amount: float = 1, description: str | None = None, total: float | None = None) -> None:
            fields: dict = {"advance": amount}
            if description is not None:
                fields["description"] = description
            if total is not None:
                fields["total"] = total
            progress.update(task, **fields)
            speed = progress.tasks[0].speed
            progress.update(task, rate=f"{speed:,.1f} {unit}/s".strip() if speed else "")

        yield advance
