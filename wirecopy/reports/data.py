"""The syndication report's numbers: every aggregate is computed by DuckDB (report.sql), Python only shapes rows."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cache
from importlib import resources

import duckdb
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

_NAME = re.compile(r"^-- name: (\w+)\s*$", re.MULTILINE)


@cache
def statements() -> dict[str, str]:
    """The named statements of report.sql."""
    text = resources.files("wirecopy.reports").joinpath("report.sql").read_text(encoding="utf-8")
    parts = _NAME.split(text)
    return {name: body.strip() for name, body in zip(parts[1::2], parts[2::2], strict=True)}


class UnknownOutlets(ValueError):
    """Outlets asked for that no stored document has: the report would be empty."""

    def __init__(self, unknown: list[str], known: list[str]):
        self.unknown, self.known = unknown, known
        shown = ", ".join(known) + (" …" if len(known) >= 20 else "") if known else "none"
        super().__init__(f"no document of outlet {', '.join(map(repr, unknown))} in the warehouse (outlets: {shown})")


class ReportOptions(BaseModel):
    """What the report covers and how much of it it shows."""

    model_config = ConfigDict(frozen=True)

    since: datetime | None = Field(None, description="paragraphs published at or after (UTC if no zone)")
    until: datetime | None = Field(None, description="paragraphs published before")
    outlets: tuple[str, ...] = Field((), description="only copies made or suffered by these outlets")
    matrix_outlets: int = Field(30, ge=2, description="outlets shown in the matrix (most active first)")
    lag_pairs: int = Field(20, ge=1, description="outlet pairs in the lag chart")
    outlet_rows: int = Field(200, ge=1, description="rows of the per-outlet table")
    top_clusters: int = Field(10, ge=0, description="clusters shown side by side")
    runs: int = Field(15, ge=0, description="recent runs listed")

    @field_validator("since", "until")
    @classmethod
    def _zoned(cls, moment: datetime | None) -> datetime | None:
        return _utc(moment)  # one zoned and one not would not compare

    @model_validator(mode="after")
    def _ordered(self) -> ReportOptions:
        if self.since and self.until and self.since >= self.until:
            raise ValueError(f"--since ({self.since}) must be before --until ({self.until})")
        return self


@dataclass
class ReportData:
    options: ReportOptions
    generated_at: datetime
    database: str
    totals: dict
    matrix: list[dict] = field(default_factory=list)
    lags: list[dict] = field(default_factory=list)
    outlets: list[dict] = field(default_factory=list)
    timeline: list[dict] = field(default_factory=list)
    clusters: list[dict] = field(default_factory=list)
    boilerplate: list[dict] = field(default_factory=list)
    runs: list[dict] = field(default_factory=list)


def _records(cursor: duckdb.DuckDBPyConnection) -> list[dict]:
    columns = [d[0] for d in cursor.description or []]
    return [dict(zip(columns, row, strict=True)) for row in cursor.fetchall()]


STEPS = ("paragraphs", "members", "totals", "matrix", "lags", "outlets", "timeline", "boilerplate", "runs", "clusters")
"""The aggregation steps, in order (progress bars count them)."""


def collect(
    con: duckdb.DuckDBPyConnection,
    options: ReportOptions,
    *,
    generated_at: datetime,
    database: str,
    on_step: Callable[[str], None] | None = None,
) -> ReportData:
    """Run the report's aggregates on `con` (read-only is enough: only temporary tables are created).
    `on_step(name)` is called after each of STEPS."""
    sql = statements()
    step = on_step or (lambda name: None)
    window = {
        "since": _utc(options.since),
        "until": _utc(options.until),
        "outlets": list(options.outlets) or None,
    }
    con.execute("SET TimeZone = 'UTC'")
    con.execute("SET enable_progress_bar = false")  # DuckDB's own bar would print on stdout
    if options.outlets:
        unknown = [row[0] for row in con.execute(sql["unknown_outlets"], {"outlets": list(options.outlets)}).fetchall()]
        if unknown:
            known = [row[0] for row in con.execute(sql["known_outlets"]).fetchall()]
            raise UnknownOutlets(unknown, known)
    try:
        con.execute(sql["paragraphs"])
        step("paragraphs")
        con.execute(sql["members"], window)
        step("members")
        data = ReportData(options=options, generated_at=generated_at, database=database, totals={})
        data.totals = _records(con.execute(sql["totals"], window))[0]
        step("totals")
        data.matrix = _records(con.execute(sql["matrix"]))
        step("matrix")
        data.lags = _records(con.execute(sql["lags"], {"limit": options.lag_pairs}))
        step("lags")
        data.outlets = _records(con.execute(sql["outlets"], window | {"limit": options.outlet_rows}))
        step("outlets")
        data.timeline = _records(con.execute(sql["timeline"]))
        step("timeline")
        data.boilerplate = _records(con.execute(sql["boilerplate"], window))
        step("boilerplate")
        data.runs = _records(con.execute(sql["runs"], {"limit": options.runs}))
        step("runs")
        con.execute(sql["top_clusters"], {"limit": options.top_clusters})
        data.clusters = _group_clusters(_records(con.execute(sql["cluster_texts"])))
        step("clusters")
    finally:
        for table in ("report_paragraphs", "report_members", "report_top"):
            con.execute(f"DROP TABLE IF EXISTS {table}")
    return data


def _utc(moment: datetime | None) -> datetime | None:
    """A time without zone is UTC."""
    return moment.replace(tzinfo=UTC) if moment is not None and moment.tzinfo is None else moment


def _group_clusters(rows: list[dict]) -> list[dict]:
    """One entry per cluster: its copies (one per outlet, the first publisher first)."""
    clusters: dict[str, dict] = {}
    for row in rows:
        entry = clusters.setdefault(
            row["cluster_id"],
            {"cluster_id": row["cluster_id"], "outlet_count": row["outlet_count"], "paragraphs": row["paragraphs"],
             "first_outlet": row["first_outlet"], "copies": []},
        )  # fmt: skip
        entry["copies"].append(row)
    return list(clusters.values())
