"""Scheduled runs refresh the syndication report beside the warehouse and link it from a Prefect artifact."""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path

import duckdb
from prefect.client.orchestration import get_client
from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterFlowRunId, ArtifactFilterKey
from wirecopy.flows.inbox import inbox
from wirecopy.flows.ingest import ingest


def test_inbox_run_refreshes_the_report_and_links_it(prefect_harness, tmp_path: Path, seeds_dir: Path) -> None:
    box, db = tmp_path / "inbox", tmp_path / "warehouse.duckdb"
    box.mkdir()
    for seed in seeds_dir.iterdir():
        shutil.copy(seed, box / seed.name)
    stamp = time.time() - 120  # settled
    for item in box.iterdir():
        os.utime(item, (stamp, stamp))

    state = inbox(directory=str(box), db=str(db), return_state=True)
    assert state.is_completed() and len(state.result().done) == 5

    report = tmp_path / "warehouse.report.html"
    assert report.is_file() and 'data-chart="matrix"' in report.read_text(encoding="utf-8")
    assert report.stat().st_mode & 0o777 == db.stat().st_mode & 0o777 == 0o600  # it quotes articles: `file_mode`
    with get_client(sync_client=True) as client:
        artifacts = client.read_artifacts(
            artifact_filter=ArtifactFilter(
                key=ArtifactFilterKey(any_=["syndication-report"]),
                flow_run_id=ArtifactFilterFlowRunId(any_=[state.state_details.flow_run_id]),
            )
        )
    assert len(artifacts) == 1  # Prefect stores a link artifact as markdown: [text](link)
    assert f"]({report.as_uri()})" in artifacts[0].data and "syndicated clusters" in artifacts[0].data


def test_an_idle_tick_refreshes_the_report_only_when_the_warehouse_changed(
    prefect_harness, tmp_path: Path, seeds_dir: Path
) -> None:
    """An ad-hoc ingest between ticks publishes a new warehouse: the next tick, with nothing in the inbox, writes
    the report again; a tick with nothing new leaves it as it is."""
    box, db, report = tmp_path / "inbox", tmp_path / "warehouse.duckdb", tmp_path / "warehouse.report.html"
    box.mkdir()
    seeds = sorted(seeds_dir.iterdir())
    shutil.copy(seeds[0], box / seeds[0].name)
    stamp = time.time() - 120  # settled
    os.utime(box / seeds[0].name, (stamp, stamp))
    assert inbox(directory=str(box), db=str(db), return_state=True).is_completed()
    first = report.stat()

    assert inbox(directory=str(box), db=str(db), return_state=True).is_completed()  # nothing new
    assert report.stat().st_ino == first.st_ino  # not rewritten

    adhoc = ingest(sources=[str(path) for path in seeds[1:]], db=str(db))
    assert adhoc.documents_new == 4
    assert inbox(directory=str(box), db=str(db), return_state=True).is_completed()  # nothing in the inbox
    second = report.stat()
    assert second.st_ino != first.st_ino and second.st_mtime_ns == db.stat().st_mtime_ns
    with duckdb.connect(str(db), read_only=True) as con:
        outlets = con.execute("SELECT DISTINCT outlet FROM documents").fetchall()
    page = report.read_text(encoding="utf-8")
    assert len(outlets) == 5 and all(outlet in page for (outlet,) in outlets)
