"""Operations latencies measured against a real `wirecopy server` in a scratch directory.

    .venv/bin/python bench/ops_latency.py --interval 10s --settle 2 --files 5

measures, on a real Prefect server with the ingest-inbox schedule at `--interval`:

* inbox (schedule-bound): a file closed in the inbox → its rows queryable, for `--files` files;
* inbox (mechanism): an ingest-inbox run created through the API for an already settled file → rows queryable;
* ad hoc: `prefect deployment run 'ingest/ingest-adhoc' … --watch` and `wirecopy ingest --remote`, wall time.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import httpx
from wirecopy.deployments.served import (
    PREFECT,
    WIRECOPY,
    ServedProject,
    article,
    documents_from,
    start_served,
    wait_until,
)

from wirecopy.schedules import parse_schedule


def measure(root: Path, interval: str, settle: float, files: int) -> dict:
    served = start_served(root, inbox_schedule=interval, settle_seconds=settle)
    try:
        inbox_latency = []
        phase = random.Random(files)
        period = parse_schedule(interval).interval_seconds or 60.0
        for number in range(files):
            time.sleep(phase.uniform(0, period))  # drop at a random point of the schedule's period
            name = f"drop-{number}.txt"
            (served.inbox / name).write_text(article(number), encoding="utf-8")
            dropped = time.monotonic()
            wait_until(lambda n=name: documents_from(served.db, n), 120, what=name)
            inbox_latency.append(time.monotonic() - dropped)
        mechanism = _mechanism(served, settle)
        adhoc_cli = _timed([PREFECT, "deployment", "run", "ingest/ingest-adhoc", "--watch", "--watch-interval", "1",
                            "-p", f'sources=["{_drop(served, "adhoc-cli.txt", 101)}"]'], served)  # fmt: skip
        adhoc_remote = _timed([WIRECOPY, "ingest", "--remote", str(_drop(served, "adhoc-remote.txt", 102))], served)
    finally:
        served.stop()
    return {
        "inbox_schedule": interval,
        "settle_seconds": settle,
        "inbox_drop_to_queryable_seconds": [round(v, 2) for v in inbox_latency],
        "inbox_drop_to_queryable_median": round(statistics.median(inbox_latency), 2),
        "inbox_drop_to_queryable_min_max": [round(min(inbox_latency), 2), round(max(inbox_latency), 2)],
        "inbox_mechanism_seconds": round(mechanism, 2),
        "adhoc_prefect_deployment_run_watch_seconds": round(adhoc_cli, 2),
        "adhoc_wirecopy_ingest_remote_seconds": round(adhoc_remote, 2),
    }


def _drop(served: ServedProject, name: str, number: int) -> Path:
    path = served.root / name
    path.write_text(article(number), encoding="utf-8")
    return path


def _mechanism(served: ServedProject, settle: float) -> float:
    """Trigger ingest-inbox through the API for a file that is already settled; seconds to queryable."""
    name = "mechanism.txt"
    path = served.inbox / name
    path.write_text(article(100), encoding="utf-8")
    old = time.time() - settle - 60
    os.utime(path, (old, old))
    deployment = served.deployment("inbox/ingest-inbox")
    started = time.monotonic()
    httpx.post(f"{served.api_url}/deployments/{deployment['id']}/create_flow_run", json={}, timeout=10)
    wait_until(lambda: documents_from(served.db, name), 120, what=name)
    return time.monotonic() - started


def _timed(command: list[str], served: ServedProject) -> float:
    started = time.monotonic()
    subprocess.run(command, env=served.client_env(), cwd=served.root, check=True, capture_output=True)
    return time.monotonic() - started


def main() -> None:
    import tempfile

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--interval", default="10s", help="ingest-inbox schedule (default 10s)")
    parser.add_argument("--settle", type=float, default=2.0, help="inbox settle seconds (default 2)")
    parser.add_argument("--files", type=int, default=5, help="files dropped one after another (default 5)")
    options = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="wirecopy-latency-") as scratch:
        print(json.dumps(measure(Path(scratch), options.interval, options.settle, options.files), indent=2))


if __name__ == "__main__":
    main()
