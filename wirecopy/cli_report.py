"""`wirecopy report`: the syndication report as one offline HTML file."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from pydantic import ValidationError
from rich.markup import escape

from wirecopy.cli_output import (
    DbOption,
    WaitOption,
    check_output_file,
    cli_settings,
    console,
    fail,
    parse_time,
    progress_bar,
    usage,
    warehouse_errors,
)

OPTIONS = {"since": "--since", "until": "--until", "outlets": "--outlet", "top_clusters": "--top"}
"""The command-line option of each ReportOptions field it sets."""


def report(
    db: DbOption = None,
    out: Annotated[Path, typer.Option("--out", "-o", help="HTML file to write")] = Path("report.html"),
    since: Annotated[str | None, typer.Option(help="paragraphs published from (YYYY-MM-DD[THH:MM], UTC)")] = None,
    until: Annotated[str | None, typer.Option(help="paragraphs published before (YYYY-MM-DD[THH:MM], UTC)")] = None,
    outlet: Annotated[
        list[str] | None, typer.Option("--outlet", help="only copies made or suffered by this outlet (repeatable)")
    ] = None,
    top: Annotated[int, typer.Option(min=0, help="clusters shown side by side")] = 10,
    wait: WaitOption = None,
) -> None:
    """Write the syndication report: who copies whom, how fast, originality per outlet, timeline, top clusters
    side by side, boilerplate removed and recent runs, as one self-contained HTML file (no network needed)."""
    from wirecopy.reports.build import write_report
    from wirecopy.reports.data import STEPS, ReportOptions, UnknownOutlets
    from wirecopy.warehouse.db import WarehouseBusy, WarehouseMissing

    try:
        options = ReportOptions(
            since=parse_time(since, "--since"), until=parse_time(until, "--until"), outlets=tuple(outlet or ()),
            top_clusters=top,
        )  # fmt: skip
    except ValidationError as error:
        raise usage("; ".join(_problem(e) for e in error.errors())) from None
    settings = cli_settings(db)
    seconds = settings.sql_wait_seconds if wait is None else wait
    check_output_file(out)
    try:
        with progress_bar("report", len(STEPS) + 1, unit="steps") as advance, warehouse_errors(settings.db):
            result = write_report(
                settings.db, out, options, wait_seconds=seconds, on_step=lambda name: advance(description=name),
                file_mode=settings.file_mode_bits,  # it quotes articles: no more readable than the warehouse
            )  # fmt: skip
    except WarehouseMissing as error:
        raise fail(str(error)) from None
    except UnknownOutlets as error:
        raise usage(f"--outlet: {error}") from None
    except WarehouseBusy:
        raise fail(
            f"the warehouse {settings.db} is held read-write by another program (waited {seconds:g}s): "
            "try again, or wait longer with --wait SECONDS"
        ) from None
    except OSError as error:
        raise fail(f"cannot write the report to --out {out}: {error}") from None
    console.print(
        f"report → {escape(str(result.path))} ({result.bytes / 1024:,.0f} KB, {result.syndicated_clusters:,} "
        f"syndicated clusters, {result.seconds:.2f}s)",
        highlight=False,
    )


def _problem(error: dict) -> str:
    """One validation error of ReportOptions, naming the option it came from."""
    message = error["msg"].removeprefix("Value error, ")
    field = error["loc"][0] if error.get("loc") else None
    return f"{OPTIONS[field]}: {message}" if field in OPTIONS else message
