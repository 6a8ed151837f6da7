"""What `wirecopy ingest` and `reprocess` show besides their summary: the --dry-run plan and progress bars."""

from __future__ import annotations

import json
import stat
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import NamedTuple

from rich import box
from rich.markup import escape
from rich.table import Table

from wirecopy.cli_output import cli_settings, console, progress_bar


class PlanRow(NamedTuple):
    """One input of a dry run: `outlet` is None when there is none (an input error, or the outlet rule failed),
    `error` then says why; `record_outlet`: a JSONL record may name its own outlet instead."""

    input: str
    kind: str
    outlet: str | None
    record_outlet: bool = False
    error: str | None = None

    def shown_outlet(self) -> str:
        """The outlet column of the table."""
        if self.outlet is None:
            return f"error: {self.error}" if self.kind != "error" else self.error or ""
        return f"{self.outlet} (or the record's outlet field)" if self.record_outlet else self.outlet


def plan_rows(
    sources: list[str], outlet: str | None, *, follow_symlinks_outside_root: bool | None = None
) -> list[PlanRow]:
    """Every input an ingest of `sources` would read, in ingest order, without reading any file or fetching any
    URL. A JSONL record may name its own outlet (unless --outlet is given). Files are listed as the ingest lists
    them: `follow_symlinks_outside_root` defaults to the configured setting, and names are given as the ingest
    records them (a byte that is not UTF-8 escaped, `caf\\xe9.txt`)."""
    from wirecopy.connectors.files import EXTENSION_KINDS
    from wirecopy.connectors.http import outlet_for_url
    from wirecopy.connectors.outlets import MetadataError, outlet_for
    from wirecopy.connectors.sources import is_url, plan_files

    if follow_symlinks_outside_root is None:
        follow_symlinks_outside_root = cli_settings(None).follow_symlinks_outside_root
    urls = [s.strip() for s in sources if is_url(s)]
    paths = [s for s in sources if not is_url(s)]
    planned, errors = plan_files(paths, follow_symlinks_outside_root=follow_symlinks_outside_root)
    rows = []
    for path, root in planned:
        # another or no extension: HTML, JSON Lines or text by its content, which a dry run does not read
        known = EXTENSION_KINDS.get(path.suffix.lower())
        kind = known.value if known else (f"sniffed ({path.suffix})" if path.suffix else "sniffed")
        problem = _unreadable(path)
        if problem is not None:
            rows.append(_row(str(path), "error", None, error=problem))
            continue
        try:
            name, problem = outlet or outlet_for(path, root=root), None
        except MetadataError as error:
            name, problem = None, str(error)
        rows.append(_row(str(path), kind, name, kind == "jsonl" and outlet is None and name is not None, problem))
    rows += [_row(url, "url (a feed expands to its articles)", outlet or outlet_for_url(url)) for url in urls]
    rows += [_row(error.source_uri, "error", None, error=error.reason) for error in errors]
    return rows


def _row(source: str, kind: str, outlet: str | None, record_outlet: bool = False, error: str | None = None) -> PlanRow:
    """A plan row with its names as the ingest records them: valid UTF-8, a file name's odd byte escaped."""
    from wirecopy.models import escape_surrogates

    def safe(text: str | None) -> str | None:
        return None if text is None else escape_surrogates(text)

    return PlanRow(safe(source), kind, safe(outlet), record_outlet, safe(error))


def _unreadable(path: Path) -> str | None:
    """Why the ingest will refuse `path` before reading it, in its words (`files.read_file`): it is gone (a broken
    symlink), cannot be looked at, or is no regular file (a FIFO, a socket, a device); None for a regular file."""
    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        return f"{path} does not exist"
    except OSError as error:
        return f"cannot read {path}: {error.strerror or error}"
    return None if stat.S_ISREG(mode) else f"{path} is not a regular file"


def print_plan(rows: list[PlanRow], *, as_json: bool = False) -> None:
    """The dry-run plan: a table and the distinct outlets, or (`as_json`) one JSON object on stdout."""
    outlets = sorted({row.outlet for row in rows if row.outlet is not None})
    by_records = any(row.record_outlet for row in rows)
    if as_json:
        plan = {"dry_run": True, "inputs": [row._asdict() for row in rows], "outlets": outlets}
        sys.stdout.write(json.dumps(plan, ensure_ascii=False) + "\n")
        return
    table = Table("input", "kind", "outlet", box=box.SIMPLE_HEAD, title=f"dry run: {len(rows)} inputs, nothing read")
    for row in rows:
        table.add_row(escape(row.input), escape(row.kind), escape(row.shown_outlet()))
    console.print(table)
    more = " (JSONL records may name others)" if by_records else ""
    console.print(f"{len(outlets)} outlets: {escape(', '.join(outlets))}{more}", highlight=False, soft_wrap=True)


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


def api_went_away(error: BaseException) -> bool:
    """Whether `error` is, or was raised while handling, a failed connection to the Prefect API (its server stopped
    during the run: the flow's own work went on; reporting its states did not)."""
    import httpx

    from wirecopy.warehouse.runs import exception_chain

    return any(isinstance(link, httpx.TransportError) for link in exception_chain(error))


def outcome_in_warehouse(db: Path, run_id: str, *, wait_seconds: float):
    """The run's summary as the warehouse recorded it (`RunSummary`, with its failures' messages); None when the
    warehouse has no row for it."""
    from wirecopy.models import RunSummary
    from wirecopy.warehouse import sql
    from wirecopy.warehouse.db import session

    if not db.exists():
        return None
    with session(db, read_only=True, wait_seconds=wait_seconds) as con:
        row = con.execute(sql.RUN_OUTCOME, {"run_id": run_id}).fetchone()
        if row is None:
            return None
        messages = [m for (m,) in con.execute(sql.RUN_ERROR_MESSAGES, {"run_id": run_id}).fetchall()]
    status, inputs, new, seen, paragraphs, exact, near, containment, removed, errors, deferred, seconds, stages = row
    return RunSummary(
        run_id=run_id, status=status, inputs=inputs or 0, documents_new=new or 0, documents_seen=seen or 0,
        paragraphs=paragraphs or 0,
        duplicates={"exact": exact or 0, "near": near or 0, "containment": containment or 0},
        boilerplate_removed=removed or 0, errors=errors or 0, feed_entries_deferred=deferred or 0,
        seconds=seconds or 0.0, stage_seconds=json.loads(stages or "{}"), error_messages=messages,
    )  # fmt: skip
