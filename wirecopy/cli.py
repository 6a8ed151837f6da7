"""`wirecopy` command line: ingest sources, query the warehouse, inspect runs and configuration."""

from __future__ import annotations

import atexit
import codecs
import copy
import gc
import importlib
import json
import logging
import os
import sys
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer
import typer.core
from rich.markup import escape
from rich.table import Table
from typer.core import TyperGroup

from wirecopy import cli_output
from wirecopy.cli_output import (
    DbOption,
    Failed,
    WaitOption,
    cell_text,
    check_format,
    cli_settings,
    console,
    err_console,
    fail,
    json_columns,
    usage,
    warehouse_errors,
    warehouse_failure,
    write_records,
)

VERBOSE_HELP = "show Prefect and debug logs, and the traceback of an error"


def _verbose_given(ctx: typer.Context, param: typer.CallbackParam, value: bool) -> bool:
    if value:
        _prefect_defaults(True)
    return value


def _with_verbose(command: typer.core.TyperCommand | TyperGroup, option: typer.CallbackParam) -> None:
    """Let `command` (and every command of a group) take -v/--verbose after its name too: `wirecopy ingest … -v`."""
    if not any(param.name == "verbose" for param in command.params):
        command.params.append(option)
    for sub in getattr(command, "commands", {}).values():
        _with_verbose(sub, option)


class _Commands(TyperGroup):
    """The top-level group: its -v/--verbose is taken after any command as well."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        (before,) = [param for param in self.params if param.name == "verbose"]
        after = copy.copy(before)  # the same option, handled by its callback instead of passed to the command
        after.expose_value, after.callback = False, _verbose_given
        for command in self.commands.values():
            _with_verbose(command, after)


app = typer.Typer(
    cls=_Commands,
    help="Ingest news text, strip boilerplate, deduplicate paragraphs, query with SQL.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


CONSOLE_LEVEL = "PREFECT_LOGGING_HANDLERS_CONSOLE_LEVEL"
_verbose = False

# When the command ends, the interpreter's last garbage collections would traverse every object an ingest left
# (Prefect's, the warehouse's): ≈ 0.4 s after 100k paragraphs, for memory the OS takes back at exit anyway.
# Frozen objects are left out of them; every exit handler still runs and files are still closed.
atexit.register(gc.freeze)


def _prefect_defaults(verbose: bool) -> None:
    """Keep Prefect's state under the project, send INFO logs to the Prefect API (the UI shows them) and keep
    the terminal quiet (the CLI prints summaries and errors itself) unless -v or the user said otherwise."""
    global _verbose
    _verbose = cli_output.verbose = verbose
    os.environ.setdefault("PREFECT_HOME", str(Path.cwd() / ".prefect"))
    os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "90")
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    os.environ.setdefault("PREFECT_LOGGING_LEVEL", "INFO")
    if verbose:
        os.environ["PREFECT_LOGGING_LEVEL"] = os.environ[CONSOLE_LEVEL] = "INFO"
        logging.basicConfig(level=logging.INFO)
    else:
        os.environ.setdefault(CONSOLE_LEVEL, "CRITICAL")


@app.callback()
def main(verbose: Annotated[bool, typer.Option("--verbose", "-v", help=VERBOSE_HELP)] = False) -> None:
    _prefect_defaults(verbose)


EXIT_CODES = """Exit status: 0 every input ingested or already stored; 1 the run failed (nothing or only part of it
    was committed; the next run goes on); 2 usage error; 3 some inputs failed (their error rows are written,
    the rest is ingested)."""


@app.command(help=f"Run the ingest flow over SOURCES and print a summary.\n\n{EXIT_CODES}")
def ingest(
    sources: Annotated[list[str], typer.Argument(help="files, directories, globs or http(s) URLs")],
    db: DbOption = None,
    remote: Annotated[
        bool,
        typer.Option("--remote", help="run on the Prefect server (PREFECT_API_URL, else `wirecopy server`'s) and wait"),
    ] = False,
    timeout: Annotated[float, typer.Option(min=0, help="with --remote: seconds to wait for the run")] = 3600.0,
    outlet: Annotated[
        str | None, typer.Option("--outlet", help="record every input under this outlet (instead of the outlet rule)")
    ] = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="list each input with its kind and outlet; read and write nothing")
    ] = False,
    as_json: Annotated[
        bool,
        typer.Option("--json", help="print the run summary (the plan with --dry-run, the error) as JSON on stdout"),
    ] = False,
    engine: Annotated[
        str | None, typer.Option(help="read and clean in local processes or on dask; default: compute.engine")
    ] = None,
    workers: Annotated[
        int | None, typer.Option(min=1, help="worker processes for reading and cleaning; default: compute.workers")
    ] = None,
) -> None:
    """Run the ingest flow over SOURCES and print a summary (exit 3 when some inputs failed)."""
    if remote and db is not None:
        raise usage("--db does not go with --remote: the server's configuration names its warehouse")
    if outlet is not None and not outlet.strip():
        raise usage("--outlet must not be empty")
    outlet = outlet.strip() if outlet is not None else None  # as a sidecar's or a record's outlet
    if engine is not None and engine.lower() not in ("local", "dask"):
        raise usage(f"--engine must be local or dask, not {engine!r}")
    compute = {k: v for k, v in {"engine": engine and engine.lower(), "workers": workers}.items() if v is not None}
    if remote and (outlet is not None or compute):
        raise usage("--outlet, --engine and --workers do not go with --remote: its deployment takes only sources")
    from wirecopy.cli_ingest import flow_progress, plan_rows, print_plan

    if dry_run:
        rows = plan_rows(sources, outlet)
        print_plan(rows, as_json=as_json)
        if any(row.error for row in rows):
            raise typer.Exit(code=3)  # as the ingest would: some inputs would fail
        return
    target: str | None = None
    api_gone = False
    try:
        settings = cli_settings(db)
        target = None if remote else str(settings.db)
        if not remote:
            _check_target(settings.db)
        with _interruptible():
            if remote:
                summary, target = _ingest_remote(sources, db, settings, timeout)
            else:
                progress = flow_progress("ingest", "inputs", quiet=_verbose)
                arguments = {"sources": sources, "db": str(settings.db), "outlet": outlet, **compute}
                with progress, _flow_errors(), _ahead_discarded(), _api(settings, lambda: _prepare_ahead(arguments)):
                    from wirecopy.flows.ingest import ingest as ingest_flow

                    run_id = uuid.uuid4().hex  # to read the outcome from the warehouse, should the API go away
                    try:
                        summary = ingest_flow(**arguments, run_id=run_id)
                    except Exception as error:
                        summary, api_gone = _outcome_without_api(error, settings, run_id), True
    except Failed as failure:
        if as_json:
            _write_json({"status": failure.status, "error": failure.message, "warehouse": target})
        raise
    if as_json:  # with --remote the warehouse is the server's; `remote` names the server and the flow run
        _write_json(summary.model_dump(mode="json") | ({"warehouse": None, "remote": target} if remote else
                                                        {"warehouse": target}))  # fmt: skip
        for message in summary.error_messages:
            err_console.print(f"[yellow]input error:[/yellow] {escape(message)}", highlight=False, soft_wrap=True)
    else:
        _print_summary(summary, f"ingest → {target}")
    if api_gone:  # Prefect's log and event workers would retry the dead API for minutes before the exit
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(3 if summary.errors else 0)
    if summary.errors:
        raise typer.Exit(code=3)


def _outcome_without_api(error: Exception, settings, run_id: str):
    """When the Prefect server stopped answering during the run (`wirecopy server` restarted, say), the run's own
    work went on: its outcome is what the warehouse recorded. Any other error is raised as it is."""
    from wirecopy.cli_ingest import api_went_away, outcome_in_warehouse

    if not api_went_away(error):
        raise error
    api = os.environ.get("PREFECT_API_URL", "the Prefect API")
    outcome = outcome_in_warehouse(settings.db, run_id, wait_seconds=settings.sql_wait_seconds)
    if outcome is None or outcome.status != "completed":
        recorded = f"recorded as {outcome.status}" if outcome else "not recorded: it did not start"
        raise fail(f"the Prefect server at {api} stopped answering during the run ({type(error).__name__}: {error}); "
                   f"the run is {recorded} in the warehouse (`wirecopy runs`)")  # fmt: skip
    warning = (f"the Prefect server at {api} stopped answering during the run; the run completed (the warehouse says "
               "so), its record in Prefect is incomplete")  # fmt: skip
    err_console.print(f"[yellow]warning:[/yellow] {escape(warning)}", highlight=False, soft_wrap=True)
    return outcome


def _write_json(data: dict) -> None:
    sys.stdout.write(json.dumps(data, ensure_ascii=False) + "\n")


@contextmanager
def _interruptible() -> Iterator[None]:
    """SIGTERM and Ctrl-C end the command the same way: the flow stops (its run is recorded `interrupted`), the
    writer lock is released and the temporary Prefect server stops, instead of the process dying with them
    orphaned. Ctrl-C is turned into SIGTERM, which Prefect's flow engine turns into its own termination (a
    KeyboardInterrupt raised inside a task can be taken for the task's crash and the flow would go on)."""
    import signal

    previous = signal.signal(signal.SIGTERM, _interrupt), signal.signal(signal.SIGINT, _as_sigterm)
    try:
        yield
    except KeyboardInterrupt:
        raise fail("interrupted: the run is recorded as interrupted; what it committed stays", "interrupted") from None
    finally:
        signal.signal(signal.SIGTERM, previous[0])
        signal.signal(signal.SIGINT, previous[1])


def _as_sigterm(signum, frame) -> None:
    import signal

    os.kill(os.getpid(), signal.SIGTERM)


def _use_running_server(settings) -> str | None:
    """Run the flow against a Prefect server that is already up, not a temporary one of its own (whose start costs
    5–20 s): PREFECT_API_URL when set, else `wirecopy server`'s address when it answers its health check (a
    refused connection answers at once). Returns the API URL used, or None (Prefect starts a temporary server)."""
    from wirecopy.server import healthy, port_in_use

    if os.environ.get("PREFECT_API_URL"):
        return os.environ["PREFECT_API_URL"]
    server = settings.server
    if port_in_use(server.host, server.port) and healthy(server.api_url, timeout=2.0):
        os.environ["PREFECT_API_URL"] = server.api_url
        return server.api_url
    return None


def _ingest_remote(sources: list[str], db: Path | None, settings, timeout: float):
    """Submit to the ingest-adhoc deployment; returns (RunSummary, where it ran)."""
    from wirecopy.server import healthy

    api_url = os.environ.get("PREFECT_API_URL") or settings.server.api_url
    if not healthy(api_url):
        raise fail(
            f"no Prefect server answers at {api_url}: start one with `wirecopy server`, or name yours with "
            "PREFECT_API_URL (or the server.port setting, WIRECOPY_SERVER__PORT)"
        )
    os.environ["PREFECT_API_URL"] = api_url
    from wirecopy.connectors.sources import absolute, unsupported_url
    from wirecopy.deployments.remote import RemoteRunError, run_remote
    from wirecopy.deployments.serve import deployment_names

    parameters: dict = {
        "sources": [s if _looks_like_url(s) or unsupported_url(s) else str(absolute(Path(s))) for s in sources]
    }
    import httpx

    with _progress("submitted") as progress:
        try:
            run = run_remote(
                deployment_names()["adhoc"],
                parameters,
                timeout=timeout,
                on_state=lambda state: progress.update(progress.task_ids[0], description=f"remote run {state.lower()}"),
            )
        except RemoteRunError as error:
            raise fail(str(error), error.status) from None
        except httpx.HTTPError as error:
            raise fail(f"lost the Prefect server at {api_url}: {error}") from None
    return run.result, f"{api_url} (flow run {run.flow_run_id})"


@contextmanager
def _progress(description: str) -> Iterator:
    """A spinner with elapsed time on stderr (on terminals only; not in pipes nor with -v, whose logs it would mix)."""
    from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    quiet = _verbose or not err_console.is_terminal
    progress = Progress(
        SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn(),
        console=err_console, transient=True, disable=quiet,
    )  # fmt: skip
    with progress:
        progress.add_task(description, total=None)
        yield progress


def _print_summary(summary, title: str) -> None:
    from wirecopy.reports import summary_rows

    table = Table(title=title, show_header=False)
    for name, value in summary_rows(summary):
        table.add_row(name, escape(value))
    console.print(table)
    for message in summary.error_messages:
        err_console.print(f"[yellow]input error:[/yellow] {escape(message)}", highlight=False, soft_wrap=True)


def _looks_like_url(source: str) -> bool:
    from wirecopy.connectors.sources import is_url

    return is_url(source)


@contextmanager
def _reader(settings, wait: float | None) -> Iterator:
    """A read-only connection to the published warehouse that cannot touch any other file (wirecopy/query.py),
    waiting a bounded time while another program holds the file read-write."""
    import duckdb

    from wirecopy.query import READ_ONLY_CONFIG
    from wirecopy.warehouse.db import WarehouseBusy, WarehouseMissing, connect

    seconds = settings.sql_wait_seconds if wait is None else wait
    try:
        con = connect(settings.db, read_only=True, wait_seconds=seconds, config=READ_ONLY_CONFIG)
    except WarehouseMissing as error:
        raise fail(str(error)) from None
    except WarehouseBusy:
        raise fail(
            f"the warehouse {settings.db} is held read-write by another program (waited {seconds:g}s): "
            "try again, or wait longer with --wait SECONDS"
        ) from None
    except duckdb.Error as error:
        if _verbose:
            raise
        raise warehouse_failure(settings.db, error) from None
    try:
        yield con
    finally:
        con.close()


@app.command("sql")
def sql_command(
    query: Annotated[str, typer.Argument(help="a SQL query, or - to read it from stdin")],
    db: DbOption = None,
    output: Annotated[str, typer.Option("--format", "-f", help="table | csv | json")] = "table",
    limit: Annotated[int, typer.Option(min=0, help="rows shown at most in table format")] = 200,
    wait: WaitOption = None,
) -> None:
    """Run QUERY against the published warehouse and print the result (`-` reads the query from stdin).

    Only queries run (SELECT, WITH, VALUES, DESCRIBE, SHOW, SUMMARIZE, EXPLAIN): COPY, EXPORT, ATTACH, INSTALL,
    LOAD, SET, PRAGMA, DDL and DML are refused, and the connection can read no file but the warehouse.

    json is always valid JSON: NaN and ±Infinity are null; in csv and json a blob is its bytes in upper-case hex
    (as SQL hex()); a JSON column comes out as its value in json; an interval is ISO 8601 (P1DT3H) in every
    format. One statement at a time.
    """
    output = check_format(output)
    if query == "-":
        data = sys.stdin.buffer.read()
        try:
            query = data.decode("utf-8-sig")
        except UnicodeDecodeError as error:
            bom = len(codecs.BOM_UTF8) if data.startswith(codecs.BOM_UTF8) else 0
            raise usage(f"the SQL on stdin is not UTF-8 text (byte {bom + error.start + 1} of {len(data)})") from None
        if not query.strip():
            raise usage("no SQL on stdin (`wirecopy sql -` reads the query from stdin)")
    import duckdb

    from wirecopy.query import EmptyQuery, QueryRefused, check_query

    try:
        statements = check_query(query)
    except EmptyQuery as error:
        raise usage(str(error)) from None
    except QueryRefused as error:
        raise fail(str(error)) from None
    if statements > 1:  # DuckDB would run them all and return the last result only
        raise usage(f"one statement at a time: the query holds {statements} (run each with its own wirecopy sql)")
    settings = cli_settings(db)
    try:
        with _reader(settings, wait) as con:
            cursor = con.execute(query)
            columns = [d[0] for d in cursor.description or []]
            as_json = json_columns(cursor.description)
            rows = cursor.fetchall()
    except duckdb.Error as error:
        raise fail(f"query failed: {error}") from None
    _print_rows(columns, rows, output, limit, as_json)


def _print_rows(
    columns: list[str], rows: list[tuple], output: str, limit: int, json_columns: frozenset[str] = frozenset()
) -> None:
    if not write_records(columns, rows, output, json_columns):
        table = Table(*columns)
        for row in rows[:limit]:
            table.add_row(*(escape(cell_text(v)) for v in row))
        console.print(table)
        if len(rows) > limit:
            console.print(f"({len(rows)} rows, {limit} shown)")


@app.command()
def stats(
    db: DbOption = None,
    output: Annotated[str, typer.Option("--format", "-f", help="table | csv | json")] = "table",
    wait: WaitOption = None,
) -> None:
    """Row counts per table and duplicate links per method (json: {"tables": {…}, "links": {…}}; csv: one row per
    count, `section,name,count`)."""
    output = check_format(output)
    from wirecopy.warehouse import sql

    settings = cli_settings(db)
    with _reader(settings, wait) as con, warehouse_errors(settings.db):
        present = {row[0] for row in con.execute(sql.PRESENT_TABLES).fetchall()}
        counts = [(table, con.execute(sql.TABLE_COUNT.format(table=table)).fetchone()[0])
                  for table in sql.COUNTED_TABLES if table in present]  # fmt: skip
        methods = con.execute(sql.LINKS_BY_METHOD).fetchall()
    if output == "json":
        _write_json({"tables": dict(counts), "links": dict(methods)})
    elif output == "csv":
        rows = [("tables", name, n) for name, n in counts] + [("links", name, n) for name, n in methods]
        write_records(["section", "name", "count"], rows, "csv")
    else:
        _print_rows(["table", "rows"], counts, "table", 100)
        _print_rows(["method", "links"], methods, "table", 100)


@app.command()
def runs(
    db: DbOption = None,
    limit: Annotated[int, typer.Option(min=0, help="how many runs")] = 20,
    output: Annotated[str, typer.Option("--format", "-f", help="table | csv | json")] = "table",
    wait: WaitOption = None,
) -> None:
    """The most recent ingest runs (table: short run ids, times to the second, UTC)."""
    output = check_format(output)
    from wirecopy.warehouse import sql

    settings = cli_settings(db)
    with _reader(settings, wait) as con, warehouse_errors(settings.db):
        cursor = con.execute(sql.RECENT_RUNS, {"limit": limit})
        columns = [d[0] for d in cursor.description]
        as_json = json_columns(cursor.description)
        rows = cursor.fetchall()
    if output != "table":
        _print_rows(columns, rows, output, limit, as_json)
        return
    from rich import box

    short = {"run_id": "run", "started_at": "started (UTC)", "inputs": "in", "documents_new": "docs",
             "paragraphs_new": "paras", "errors": "err", "seconds": "secs"}  # fmt: skip
    table = Table(box=box.SIMPLE_HEAD, pad_edge=False, collapse_padding=True)
    shown = [i for i, column in enumerate(columns) if column != "error"]  # printed below the table: it is long
    for i in shown:
        table.add_column(short.get(columns[i], columns[i]), no_wrap=True)
    for row in rows:
        table.add_row(*("NULL" if row[i] is None else escape(str(_compact(row[i]))) for i in shown))
    console.print(table)
    for row in rows:
        record = dict(zip(columns, row, strict=True))
        if record.get("error"):
            console.print(f"{escape(_compact(record['run_id']))}: {escape(record['error'])}", highlight=False,
                          soft_wrap=True)  # fmt: skip


def _compact(value):
    from datetime import UTC, datetime

    if isinstance(value, datetime):
        return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, str) and len(value) == 32 and all(c in "0123456789abcdef" for c in value):
        return value[:8]  # run ids are 32 hex digits; 8 identify a run in practice
    return value


@app.command(
    "inbox",
    help="Ingest the files settled in the inbox, once (what the ingest-inbox deployment does on its "
    "schedule).\n\nExit status: 0 every settled file ingested (or none settled); 1 the run failed; 2 usage "
    "error; 3 some files failed (moved to .failed/ with the reason).",
)
def inbox_command(
    db: DbOption = None,
    directory: Annotated[Path | None, typer.Option("--dir", help="inbox directory (default: inbox.dir)")] = None,
) -> None:
    settings = cli_settings(db)
    _check_target(settings.db)
    if not (directory or settings.inbox.dir).is_dir():
        raise fail(f"no inbox directory {directory or settings.inbox.dir} (setting inbox.dir, or --dir)")
    with _progress("ingesting the inbox"), _interruptible(), _flow_errors(), _api(settings, "wirecopy.flows.inbox"):
        from wirecopy.flows.inbox import inbox as inbox_flow

        outcome = inbox_flow(directory=str(directory) if directory else None, db=str(settings.db))
    table = Table(title=f"inbox {directory or settings.inbox.dir} → {settings.db}", show_header=False)
    table.add_row("claim", escape(outcome.claim_id or "nothing settled"))
    table.add_row("ingest run", escape(outcome.run_id or "-"))
    table.add_row("files done / failed", f"{len(outcome.done)} / {len(outcome.failed)}")
    table.add_row("record errors in done files", str(len(outcome.record_errors)))
    table.add_row("files waiting (not settled yet)", str(outcome.waiting))
    console.print(table)
    for name, reason in outcome.failed.items():
        err_console.print(f"[yellow]failed:[/yellow] {escape(name)}: {escape(reason)}", highlight=False, soft_wrap=True)
    for message in outcome.record_errors:
        err_console.print(f"[yellow]input error:[/yellow] {escape(message)}", highlight=False, soft_wrap=True)
    if outcome.failed or outcome.record_errors:
        raise typer.Exit(code=3)  # as `ingest` when some inputs failed


def _prepare_ahead(arguments: dict) -> None:
    """Before the flow run (while a temporary server starts, if one does): start preparing the files' first
    batches (`wirecopy.flows.prepared`, no Prefect: its thread starts at once), then import the ingest flow. A
    failure of the work ahead only means the run prepares them itself."""
    from wirecopy.flows.prepared import prepare_ahead

    try:
        prepare_ahead(**arguments)
    except Exception as error:
        logging.getLogger(__name__).debug("nothing prepared ahead: %s: %s", type(error).__name__, error)
    import wirecopy.flows.ingest  # noqa: F401  (Prefect and the flow, while the work ahead runs)

    for name in FLOW_RUN_IMPORTS:
        importlib.import_module(name)


FLOW_RUN_IMPORTS = ("prefect.flow_engine", "prefect.task_engine", "fastapi.encoders", "pyarrow.dataset")
"""What a flow run imports only when it starts (Prefect's engines, its client's JSON encoder, DuckDB's Arrow scan):
≈ 0.2 s on the critical path after a temporary server answers, imported while it starts instead."""


@contextmanager
def _ahead_discarded() -> Iterator[None]:
    """Work prepared ahead that the run did not claim (it failed first) is stopped when the command ends."""
    try:
        yield
    finally:
        if "wirecopy.flows.ahead" in sys.modules:
            from wirecopy.flows.ahead import discard_unclaimed

            discard_unclaimed()


@contextmanager
def _api(settings, while_starting: Callable[[], object] | str | None = None) -> Iterator[None]:
    """The Prefect API for this command's flow runs: a running one (PREFECT_API_URL, or `wirecopy server`'s when it
    answers), else a temporary one of its own, stopped however the command ends (wirecopy/server.py).
    `while_starting` runs before the flow (while a temporary server starts, if one does): a callable, or the name
    of a module to import."""

    from wirecopy.server import ServerError, temporary_api

    _use_running_server(settings)
    warm = (lambda: importlib.import_module(while_starting)) if isinstance(while_starting, str) else while_starting
    timeout = settings.server.startup_timeout_seconds
    try:
        with temporary_api(Path(os.environ["PREFECT_HOME"]), timeout=timeout, while_starting=warm):
            from prefect.settings import PREFECT_FLOWS_HEARTBEAT_FREQUENCY, temporary_settings

            # No flow-run heartbeats for a run in this process: they tell a server that a deployment's run is
            # alive, while a CLI run records its own end (a stale run is marked `interrupted`), and the engine
            # joins the heartbeat thread at the end of every run, ≈ 0.5 s (up to 1 s) of a small run's wall time.
            with temporary_settings(updates={PREFECT_FLOWS_HEARTBEAT_FREQUENCY: None}):
                yield
    except ServerError as error:
        raise fail(str(error)) from None


@contextmanager
def _flow_errors() -> Iterator[None]:
    """Expected run failures (warehouse busy, bad configuration) as one error line instead of a traceback."""
    from wirecopy.config import ConfigError
    from wirecopy.warehouse.db import WarehouseBusy

    try:
        yield
    except (WarehouseBusy, ConfigError) as error:
        raise fail(str(error)) from None
    except BaseException as error:
        from wirecopy.warehouse.runs import is_interruption

        if is_interruption(error):
            raise KeyboardInterrupt from None
        if not isinstance(error, Exception) or isinstance(error, typer.Exit):
            raise
        if _verbose:
            raise
        raise fail(f"the run failed: {type(error).__name__}: {error} (-v shows the traceback)") from None


@app.command()
def server(
    db: DbOption = None,
    port: Annotated[int | None, typer.Option(help="port of the Prefect API and UI (default: server.port)")] = None,
) -> None:
    """Start a local Prefect server on 127.0.0.1 and serve the ingest deployments until Ctrl-C."""
    import _thread
    import signal
    import threading
    import warnings

    from wirecopy.server import PrefectServer, ServerError

    settings = cli_settings(db)
    _check_target(settings.db)
    looked_up = settings.server.api_url  # where the other commands look for a running server
    if port is not None:
        settings = settings.model_copy(update={"server": settings.server.model_copy(update={"port": port})})
    if db is not None:  # flow runs read the configuration again: hand --db on
        os.environ["WIRECOPY_DB"] = str(db.absolute())
    settings.inbox.dir.mkdir(parents=True, exist_ok=True)
    home = Path(os.environ["PREFECT_HOME"])
    if not _verbose and os.environ[CONSOLE_LEVEL] == "CRITICAL":  # a server shows flow-run warnings
        os.environ[CONSOLE_LEVEL] = "WARNING"
    prefect_server = PrefectServer(
        settings.server.host, settings.server.port, home, keep_runs_days=settings.server.keep_runs_days
    )
    warnings.filterwarnings("ignore", message="coroutine 'Runner.astop' was never awaited")  # Prefect's SIGTERM path
    stopping, died, interrupted = threading.Event(), threading.Event(), threading.Event()

    def interrupt(signum, frame) -> None:  # Ctrl-C, SIGTERM
        interrupted.set()
        if not _verbose:  # the runner's event loop logs the callbacks the interrupt cancels, with tracebacks
            logging.getLogger("asyncio").setLevel(logging.CRITICAL)
        raise KeyboardInterrupt

    signal.signal(signal.SIGINT, interrupt)
    signal.signal(signal.SIGTERM, interrupt)

    def stop_when_the_prefect_server_dies() -> None:
        prefect_server.process.wait()
        if not stopping.is_set():  # killed, crashed: the deployments cannot be served without it
            died.set()
            _thread.interrupt_main()

    try:
        with _progress(f"starting the Prefect server on {prefect_server.url}"):
            prefect_server.start(timeout=settings.server.startup_timeout_seconds)
        threading.Thread(target=stop_when_the_prefect_server_dies, name="wirecopy-server-watch", daemon=True).start()
        os.environ["PREFECT_API_URL"] = prefect_server.api_url
        _print_banner(settings, prefect_server, looked_up)
        from wirecopy.deployments.serve import serve_deployments

        serve_deployments(settings, owns_api=True)
    except ServerError as error:
        raise fail(str(error)) from None
    except (KeyboardInterrupt, SystemExit):  # Ctrl-C; SIGTERM (Prefect's runner turns it into sys.exit(0))
        pass
    except Exception:  # the runner may give up first once the API stops answering; an interrupt during an
        if not (died.is_set() or interrupted.is_set()) or _verbose:  # import may come wrapped in another error
            raise
    finally:
        stopping.set()
        err_console.print("stopping the Prefect server…", highlight=False)
        prefect_server.stop()
    if died.is_set():  # (the runner may also return or exit quietly once interrupted)
        fail(f"the Prefect server stopped (exit code {prefect_server.process.returncode}), so the "
             f"deployments cannot be served; its log: {prefect_server.log_path}")  # fmt: skip
        _exit_now(1)
    err_console.print("stopped; schedules stay active for the next `wirecopy server`", highlight=False)
    _exit_now(0)


def _exit_now(code: int) -> None:
    """End `wirecopy server` once it has stopped, without the interpreter's teardown: Prefect's runner leaves
    threads behind (its event loop, log and event workers), and a teardown while one of them still runs ended the
    process with SIGSEGV after "stopped" once (a clean-clone CI run of tests/test_ops_server.py). Everything it must
    do is done by then: the Prefect server is stopped, flow runs ran in their own processes."""
    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


def _interrupt(signum, frame) -> None:
    raise KeyboardInterrupt


def _print_banner(settings, prefect_server, looked_up: str) -> None:
    from wirecopy.deployments.serve import deployment_names, describe_schedule

    rows = [
        ("Prefect UI", prefect_server.url),
        ("API", f"{prefect_server.api_url}  (export PREFECT_API_URL=… for the prefect CLI)"),
        ("warehouse", str(settings.db)),
        ("inbox", f"{settings.inbox.dir} (files settle {settings.inbox.settle_seconds:g}s)"),
        ("feeds", f"{len(settings.feeds)} configured"),
    ]
    rows += [(f"serving {name}", describe_schedule(settings, role)) for role, name in deployment_names().items()]
    found_by = (
        ""
        if prefect_server.api_url.rstrip("/") == looked_up.rstrip("/")
        else (
            f"PREFECT_API_URL={prefect_server.api_url} "  # another port than server.port: other commands need the URL
        )
    )
    rows += [
        ("trigger", "prefect deployment run 'ingest/ingest-adhoc' -p sources='[\"/abs/path.txt\"]'"),
        ("", f"{found_by}wirecopy ingest --remote FILES…"),
        ("server log", str(prefect_server.log_path)),
    ]
    table = Table(title="wirecopy server (Ctrl-C stops)", show_header=False)
    for name, value in rows:
        table.add_row(name, escape(value))
    console.print(table)


@app.command()
def config(db: DbOption = None) -> None:
    """Print the effective configuration (defaults < wirecopy.toml < WIRECOPY_* env < flags); the compute settings
    left to their defaults show the values a run on this machine takes."""
    settings = cli_settings(db)
    shown = settings.model_dump(mode="json")
    if settings.compute.address is None:  # an existing Dask cluster has the workers it has
        shown["compute"]["workers"] = settings.compute.worker_count()
    shown["compute"]["queue_batches"] = settings.compute.in_flight()
    sys.stdout.write(json.dumps(shown, indent=2) + "\n")


@app.command()
def reprocess(db: DbOption = None) -> None:
    """Rebuild documents, paragraphs and dedup from the stored raw documents with the current rules and settings.

    No source is read again. The rebuild goes to a new file that replaces the warehouse when complete, so
    queries keep working meanwhile; boilerplate decisions, runs and errors are kept.
    """
    settings = cli_settings(db)
    if not settings.db.exists():
        raise fail(f"no warehouse at {settings.db}: run `wirecopy ingest` first")
    from wirecopy.cli_ingest import flow_progress, stored_raw_documents
    from wirecopy.flows.reprocess import reprocess as reprocess_flow

    total = stored_raw_documents(settings.db)
    progress = flow_progress("reprocess", "documents", total, quiet=_verbose)
    with progress, _interruptible(), _flow_errors(), _api(settings):
        count = reprocess_flow(db=str(settings.db))
    console.print(f"reprocessed {count} raw documents into {escape(str(settings.db))}", highlight=False)


def _check_target(db: Path) -> None:
    """A usage error, before any run starts, when the warehouse file cannot be written there (`--db`, or the
    setting `db`)."""
    from wirecopy.warehouse.db import target_problem

    problem = target_problem(db)
    if problem is not None:
        raise usage(problem)


def _register_subcommands() -> None:
    from wirecopy.cli_boilerplate import app as boilerplate_app
    from wirecopy.cli_export import export
    from wirecopy.cli_report import report

    app.command("report")(report)
    app.command("export")(export)
    boilerplate_help = "learned per-outlet boilerplate: list, keep, drop, reset, history, refresh"
    app.add_typer(boilerplate_app, name="boilerplate", help=boilerplate_help)


_register_subcommands()
