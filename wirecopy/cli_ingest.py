"""What `wirecopy ingest` and `reprocess` show besides their summary: the --dry-run plan and progress bars."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from rich import box
from rich.markup import escape
from rich.table import Table

from wirecopy.cli_output import console, progress_bar

KINDS = {".txt": "text", ".text": "text", ".html": "html", ".htm": "html", ".jsonl": "jsonl"}


def plan_rows(sources: list[str], outlet: str | None) -> list[tuple[str, str, str]]:
    """(input, kind, outlet) for every input an ingest of `sources` would read, in ingest order, without reading
    any file or fetching any URL. A JSONL record may name its own outlet (unless --outlet is given)."""
    from wirecopy.connectors.http import outlet_for_url
    from wirecopy.connectors.outlets import MetadataError, outlet_for
    from wirecopy.connectors.sources import is_url, plan_files

    urls = [s.strip() for s in sources if is_url(s)]
    planned, errors = plan_files([s for s in sources if not is_url(s)])
    rows = []
    for path, root in planned:
        kind = KINDS.get(path.suffix.lower(), path.suffix.lstrip(".") or "file")
        try:
            name = outlet or outlet_for(path, root=root)
        except MetadataError as error:
            name = f"error: {error}"
        if kind == "jsonl" and outlet is None:
            name += " (or the record's outlet field)"
        rows.append((str(path), kind, name))
    rows += [(url, "url (a feed expands to its articles)", outlet or outlet_for_url(url)) for url in urls]
    rows += [(error.source_uri, "error", error.reason) for error in errors]
    return rows


def print_plan(rows: list[tuple[str, str, str]]) -> None:
    table = Table("input", "kind", "outlet", box=box.SIMPLE_HEAD, title=f"dry run: {len(rows)} inputs, nothing read")
    for path, kind, name in rows:
        table.add_row(escape(path), escape(kind), escape(name))
    console.print(table)
    outlets = sorted({name for _, kind, name in rows if kind != "error"})
    console.print(f"{len(outlets)} outlets: {escape(', '.join(outlets))}", highlight=False, soft_wrap=True)


@contextmanager
def flow_progress(stage: str, unit: str, total: int | None = None, *, quiet: bool = False) -> Iterator[None]:
    """A progress bar fed by the flow's `wirecopy.progress.advance(stage, …)` calls."""
    from wirecopy.progress import Step, listening

    with progress_bar(stage, total, unit=unit, quiet=quiet) as bar:

        def on_step(step: Step) -> None:
            if step.stage == stage:
                bar(step.advance, total=step.total)

        with listening(on_step):
            yield


def stored_raw_documents(db: Path) -> int | None:
    """How many raw documents a reprocess will read (None when it cannot tell now)."""
    import duckdb

    from wirecopy.warehouse import sql
    from wirecopy.warehouse.db import session

    try:
        with session(db, read_only=True, wait_seconds=1.0) as con:
            return con.execute(sql.RAW_DOCUMENT_COUNT).fetchone()[0]
    except (duckdb.Error, OSError, RuntimeError):
        return None
