"""`wirecopy boilerplate`: see which recurring texts are left out per outlet, keep or drop them by hand.

A text is named by `--hash` (the `text_hash` shown by `list`), `--paragraph` (any paragraph_id with that
text) or `--text` (the paragraph text, normalised as at ingest). Decisions are appended to
`boilerplate_overrides` (see `history`); `reset` returns a text to what the learned rule says.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from wirecopy.cli_output import (
    DbOption,
    check_format,
    cli_settings,
    console,
    fail,
    usage,
    warehouse_errors,
    write_records,
)

app = typer.Typer(
    help="Learned per-outlet boilerplate: list what is left out, keep or drop a text by hand (reversible).",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
OutletArgument = Annotated[str | None, typer.Argument(help="the outlet (not needed with --paragraph)")]
HashOption = Annotated[int | None, typer.Option("--hash", help="text_hash, as shown by `list`")]
ParagraphOption = Annotated[str | None, typer.Option("--paragraph", help="a paragraph_id with that text")]
TextOption = Annotated[str | None, typer.Option("--text", help="the paragraph text itself")]
NoteOption = Annotated[str | None, typer.Option("--note", help="why (stored with the decision)")]
FormatOption = Annotated[str, typer.Option("--format", "-f", help="table | csv | json")]


def _print(columns: list[str], rows: list[tuple], output: str) -> None:
    if not write_records(columns, rows, output):
        table = Table()
        for name in columns:  # ids are copied into commands: never wrapped or cut
            table.add_column(name, no_wrap=name in _IDS, min_width=20 if name == "text_hash" else None)
        for row in rows:
            table.add_row(*("" if v is None else escape(_short(v)) for v in row))
        console.print(table)


_IDS = frozenset({"text_hash", "decision_id"})


def _short(value: object, width: int = 60) -> str:
    text = str(value)
    return text if len(text) <= width else text[: width - 1] + "…"


@app.command("list")
def list_command(
    outlet: Annotated[str | None, typer.Option("--outlet", help="only this outlet")] = None,
    db: DbOption = None,
    limit: Annotated[int, typer.Option(min=0, help="rows at most")] = 500,
    output: FormatOption = "table",
) -> None:
    """Every text left out as boilerplate (learned or dropped by hand) and every text kept by hand."""
    output = check_format(output)
    from wirecopy.warehouse.boilerplate import boilerplate_status
    from wirecopy.warehouse.db import WarehouseBusy, WarehouseMissing

    settings = cli_settings(db)
    try:
        with warehouse_errors(settings.db):
            columns, rows = boilerplate_status(
                settings.db, outlet=outlet, limit=limit, wait_seconds=settings.lock_wait_seconds
            )
    except (WarehouseMissing, WarehouseBusy) as error:
        raise fail(str(error)) from None
    if output == "table":
        shown = ["outlet", "text_hash", "excluded", "source", "sample_text", "reason"]
        index = [columns.index(name) for name in shown]
        columns, rows = shown, [tuple(row[i] for i in index) for row in rows]
    _print(columns, rows, output)
    if output == "table":
        console.print(f"texts: {len(rows)}")


def _decide(
    decision: str,
    outlet: str | None,
    text_hash: int | None,
    paragraph: str | None,
    text: str | None,
    note: str | None,
    db: Path | None,
) -> None:
    from wirecopy.warehouse.boilerplate import (
        NoOverride,
        UnknownText,
        paragraph_text_key,
        record_decision,
        text_hash_of,
    )
    from wirecopy.warehouse.db import WarehouseBusy, WarehouseMissing
    from wirecopy.warehouse.snapshot import publish, writer_for

    if sum(x is not None for x in (text_hash, paragraph, text)) != 1:
        raise usage("name the text with exactly one of --hash, --paragraph or --text")
    if outlet is None and paragraph is None:
        raise usage("give the OUTLET (or use --paragraph)")
    settings = cli_settings(db)
    wait = settings.lock_wait_seconds
    try:
        with warehouse_errors(settings.db):
            if paragraph is not None:
                found_outlet, text_hash = paragraph_text_key(settings.db, paragraph, wait_seconds=wait)
                if outlet is not None and outlet != found_outlet:
                    raise fail(f"paragraph {paragraph} belongs to outlet {found_outlet!r}, not {outlet!r}")
                outlet = found_outlet
            elif text is not None:
                text_hash = text_hash_of(text)
            if not settings.db.exists():
                raise WarehouseMissing(f"no warehouse at {settings.db}: run `wirecopy ingest` first")
            writer = writer_for(settings)  # decisions go to the writer's file, then to readers by a publish
            decision_id = record_decision(writer, outlet, text_hash, decision, note=note, wait_seconds=wait)
            publish(settings.db, file_mode=settings.file_mode_bits, wait_seconds=wait)
    except (UnknownText, NoOverride, WarehouseMissing, WarehouseBusy) as error:
        raise fail(str(error)) from None
    effect = {
        "content": "kept as content",
        "boilerplate": "left out as boilerplate",
        "learned": "back to the learned rule",
    }[decision]
    console.print(f"decision {decision_id}: outlet {escape(outlet)}, text_hash {text_hash}: {effect}", highlight=False)


def _decision_command(decision: str, summary: str):
    """A `keep` / `drop` / `reset` command: the same options, a different decision recorded."""

    def command(
        outlet: OutletArgument = None,
        text_hash: HashOption = None,
        paragraph: ParagraphOption = None,
        text: TextOption = None,
        note: NoteOption = None,
        db: DbOption = None,
    ) -> None:
        _decide(decision, outlet, text_hash, paragraph, text, note, db)

    command.__doc__ = summary
    return command


app.command("keep")(
    _decision_command(
        "content", "Override: the text is content for OUTLET even if it recurs (undo with `reset` or `drop`)."
    )
)
app.command("drop")(
    _decision_command(
        "boilerplate",
        "Override: the text is boilerplate for OUTLET even if it was not learned (undo with `reset` or `keep`).",
    )
)
app.command("reset")(_decision_command("learned", "Withdraw the override of a text: the learned rule decides again."))


@app.command()
def history(
    outlet: Annotated[str | None, typer.Option("--outlet", help="only this outlet")] = None,
    db: DbOption = None,
    output: FormatOption = "table",
) -> None:
    """Every decision ever recorded, oldest first (the audit trail)."""
    output = check_format(output)
    from wirecopy.warehouse.boilerplate import decision_history
    from wirecopy.warehouse.db import WarehouseBusy, WarehouseMissing

    settings = cli_settings(db)
    try:
        with warehouse_errors(settings.db):
            columns, rows = decision_history(settings.db, outlet=outlet, wait_seconds=settings.lock_wait_seconds)
    except (WarehouseMissing, WarehouseBusy) as error:
        raise fail(str(error)) from None
    _print(columns, rows, output)


@app.command()
def refresh(db: DbOption = None) -> None:
    """Recompute the learned boilerplate now (e.g. after changing the [boilerplate] settings)."""
    from wirecopy.warehouse.boilerplate import refresh_boilerplate
    from wirecopy.warehouse.db import WarehouseBusy, WarehouseMissing

    settings = cli_settings(db)
    learned_settings = settings.boilerplate
    if not settings.db.exists():
        raise fail(str(WarehouseMissing(f"no warehouse at {settings.db}: run `wirecopy ingest` first")))
    from wirecopy.warehouse.snapshot import publish, writer_for

    try:
        with warehouse_errors(settings.db):
            writer = writer_for(settings)
            result = refresh_boilerplate(writer, learned_settings, wait_seconds=settings.lock_wait_seconds, full=True)
            publish(settings.db, file_mode=settings.file_mode_bits, wait_seconds=settings.lock_wait_seconds)
    except WarehouseBusy as error:
        raise fail(str(error)) from None
    console.print(
        f"learned boilerplate (min_docs={learned_settings.min_docs}, window_days={learned_settings.window_days}): "
        f"{result.learned} texts, +{result.added} -{result.removed}, {result.changed} changed",
        highlight=False,
    )
