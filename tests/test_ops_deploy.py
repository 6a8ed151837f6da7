"""deployments/prefect.yaml with the real tools: `prefect deploy --all` registers the three deployments on a
Prefect API (the session's), and a process worker executes an ad-hoc run of one of them to completion."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import httpx
import pytest
from wirecopy.deployments.served import PREFECT, article, documents_from

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def api(prefect_harness) -> str:
    from prefect.settings import PREFECT_API_URL

    url = PREFECT_API_URL.value()
    env = os.environ | {"PREFECT_API_URL": url}
    for command in (["work-pool", "create", "wirecopy", "--type", "process", "--overwrite"],
                    ["--no-prompt", "deploy", "--all", "--prefect-file", "deployments/prefect.yaml"]):  # fmt: skip
        done = subprocess.run([PREFECT, *command], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    return url


def test_prefect_deploy_registers_three_deployments_with_their_schedules(api: str) -> None:
    def deployment(name: str) -> dict:
        return httpx.get(f"{api}/deployments/name/{name}", timeout=10).json()

    inbox, feeds, adhoc = (deployment(n) for n in ("inbox/ingest-inbox", "feeds/ingest-feeds", "ingest/ingest-adhoc"))
    assert [s["schedule"]["cron"] for s in inbox["schedules"]] == ["*/15 * * * *"]
    assert [s["schedule"]["cron"] for s in feeds["schedules"]] == ["0 * * * *"]
    assert adhoc["schedules"] == [] and adhoc["entrypoint"] == "deployments/entrypoints.py:ingest_sources"
    assert set(adhoc["parameter_openapi_schema"]["properties"]) == {"sources"} and adhoc["enforce_parameter_schema"]
    assert (
        inbox["parameter_openapi_schema"].get("properties", {})
        == {}
        == feeds["parameter_openapi_schema"].get("properties", {})
    )
    assert {d["work_pool_name"] for d in (inbox, feeds, adhoc)} == {"wirecopy"}
    for scheduled in (inbox, feeds):  # one run at a time, a colliding tick cancelled; ad-hoc runs never dropped
        assert scheduled["global_concurrency_limit"]["limit"] == 1
        assert scheduled["concurrency_options"]["collision_strategy"] == "CANCEL_NEW"
    assert adhoc["global_concurrency_limit"] is None
    assert adhoc["pull_steps"] == [{"prefect.deployments.steps.set_working_directory": {"directory": str(ROOT)}}]


def test_process_worker_runs_an_adhoc_run_to_completion(api: str, tmp_path: Path) -> None:
    source = tmp_path / "worker.txt"
    source.write_text(article(7), encoding="utf-8")
    db = tmp_path / "warehouse.duckdb"
    env = os.environ | {"PREFECT_API_URL": api, "WIRECOPY_DB": str(db)}  # the worker's configuration names it
    refused = subprocess.run(
        [PREFECT, "deployment", "run", "ingest/ingest-adhoc", "-p", f'sources=["{source}"]', "-p", 'db="/tmp/x"'],
        env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert refused.returncode != 0 and "'db'" in refused.stdout + refused.stderr
    run = subprocess.run(
        [PREFECT, "deployment", "run", "ingest/ingest-adhoc", "-p", f'sources=["{source}"]'],
        env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert run.returncode == 0, run.stderr
    worker = subprocess.run(
        [PREFECT, "worker", "start", "--pool", "wirecopy", "--run-once", "--prefetch-seconds", "60"],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=180,
    )  # fmt: skip
    assert worker.returncode == 0, worker.stdout[-2000:] + worker.stderr[-2000:]
    assert documents_from(db, "worker.txt") == 1
    (flow_run,) = httpx.post(
        f"{api}/flow_runs/filter",
        json={"deployments": {"id": {"any_": [httpx.get(f"{api}/deployments/name/ingest/ingest-adhoc").json()["id"]]}}},
        timeout=10,
    ).json()
    assert flow_run["state_type"] == "COMPLETED"
