"""What every `wirecopy` command shares: consoles, the --db option, one-line errors, csv/json output."""

from __future__ import annotations

import csv
import io
import json
import math
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
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
WaitOption = Annotated[
    float | None,
    typer.Option(
        "--wait",
        min=0,
        help="seconds to wait while another program holds the warehouse read-write; ingests never make it wait "
        "(default: sql_wait_seconds, 10)",
    ),
]
FORMATS = ("table", "csv", "json")


verbose = False
"""-v/--verbose was given (before or after the command): errors then show their traceback."""


class Failed(typer.Exit):
    """The command failed (status 1); `message` is the error line already printed, `status` what became of the
    run (`failed`, or `interrupted` by Ctrl-C / SIGTERM)."""

    def __init__(self, message: str, status: str = "failed") -> None:
        super().__init__(code=1)
        self.message, self.status = message, status


def fail(message: str, status: str = "failed") -> Failed:
    """Print one red error line; raise the returned Exit (status 1)."""
    err_console.print(f"[red]error:[/red] {escape(message)}", highlight=False, soft_wrap=True)
    return Failed(message, status)


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


def make_folder(folder: Path, option: str = "--out", *, given: Path | None = None) -> None:
    """Create `folder` (and its parents) for output; a path that cannot be a folder there is a usage error naming
    `option` and the path `given` for it (default: the folder itself; status 2)."""
    named = f"{option} {given or folder}"
    if folder.exists() and not folder.is_dir():
        raise usage(f"{named}: {folder} is a file, not a folder")
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise usage(f"{named}: cannot create the folder {folder}: {error.strerror or error}") from None


def check_output_file(path: Path, option: str = "--out") -> None:
    """Make sure `path` can be written as a file: not a folder, its folder created; else a usage error naming
    `option` (status 2)."""
    if path.is_dir():
        raise usage(f"{option} {path} is a folder: give the file to write, e.g. {path / 'report.html'}")
    make_folder(path.parent, option, given=path)


@contextmanager
def warehouse_errors(db: Path) -> Iterator[None]:
    """DuckDB errors while reading the warehouse `db` (not a DuckDB file, not a wirecopy warehouse) as one error
    line naming the file (status 1); with -v the traceback."""
    import duckdb

    try:
        yield
    except duckdb.Error as error:
        if verbose:
            raise
        raise warehouse_failure(db, error) from None


def warehouse_failure(db: Path, error: Exception) -> Failed:
    """The one-line error for a DuckDB error on the warehouse file `db` (printed; raise the result)."""
    text = " ".join(str(error).split())
    if "not a valid DuckDB database" in text:
        return fail(f"the warehouse {db} is not a DuckDB database file")
    return fail(f"cannot read the warehouse {db}: {text}")


def check_format(output: str) -> str:
    """The --format value, case-insensitive (`JSON` = `json`); anything else is a usage error (exit 2)."""
    if output.lower() not in FORMATS:
        raise usage(f"--format must be table, csv or json, not {output!r}")
    return output.lower()


def write_records(
    columns: list[str], rows: list[tuple], output: str, json_columns: frozenset[str] = frozenset()
) -> bool:
    """Write rows as csv or json on stdout; False for `table`, which each command renders its own way.
    JSON is always valid: NaN and ±Infinity become null; in both formats a blob is its bytes in upper-case hex
    (as SQL `hex()`) and an interval an ISO 8601 duration; in CSV a list, struct or map cell is JSON text; in json
    a column of SQL type JSON (`json_columns`) is the JSON value itself, not a string holding it."""
    if output == "json":
        records = [
            {name: _json_value(value) if name in json_columns else _jsonable(value)
             for name, value in zip(columns, row, strict=True)}
            for row in rows
        ]  # fmt: skip
        sys.stdout.write(json.dumps(records, ensure_ascii=False, allow_nan=False, indent=1) + "\n")
        return True
    if output == "csv":
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(columns)
        writer.writerows([_csv_cell(value) for value in row] for row in rows)
        sys.stdout.write(buffer.getvalue())
        return True
    return False


def _csv_cell(value: object) -> object:
    """A blob as hex; a list, struct or map as JSON text (as `wirecopy export` writes them), not Python's repr; an
    interval as ISO 8601."""
    if isinstance(value, bytes | bytearray | memoryview):
        return _hex(value)
    if isinstance(value, list | tuple | dict):
        return json.dumps(_jsonable(value), ensure_ascii=False, allow_nan=False)
    if isinstance(value, timedelta):
        return iso_duration(value)
    return value


def _hex(value: bytes | bytearray | memoryview) -> str:
    return bytes(value).hex().upper()


def _jsonable(value: object) -> object:
    """`value` as what JSON can hold: NaN/±Infinity → None, blobs → hex, lists/structs/maps element by element,
    anything else (decimals, dates, UUIDs, intervals) → its str."""
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, bytes | bytearray | memoryview):
        return _hex(value)
    if isinstance(value, dict):
        return {k if isinstance(k, str) else str(_jsonable(k)): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, timedelta):
        return iso_duration(value)
    return str(value)


def json_columns(description: list | None) -> frozenset[str]:
    """The columns of SQL type JSON in a cursor's description (`write_records` prints their values, not text)."""
    return frozenset(column[0] for column in description or [] if str(column[1]) == "JSON")


def _json_value(text: object) -> object:
    """A JSON column's text as the value it holds (kept as text if it is not JSON)."""
    if not isinstance(text, str):
        return _jsonable(text)
    try:
        return json.loads(text)
    except ValueError:
        return text


def iso_duration(value: timedelta) -> str:
    """An interval as ISO 8601 (`P1DT3H`, `-PT0.5S`), not Python's `1 day, 3:00:00`."""
    sign, value = ("-", -value) if value < timedelta(0) else ("", value)
    hours, rest = divmod(value.seconds, 3600)
    minutes, seconds = divmod(rest, 60)
    fraction = f"{seconds + value.microseconds / 1e6:g}" if value.microseconds else str(seconds)
    clock = "".join(f"{n}{unit}" for n, unit in ((hours, "H"), (minutes, "M")) if n)
    clock += f"{fraction}S" if seconds or value.microseconds else ""
    days = f"{value.days}D" if value.days else ""
    if not days and not clock:
        return "PT0S"
    return f"{sign}P{days}" + (f"T{clock}" if clock else "")


def cell_text(value: object) -> str:
    """A value as a table cell: lists, structs and maps as JSON, intervals as ISO 8601, NULL as NULL."""
    if value is None:
        return "NULL"
    if isinstance(value, list | tuple | dict):
        return json.dumps(_jsonable(value), ensure_ascii=False)
    if isinstance(value, timedelta):
        return iso_duration(value)
    return str(value)


def parse_time(value: str | None, option: str) -> datetime | None:
    """An ISO date or date-time (`2024-05-01`, `2024-05-01T12:00`, `…+03:00`); no zone means UTC. Anything else
    is a usage error naming `option` (status 2)."""
    if value is None:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise usage(f"{option} {value!r} is not a date or date-time (YYYY-MM-DD[THH:MM[:SS]][+HH:MM])") from None
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
