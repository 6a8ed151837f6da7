"""wirecopy: scheduled ingestion and near-duplicate removal for news text, loaded into DuckDB.

    import wirecopy
    summary = wirecopy.ingest(["seeds/"], db="warehouse.duckdb")   # RunSummary
    con = wirecopy.connect("warehouse.duckdb")                      # read-only DuckDB connection
    wirecopy.report("warehouse.duckdb", "report.html")             # offline HTML syndication report
    wirecopy.export("warehouse.duckdb", "export/", format="parquet")
    wirecopy.signatures(con, ["<paragraph_id>"])                   # datasketch LeanMinHash per paragraph

Names are imported on first use, so `import wirecopy` stays cheap (no Prefect, DuckDB or datasketch).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

__all__ = ["connect", "dedup_settings", "export", "ingest", "minhash", "report", "shingles", "signatures"]

if TYPE_CHECKING:
    from wirecopy.api import connect, dedup_settings, export, ingest, minhash, report, shingles, signatures


def __getattr__(name: str):
    if name in __all__:
        from wirecopy import api

        return getattr(api, name)
    raise AttributeError(f"module 'wirecopy' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted([*globals(), *__all__])
