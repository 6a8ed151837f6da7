"""`wirecopy export`: public tables and views to Parquet, CSV or JSON Lines files, read through a read-only
connection (DuckDB's COPY), one file per table, or one folder of date partitions (`date=YYYY-MM-DD/`, hive
style) for tables larger than `partition_rows`, the same layout in every format. Files appear complete or not
at all (written beside, then renamed). DuckDB, pandas/pyarrow and Spark read both layouts. A new export replaces
an earlier one's file or folder of a table; anything else at those paths stops the export before it writes."""

from __future__ import annotations

import csv
import json
import os
import re
import shutil
import stat
import time
from collections.abc import Callable
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import NamedTuple

import duckdb
import pyarrow.parquet as pq
from pydantic import BaseModel

from wirecopy.warehouse import sql
from wirecopy.warehouse.db import session

SEEN = "coalesce(d.published_at, d.fetched_at)"
RUN_STARTED = "(SELECT r.started_at FROM ingest_runs r WHERE r.run_id = t.run_id)"


class Source(NamedTuple):
    relation: str  # FROM clause; the exported table or view is aliased t
    moment: str  # the time --since filters on and partitions are cut by
    columns: str = "t.*"


# Intervals leave as seconds: Parquet's INTERVAL keeps milliseconds only, and pyarrow and Spark do not read it.
LAGS_IN_SECONDS = (
    "t.* REPLACE (list_transform(t.copies, c -> {'outlet': c.outlet, 'lag_seconds': epoch(c.lag)}) AS copies)"
)

# Content tables are dated by the publication time of their document (published_at, else fetched_at); index
# tables by the start of the run that stored the row; runs, errors and boilerplate by their own time.
TABLES: dict[str, Source] = {
    "paragraph_dedup": Source("paragraph_dedup t JOIN documents d USING (doc_id)", SEEN),
    "clean_corpus": Source("clean_corpus t JOIN documents d USING (doc_id)", SEEN),
    "syndication": Source("syndication t", "t.first_seen_at", LAGS_IN_SECONDS),
    # a raw document that cleaning refused has no `documents` row: it keeps its own times
    "raw_documents": Source(
        "raw_documents t LEFT JOIN documents d USING (doc_id)",
        "coalesce(d.published_at, d.fetched_at, t.published_at, t.fetched_at)",
    ),
    "document_sources": Source("document_sources t", RUN_STARTED),
    "documents": Source("documents t", "coalesce(t.published_at, t.fetched_at)"),
    "paragraphs": Source("paragraphs t JOIN documents d USING (doc_id)", SEEN),
    "duplicate_links": Source(
        "duplicate_links t JOIN paragraphs p USING (paragraph_id) JOIN documents d ON d.doc_id = p.doc_id",
        SEEN,
    ),
    "removed_segments": Source("removed_segments t JOIN documents d USING (doc_id)", SEEN),
    "dedup_texts": Source("dedup_texts t", RUN_STARTED),
    "dedup_edges": Source("dedup_edges t", RUN_STARTED),
    "dedup_conflicts": Source("dedup_conflicts t", RUN_STARTED),
    "outlet_boilerplate": Source("outlet_boilerplate t", "t.last_seen"),
    "boilerplate_overrides": Source("boilerplate_overrides t", "t.decided_at"),
    "ingest_runs": Source("ingest_runs t", "t.started_at"),
    "ingest_errors": Source("ingest_errors t", "t.occurred_at"),
    "run_errors": Source("run_errors t", RUN_STARTED),
}
"""Every public table and view (docs/warehouse.md), in export order."""


HIVE_NULL = "__HIVE_DEFAULT_PARTITION__"
"""The folder value DuckDB's PARTITION_BY gives a NULL date (`date=__HIVE_DEFAULT_PARTITION__`)."""


class ExportFormat(StrEnum):
    parquet = "parquet"
    csv = "csv"
    jsonl = "jsonl"


_COPY_OPTIONS = {
    ExportFormat.parquet: "FORMAT parquet, COMPRESSION zstd",
    ExportFormat.csv: "FORMAT csv, HEADER true",
    ExportFormat.jsonl: "FORMAT json",
}


class ExportFailed(RuntimeError):
    """DuckDB failed to export one table (reading it or writing its files); names the table and the format."""

    def __init__(self, table: str, fmt: ExportFormat, error: Exception) -> None:
        super().__init__(f"cannot export {table} as {fmt.value}: {' '.join(str(error).split())}")
        self.table, self.format = table, fmt


class ExportInTheWay(ValueError):
    """A path an export of a table would replace holds something no earlier export wrote (the user's own files):
    nothing is replaced or written."""

    def __init__(self, table: str, path: Path, reason: str) -> None:
        super().__init__(
            f"{path} is in the way of the {table} export and was not written by an earlier export ({reason}): "
            "it is left as it is; move it, or export into another folder"
        )
        self.table, self.path, self.reason = table, path, reason


class ExportedTable(BaseModel):
    table: str
    rows: int
    path: Path  # a file, or a folder of date=… partitions
    partitioned: bool
    bytes: int


class ExportResult(BaseModel):
    directory: Path
    format: ExportFormat
    tables: list[ExportedTable]
    seconds: float


def _size(path: Path) -> int:
    return path.stat().st_size if path.is_file() else sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def _quoted(path: Path) -> str:
    return "'" + str(path).replace("'", "''") + "'"


def export_tables(
    db: Path,
    out: Path,
    *,
    format: ExportFormat | str = ExportFormat.parquet,
    tables: list[str] | None = None,
    since: datetime | None = None,
    partition_rows: int = 1_000_000,
    wait_seconds: float = 10.0,
    on_table: Callable[[ExportedTable], None] | None = None,
    make_out: Callable[[Path], None] | None = None,
) -> ExportResult:
    """Export `tables` (default: all of TABLES) of `db` into the folder `out`; `since` keeps rows from that time
    on. A table of more than `partition_rows` rows is written as date partitions. `out` is created (by
    `make_out`, default mkdir with parents) only once the warehouse is open: a warehouse that is missing or
    cannot be opened leaves nothing behind. Raises ExportFailed when DuckDB fails on a table."""
    fmt = ExportFormat(str(format).lower())
    names = list(dict.fromkeys(tables or TABLES))
    unknown = [name for name in names if name not in TABLES]
    if unknown:
        raise ValueError(f"unknown table {', '.join(unknown)}: choose from {', '.join(TABLES)}")
    if since is not None and since.tzinfo is None:
        since = since.replace(tzinfo=UTC)
    clock = time.perf_counter()
    done = []
    with session(db, read_only=True, wait_seconds=wait_seconds) as con:
        con.execute("SET TimeZone = 'UTC'")
        con.execute("SET enable_progress_bar = false")  # DuckDB's own bar would print on stdout
        present = {row[0] for row in con.execute(sql.PRESENT_RELATIONS).fetchall()}  # older: fewer tables
        missing = [name for name in names if name not in present]
        if missing and tables:
            raise ExportFailed(", ".join(missing), fmt, LookupError(
                "not in this warehouse: it was written by an older wirecopy, and the next ingest adds it"
            ))  # fmt: skip
        names = [name for name in names if name in present]  # all tables: those this warehouse has
        for name in names:  # before anything is written
            _check_earlier(con, name, out, fmt)
        (make_out or _make_folder)(out)
        for name in names:
            try:
                exported = _export_one(con, name, out, fmt, since, partition_rows)
            except duckdb.Error as error:
                raise ExportFailed(name, fmt, error) from error
            done.append(exported)
            if on_table:
                on_table(exported)
    return ExportResult(directory=out, format=fmt, tables=done, seconds=round(time.perf_counter() - clock, 3))


def _export_one(
    con: duckdb.DuckDBPyConnection, name: str, out: Path, fmt: ExportFormat, since: datetime | None, limit: int
) -> ExportedTable:
    source, moment, columns = TABLES[name]
    where = f"WHERE {moment} >= $since" if since is not None else ""
    params = {"since": since} if since is not None else {}
    select = f"SELECT {columns} FROM {source} {where}"
    flat = _flat_columns(con, f"SELECT {columns} FROM {source} LIMIT 0") if fmt is ExportFormat.csv else None
    rows = con.execute(f"SELECT count(*) FROM ({select})", params).fetchone()[0]
    partitioned = rows > limit
    extension = _extension(fmt)
    target = out / name if partitioned else out / f"{name}.{extension}"
    partial = out / f".{target.name}.partial"
    _remove(partial)
    try:
        if partitioned and fmt is ExportFormat.jsonl:
            copied = _copy_each_day(con, TABLES[name], where, params, partial)
        else:
            if partitioned:
                query = f"SELECT {columns}, CAST({moment} AS DATE) AS date FROM {source} {where}"
                options = f"{_COPY_OPTIONS[fmt]}, PARTITION_BY (date), FILENAME_PATTERN 'part_{{i}}'"
            else:
                query, options = select, _COPY_OPTIONS[fmt]
            if flat:
                query = f"SELECT * REPLACE ({flat}) FROM ({query})"
            copied = con.execute(f"COPY ({query}) TO {_quoted(partial)} ({options})", params).fetchone()[0]
    except BaseException:
        _remove(partial)
        raise
    try:
        _check_earlier(con, name, out, fmt)  # as it is now, just before replacing
    except ExportInTheWay:
        _remove(partial)
        raise
    _remove(out / name)  # either layout of an earlier export
    _remove(out / f"{name}.{extension}")
    partial.replace(target)
    return ExportedTable(table=name, rows=copied, path=target, partitioned=partitioned, bytes=_size(target))


def _copy_each_day(
    con: duckdb.DuckDBPyConnection, source: Source, where: str, params: dict[str, object], folder: Path
) -> int:
    """JSON Lines date partitions into `folder`, one COPY per date (DuckDB's JSON COPY has no PARTITION_BY), in
    the layout PARTITION_BY gives Parquet and CSV: `date=YYYY-MM-DD/part_0.jsonl` without a `date` column, a NULL
    date in `date=__HIVE_DEFAULT_PARTITION__`. Returns the rows written."""
    relation, moment, columns = source
    day = f"CAST({moment} AS DATE)"
    dates = f"SELECT DISTINCT CAST({day} AS VARCHAR) FROM {relation} {where} ORDER BY 1 NULLS LAST"
    filtered = f"{where} AND" if where else "WHERE"
    options = _COPY_OPTIONS[ExportFormat.jsonl]
    folder.mkdir()
    copied = 0
    for (value,) in con.execute(dates, params).fetchall():
        part = folder / f"date={HIVE_NULL if value is None else value}" / "part_0.jsonl"
        part.parent.mkdir()
        same_day = f"{moment} IS NULL" if value is None else f"{day} = CAST($day AS DATE)"
        query = f"SELECT {columns} FROM {relation} {filtered} {same_day}"
        given = params if value is None else {**params, "day": value}
        copied += con.execute(f"COPY ({query}) TO {_quoted(part)} ({options})", given).fetchone()[0]
    return copied


PART = re.compile(r"part_\d+\.(?:parquet|csv|jsonl)")
"""A file of a partition an export wrote (`FILENAME_PATTERN 'part_{i}'`, one per date for JSON Lines), any format."""

LITTER = frozenset({".DS_Store", "Thumbs.db", "desktop.ini"})
"""Files an operating system's file browser leaves in a folder it showed: no one's data."""


def _check_earlier(con: duckdb.DuckDBPyConnection, name: str, out: Path, fmt: ExportFormat) -> None:
    """Raise ExportInTheWay when a path the export of table `name` replaces (its file `<name>.<ext>`, its folder
    `<name>/`) holds anything but what an earlier export wrote there."""
    folder, file = out / name, out / f"{name}.{_extension(fmt)}"
    if os.path.lexists(folder) and (reason := _not_partitions(folder)):
        raise ExportInTheWay(name, folder, reason)
    if os.path.lexists(file):
        relation, _, columns = TABLES[name]
        try:
            first = con.execute(f"DESCRIBE SELECT {columns} FROM {relation} LIMIT 0").fetchone()[0]
        except duckdb.Error as error:
            raise ExportFailed(name, fmt, error) from error
        if reason := _not_an_export_file(file, fmt, first):
            raise ExportInTheWay(name, file, reason)


def _not_partitions(folder: Path) -> str | None:
    """Why `folder` is not an earlier export's date partitions (`date=…/part_N.<ext>`); None when it is."""
    if folder.is_symlink():
        return "a symbolic link"
    if not folder.is_dir():
        return "a file where an export writes a folder of date partitions"
    days = [entry for entry in folder.iterdir() if entry.name not in LITTER]
    if not days:
        return "an empty folder, where an export writes date partitions"
    for day in days:
        if day.is_symlink() or not day.is_dir() or not day.name.startswith("date="):
            return f"it holds {day.name}, not only date=… partition folders"
        for part in day.iterdir():
            if part.name not in LITTER and (not _regular(part) or not PART.fullmatch(part.name)):
                return f"it holds {day.name}/{part.name}, not only export files part_N.<format>"
    return None


def _not_an_export_file(file: Path, fmt: ExportFormat, first_column: str) -> str | None:
    """Why `file` is not an earlier export of the table (whose first column is `first_column`) in `fmt`; None when
    it is, or holds nothing. An export's file begins with the table's first column: in the Parquet schema, the
    CSV header, the first JSON object."""
    if file.is_symlink():
        return "a symbolic link"
    if not _regular(file):
        return "a folder" if file.is_dir() else "not a regular file"
    if file.stat().st_size == 0:
        return None
    if fmt is ExportFormat.parquet:
        try:
            first = pq.read_schema(file).names[0]
        except (OSError, ValueError):  # pyarrow's ArrowInvalid is a ValueError
            return "not a Parquet file"
    else:
        with file.open("rb") as handle:
            head = handle.readline(1 << 16).decode("utf-8", "replace")
        if fmt is ExportFormat.csv:
            first = next(csv.reader([head]), [None])[0]
        else:
            found = re.match(r'\s*\{\s*("(?:[^"\\]|\\.)*")\s*:', head)
            first = json.loads(found.group(1)) if found else None
    if first != first_column:
        return f"its first column is {first!r}, not {first_column!r} as in an export of the table"
    return None


def _regular(path: Path) -> bool:
    try:
        return stat.S_ISREG(path.lstat().st_mode)
    except OSError:
        return False


def _extension(fmt: ExportFormat) -> str:
    return "jsonl" if fmt is ExportFormat.jsonl else fmt.value


def _flat_columns(con: duckdb.DuckDBPyConnection, empty_select: str) -> str | None:
    """For CSV: every list, struct or map column of the select as JSON text (a REPLACE list), None when there is
    none. A CSV cell holds one value; DuckDB would write such a column in its own display form, with unquoted
    strings, which no CSV reader parses back."""
    nested = [
        name for name, kind, *_ in con.execute(f"DESCRIBE {empty_select}").fetchall()
        if kind.endswith("]") or kind.startswith(("STRUCT(", "MAP(", "UNION("))
    ]  # fmt: skip
    return ", ".join(f'CAST(to_json("{name}") AS VARCHAR) AS "{name}"' for name in nested) or None


def _make_folder(folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)


def _remove(path: Path) -> None:
    if path.is_dir():
        shutil.rmtree(path)
    else:
        path.unlink(missing_ok=True)
