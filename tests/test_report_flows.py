"""Scheduled runs refresh the syndication report beside the warehouse and link it from a Prefect artifact."""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path

from prefect.client.orchestration import get_client
from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterFlowRunId, ArtifactFilterKey
from wirecopy.flows.inbox import inbox


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
