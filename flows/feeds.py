"""The `feeds` flow (deployment `feeds/ingest-feeds`): ingest the configured RSS/Atom feeds.

The feed list is read when the run starts (`feeds` in wirecopy.toml or WIRECOPY_FEEDS), so editing the
configuration needs no redeploy. The `ingest` flow expands each feed to its articles and skips article
links already stored.
"""

from __future__ import annotations

from pathlib import Path

from prefect import flow, get_run_logger
from wirecopy.flows.ingest import ingest
from wirecopy.flows.report import refresh_report

from wirecopy.config import load_settings
from wirecopy.models import RunSummary


@flow(name="feeds", log_prints=False)
def feeds(urls: list[str] | None = None, db: str | None = None) -> RunSummary | None:
    """Ingest `urls` (default: the `feeds` setting); does nothing when no feed is configured."""
    settings = load_settings(db=Path(db) if db else None)
    sources = list(urls) if urls is not None else list(settings.feeds)
    if not sources:
        get_run_logger().warning("no feeds configured: set `feeds` in wirecopy.toml or WIRECOPY_FEEDS")
        return None
    summary = ingest(sources=sources, db=str(settings.db))
    refresh_report(settings)
    return summary
