"""`wirecopy server` end to end: a real Prefect server on loopback started by the command, the three served
deployments, a schedule firing, ad-hoc triggers through the API (prefect CLI, `wirecopy ingest --remote`),
and Ctrl-C stopping everything with the schedules left active."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from wirecopy.deployments.served import (
    PREFECT,
    WIRECOPY,
    ServedProject,
    article,
    documents_from,
    start_served,
    wait_until,
)

from tests.reliability import alive, descendants, kill_all
from wirecopy.config import ServerSettings
from wirecopy.server import port_in_use


@pytest.fixture(scope="module")
def served(tmp_path_factory) -> ServedProject:
    project = start_served(tmp_path_factory.mktemp("served"), inbox_schedule="5s", settle_seconds=2.0)
    yield project
    if project.process.poll() is None:
        project.stop()


def ingest_run_count(db: Path) -> int:
    from wirecopy.warehouse.db import session

    with session(db, read_only=True, wait_seconds=30) as con:
        return con.execute("SELECT count(*) FROM ingest_runs").fetchone()[0]


def run_recorded(db: Path, name: str) -> bool:
    from wirecopy.warehouse.db import session

    with session(db, read_only=True, wait_seconds=30) as con:
        query = """SELECT count(*) FROM ingest_runs r JOIN raw_documents d ON d.run_id = r.run_id
                   WHERE d.source_uri LIKE '%/' || ?"""
        return con.execute(query, [name]).fetchone()[0] > 0


def test_server_serves_three_deployments_and_prints_the_ui(served: ServedProject) -> None:
    assert f"http://127.0.0.1:{served.port}" in served.output()
    inbox = served.deployment("inbox/ingest-inbox")
    assert [s["schedule"]["interval"] for s in inbox["schedules"]] == [5.0]
    assert all(s["active"] for s in inbox["schedules"]) and not inbox["paused"]
    assert served.deployment("ingest/ingest-adhoc")["schedules"] == []
    assert served.deployment("feeds/ingest-feeds")["schedules"] == []  # WIRECOPY_SCHEDULES__FEEDS=off


def test_schedule_ingests_a_dropped_file_once_and_never_half_written(served: ServedProject) -> None:
    target = served.inbox / "slow.txt"
    full = article(1)
    step = len(full) // 30 + 1
    writing = datetime.now(UTC)
    with open(target, "w", encoding="utf-8") as writer:  # a slow writer, still writing over ~9 s (> one tick)
        pieces = [full[index : index + step] for index in range(0, len(full), step)]
        for piece in pieces[:-1]:
            writer.write(piece)
            writer.flush()
            time.sleep(0.3)
        deadline = time.monotonic() + 90
        while not any(datetime.fromisoformat(r["start_time"]) > writing for r in _completed_inbox_runs(served)):
            # however loaded the machine, a scheduled run must see the half-written file: the writer stays
            # active (touching the file faster than the 2 s settle time) until one has run
            assert time.monotonic() < deadline, "no scheduled inbox run within 90 s"
            os.utime(target)
            time.sleep(0.3)
        writer.write(pieces[-1])
    written = datetime.now(UTC)
    wait_until(lambda: documents_from(served.db, "slow.txt"), 90, what="slow.txt ingested")
    # the run row is written after the batch is loaded (and boilerplate learned): wait for it before counting
    wait_until(lambda: run_recorded(served.db, "slow.txt"), 60, what="the ingest run of slow.txt recorded")
    runs_after_first = ingest_run_count(served.db)
    ingested = datetime.now(UTC)
    wait_until(  # a later scheduled run found the inbox empty
        lambda: any(datetime.fromisoformat(r["start_time"]) > ingested for r in _completed_inbox_runs(served)),
        60,
        what="a later scheduled run",
    )

    from wirecopy.warehouse.db import session

    with session(served.db, read_only=True, wait_seconds=30) as con:
        stored = con.execute("SELECT content FROM raw_documents WHERE source_uri LIKE '%/slow.txt'").fetchall()
    assert stored == [(full,)]  # once, and whole
    runs = _completed_inbox_runs(served)
    assert any(writing < datetime.fromisoformat(r["start_time"]) < written for r in runs)  # ticks while writing
    assert ingest_run_count(served.db) == runs_after_first  # later ticks found nothing to ingest
    assert [p.name for p in served.inbox.glob(".done/*/*/*")] == ["slow.txt"]
    assert not (served.inbox / "slow.txt").exists() and not list(served.inbox.glob(".processing/*/*"))
    assert all(run["auto_scheduled"] for run in runs)


def _completed_inbox_runs(served: ServedProject) -> list[dict]:
    return [r for r in served.flow_runs("inbox/ingest-inbox") if r["state_type"] == "COMPLETED"]


def test_prefect_deployment_run_triggers_an_adhoc_ingest(served: ServedProject) -> None:
    source = served.root / "adhoc.txt"
    source.write_text(article(2), encoding="utf-8")
    command = [PREFECT, "deployment", "run", "ingest/ingest-adhoc", "-p", f'sources=["{source}"]', "--watch",
               "--watch-interval", "1"]  # fmt: skip
    finished = subprocess.run(command, env=served.client_env(), capture_output=True, text=True, timeout=300)
    assert finished.returncode == 0, finished.stdout + finished.stderr
    assert "Completed" in finished.stdout
    assert documents_from(served.db, "adhoc.txt") == 1


def test_wirecopy_ingest_remote_waits_and_prints_the_summary(served: ServedProject) -> None:
    source = served.root / "remote.txt"
    source.write_text(article(3), encoding="utf-8")
    env = served.env | {"WIRECOPY_SERVER__PORT": str(served.port)}  # no PREFECT_API_URL: the configured server
    first = subprocess.run(
        [WIRECOPY, "ingest", "--remote", str(source), "--timeout", "300"], env=env, capture_output=True, text=True,
        timeout=360,
    )  # fmt: skip
    assert first.returncode == 0, first.stdout + first.stderr
    assert "documents (new / already stored)" in first.stdout and "1 / 0" in first.stdout
    assert "flow run" in first.stdout
    again = subprocess.run(
        [WIRECOPY, "ingest", "--remote", str(source), "--timeout", "300"], env=env, capture_output=True, text=True,
        timeout=360,
    )  # fmt: skip
    assert again.returncode == 0 and "0 / 1" in again.stdout
    assert documents_from(served.db, "remote.txt") == 1
    command = [WIRECOPY, "ingest", "--remote", str(source), "--json", "--timeout"]
    as_json = subprocess.run([*command, "300"], env=env, capture_output=True, text=True, timeout=360)
    summary = json.loads(as_json.stdout)
    assert summary["warehouse"] is None and "flow run" in summary["remote"]  # the warehouse is the server's
    late = subprocess.run([*command, "0"], env=env, capture_output=True, text=True, timeout=360)
    assert late.returncode == 1, late.stdout + late.stderr
    failure = json.loads(late.stdout)
    assert failure["status"] == "running" and "keeps running on the server" in failure["error"]
    flow_run_id = failure["error"].split()[2]
    wait_until(
        lambda: httpx.get(f"{served.api_url}/flow_runs/{flow_run_id}", timeout=10).json()["state_type"] == "COMPLETED",
        120, what="the run the command stopped waiting for completes on the server",
    )  # fmt: skip


@pytest.mark.parametrize(
    ("deployment", "parameters"),
    [
        ("ingest/ingest-adhoc", {"sources": ["{root}/adhoc.txt"], "db": "{root}/elsewhere.duckdb"}),
        ("ingest/ingest-adhoc", {"sources": ["http://127.0.0.1:9/x"], "fetch_policy": {"allow_private_addresses": 1}}),
        ("inbox/ingest-inbox", {"directory": "{root}", "db": "{root}/elsewhere.duckdb"}),
        ("feeds/ingest-feeds", {"urls": ["http://127.0.0.1:9/feed"], "db": "{root}/elsewhere.duckdb"}),
    ],
)
def test_served_deployments_take_no_warehouse_path_nor_fetch_policy(
    served: ServedProject, deployment: str, parameters: dict
) -> None:
    """The API refuses a run with a parameter the deployment does not document; nothing is created."""
    import json

    import httpx

    parameters = json.loads(json.dumps(parameters).replace("{root}", str(served.root)))
    found = served.deployment(deployment)
    assert set(found["parameter_openapi_schema"].get("properties", {})) <= {"sources"}
    response = httpx.post(
        f"{served.api_url}/deployments/{found['id']}/create_flow_run", json={"parameters": parameters}, timeout=30
    )
    assert response.status_code == 409, response.text
    assert "additional properties are not allowed" in response.text.lower()
    assert not (served.root / "elsewhere.duckdb").exists()
    assert not (served.root / "elsewhere.duckdb.writer").exists()


def test_wirecopy_ingest_in_process_reports_to_the_running_server(served: ServedProject, tmp_path: Path) -> None:
    import httpx

    source = served.root / "in-process.txt"
    source.write_text(article(4), encoding="utf-8")
    db = tmp_path / "own.duckdb"
    env = {k: v for k, v in served.env.items() if k != "PREFECT_API_URL"}
    env |= {"WIRECOPY_SERVER__PORT": str(served.port), "PREFECT_HOME": str(tmp_path / "client-prefect")}
    done = subprocess.run([WIRECOPY, "ingest", str(source), "--db", str(db), "--json"], env=env, capture_output=True,
                          text=True, timeout=180)  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    summary = json.loads(done.stdout)
    assert summary["paragraphs"] == 3 and summary["errors"] == 0
    assert summary["stage_seconds"]["ahead"] > 0  # prepared before the flow run, while Prefect was imported
    from wirecopy.warehouse.db import session

    with session(db, read_only=True, wait_seconds=30) as con:
        (flow_run_id,) = con.execute("SELECT flow_run_id FROM ingest_runs").fetchone()
    found = httpx.get(f"{served.api_url}/flow_runs/{flow_run_id}", timeout=10)
    assert found.status_code == 200 and found.json()["name"]  # the run is the served server's, not a temporary one's
    assert not (tmp_path / "client-prefect" / "prefect.db").exists()


def children_of(pid: int) -> dict[int, str]:
    """Child processes (Linux /proc) and their command lines."""
    found = {}
    for entry in Path("/proc").iterdir():
        try:
            if entry.name.isdigit() and int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1]) == pid:
                found[int(entry.name)] = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except (OSError, ValueError, IndexError):
            continue
    return found


def test_a_tick_that_collides_with_a_running_inbox_run_is_cancelled_not_started(served: ServedProject) -> None:
    from wirecopy.warehouse.db import writer_lock
    from wirecopy.warehouse.snapshot import writer_path

    def inbox_runs() -> dict[str, list[dict]]:
        runs: dict[str, list[dict]] = {}
        for run in served.flow_runs("inbox/ingest-inbox"):
            runs.setdefault(run["state_type"], []).append(run)
        return runs

    def at_most_one_going() -> dict[str, list[dict]]:
        runs = inbox_runs()
        going = runs.get("RUNNING", []) + runs.get("PENDING", [])
        assert len(going) <= 1, [(r["name"], r["state_type"]) for r in going]
        return runs

    cancelled_before = {run["id"] for run in inbox_runs().get("CANCELLED", [])}
    with writer_lock(writer_path(served.db), wait_seconds=60):  # the next inbox run's commit waits for it
        (served.inbox / "blocked.txt").write_text(article(5), encoding="utf-8")
        wait_until(
            lambda: at_most_one_going().get("RUNNING") and list(served.inbox.glob(".processing/*/blocked.txt")),
            120, interval=0.5, what="an inbox run holding blocked.txt",
        )  # fmt: skip

        def cancelled_ticks() -> list[dict]:
            runs = at_most_one_going()
            return [run for run in runs.get("CANCELLED", []) if run["id"] not in cancelled_before]

        wait_until(lambda: len(cancelled_ticks()) >= 2, 60, interval=0.5, what="two ticks cancelled")
        assert all("concurrency limit" in (run["state"]["message"] or "") for run in cancelled_ticks())
        assert len(inbox_runs().get("RUNNING", [])) == 1
    wait_until(lambda: list(served.inbox.glob(".done/*/*/blocked.txt")), 120, interval=0.5, what="blocked.txt done")
    assert documents_from(served.db, "blocked.txt") == 1  # ingested once, by the run that held it


def test_ctrl_c_stops_server_and_leaves_schedules_active(served: ServedProject) -> None:
    children = children_of(served.process.pid)
    assert any("prefect server start" in command for command in children.values()), children
    assert served.stop(timeout=60) == 0
    assert "stopped" in served.output()
    assert not port_in_use("127.0.0.1", served.port)
    wait_until(lambda: not any(alive(pid) for pid in children), 20, what="child processes gone")
    with sqlite3.connect(served.prefect_home / "prefect.db") as con:
        rows = con.execute(
            "SELECT d.name, d.paused, s.active FROM deployment d JOIN deployment_schedule s ON s.deployment_id = d.id"
        ).fetchall()
    assert rows == [("ingest-inbox", 0, 1)]


@dataclass
class Restart:
    """The served project stopped, then started again on the same Prefect database."""

    server: ServedProject
    missed: list[str]  # scheduled inbox runs that fell due while it was stopped
    ended_long_ago: str  # a completed run whose end the test moved back by `keep_runs_days` + 1
    ended_now: str


@pytest.fixture(scope="module")
def restarted(served: ServedProject) -> Restart:
    running = served if served.process.poll() is None else start_served(served.root, inbox_schedule="5s")
    ahead = lambda: [r for r in running.flow_runs("inbox/ingest-inbox") if r["state_type"] == "SCHEDULED"]  # noqa: E731
    wait_until(lambda: len(ahead()) >= 3, 60, interval=0.5, what="inbox runs scheduled ahead")  # by the scheduler
    old, new = completed_run(running, "ended-long-ago"), completed_run(running, "ended-now")
    assert running.stop(timeout=60) == 0  # Ctrl-C, maybe while it still starts (its deployments exist from before)
    lines = running.output().splitlines()
    assert any(line.startswith("stopped;") for line in lines), lines[-30:]
    assert not [line for line in lines if line.startswith("error:")], lines[-30:]
    with sqlite3.connect(served.prefect_home / "prefect.db") as con:
        scheduled = con.execute(
            """SELECT f.id, f.expected_start_time FROM flow_run f JOIN deployment d ON d.id = f.deployment_id
               WHERE d.name = 'ingest-inbox' AND f.state_type = 'SCHEDULED' AND f.auto_scheduled
               ORDER BY f.expected_start_time"""
        ).fetchall()
        long_ago = datetime.now(UTC) - timedelta(days=ServerSettings().keep_runs_days + 1)
        con.execute("UPDATE flow_run SET end_time = ? WHERE id = ?", (f"{long_ago:%Y-%m-%d %H:%M:%S.%f}", old))
    assert len(scheduled) >= 3, scheduled
    due = datetime.fromisoformat(scheduled[1][1]).replace(tzinfo=UTC)
    wait_until(lambda: datetime.now(UTC) > due, 60, interval=0.2, what="two scheduled ticks missed")
    server = start_served(served.root, inbox_schedule="5s", settle_seconds=2.0)
    missed = [run_id for run_id, expected in scheduled if datetime.fromisoformat(expected).replace(tzinfo=UTC) <= due]
    yield Restart(server, missed, old, new)
    assert server.stop(timeout=60) == 0


def completed_run(served: ServedProject, name: str) -> str:
    """Id of a new flow run in state Completed (retried while the server answers 503: SQLite busy)."""
    flow = httpx.post(f"{served.api_url}/flows/", json={"name": "retention-probe"}, timeout=10).json()
    made: list[str] = []

    def create() -> bool:
        body = {"flow_id": flow["id"], "name": name, "state": {"type": "COMPLETED"}}
        response = httpx.post(f"{served.api_url}/flow_runs/", json=body, timeout=10)
        if response.status_code in (200, 201):
            made.append(response.json()["id"])
        return bool(made)

    wait_until(create, 60, interval=0.5, what=f"flow run {name} created")
    return made[0]


def test_a_restarted_server_drops_the_ticks_it_missed_instead_of_cancelling_them(restarted: Restart) -> None:
    server = restarted.server
    # (the deployments are registered from before: the server answers before it serves them)
    wait_until(lambda: "scheduled runs missed while no server was running" in server.output(), 120,
               interval=0.5, what="missed runs dropped")  # fmt: skip
    for run_id in restarted.missed:  # deleted before the runner could hand them out, not cancelled one by one
        assert httpx.get(f"{server.api_url}/flow_runs/{run_id}", timeout=10).status_code == 404
    cancelled = [run for run in server.flow_runs("inbox/ingest-inbox") if run["state_type"] == "CANCELLED"]
    assert not {run["id"] for run in cancelled} & set(restarted.missed)


def test_the_server_deletes_runs_older_than_keep_runs_days_and_keeps_the_rest(restarted: Restart) -> None:
    server = restarted.server
    api = server.api_url
    wait_until(lambda: httpx.get(f"{api}/flow_runs/{restarted.ended_long_ago}", timeout=10).status_code == 404, 120,
               interval=0.5, what="the run that ended long ago deleted by Prefect's vacuum service")  # fmt: skip
    assert httpx.get(f"{api}/flow_runs/{restarted.ended_now}", timeout=10).status_code == 200
    vacuum = httpx.get(f"{api}/admin/settings", timeout=10).json()["server"]["services"]["db_vacuum"]
    assert "flow_runs" in vacuum["enabled"] and vacuum["retention_period"] == "P30D", vacuum


def test_a_server_killed_during_an_inbox_run_serves_the_inbox_again_once_restarted(tmp_path: Path) -> None:
    from wirecopy.warehouse.db import writer_lock
    from wirecopy.warehouse.snapshot import writer_path

    project = start_served(tmp_path / "crashed", inbox_schedule="5s", settle_seconds=1.0)
    try:
        with writer_lock(writer_path(project.db), wait_seconds=120):  # the inbox run waits in its commit
            (project.inbox / "before.txt").write_text(article(7), encoding="utf-8")
            wait_until(lambda: [r for r in project.flow_runs("inbox/ingest-inbox") if r["state_type"] == "RUNNING"],
                       120, interval=0.5, what="an inbox run holding the deployment's slot")  # fmt: skip
            (held,) = [r["id"] for r in project.flow_runs("inbox/ingest-inbox") if r["state_type"] == "RUNNING"]
            tree = {project.process.pid} | descendants(project.process.pid)
            kill_all(tree)  # a crash: the server, the runner and the flow run's process at once
            project.process.wait(timeout=60)
            wait_until(lambda: not any(alive(pid) for pid in tree), 30, what="every process gone")
    finally:
        if project.process.poll() is None:
            project.stop()
    restarted = start_served(project.root, inbox_schedule="5s", settle_seconds=1.0)
    try:
        (restarted.inbox / "after.txt").write_text(article(8), encoding="utf-8")
        wait_until(lambda: restarted.db.exists() and documents_from(restarted.db, "after.txt") == 1, 180,
                   interval=1.0, what="a file dropped after the restart ingested")  # fmt: skip
        state = httpx.get(f"{restarted.api_url}/flow_runs/{held}", timeout=10).json()["state"]
        assert state["type"] == "CRASHED" and "stopped before it finished" in state["message"], state
        assert "marked 1 runs Crashed" in restarted.output()
        wait_until(lambda: documents_from(restarted.db, "before.txt") == 1, 180, interval=1.0,
                   what="the file of the killed run put back and ingested")  # fmt: skip
    finally:
        assert restarted.stop(timeout=60) == 0


def test_wirecopy_server_exits_with_one_line_when_the_prefect_server_dies(tmp_path: Path) -> None:
    project = start_served(tmp_path / "orphaned-runner", inbox_schedule="off")
    try:
        (prefect_server,) = [pid for pid, command in children_of(project.process.pid).items()
                             if "prefect server start" in command]  # fmt: skip
        kill_all({prefect_server})
        assert project.process.wait(timeout=120) == 1  # the runner stops once the API no longer answers
    finally:
        if project.process.poll() is None:
            project.stop()
    errors = [line for line in project.output().splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and "the Prefect server stopped (exit code -9)" in errors[0], project.output()[-2000:]


def test_a_server_stopped_by_its_pid_during_an_inbox_run_leaves_no_process_behind(tmp_path: Path) -> None:
    """SIGINT to the server's pid alone (not its process group, as `kill -INT <pid>` does) while an inbox run
    holds local workers: the run's processes, the workers included, all end with the server, and the stop prints
    no traceback."""
    from wirecopy.warehouse.db import writer_lock
    from wirecopy.warehouse.snapshot import writer_path

    project = start_served(
        tmp_path / "stopped", inbox_schedule="5s", settle_seconds=1.0, extra_env={"WIRECOPY_BATCH_FILES": "1"}
    )  # batches of one file: prepared in a worker
    try:
        with writer_lock(writer_path(project.db), wait_seconds=120):  # the inbox run waits in its commit
            for number in range(4):
                (project.inbox / f"held{number}.txt").write_text(article(20 + number), encoding="utf-8")
            wait_until(lambda: [r for r in project.flow_runs("inbox/ingest-inbox") if r["state_type"] == "RUNNING"],
                       120, interval=0.5, what="an inbox run in flight")  # fmt: skip
            wait_until(lambda: any("spawn_main" in _command_line(pid) for pid in descendants(project.process.pid)),
                       60, interval=0.2, what="the run's local worker started")  # fmt: skip
            tree = descendants(project.process.pid)
            assert project.stop(timeout=90) == 0
            assert "Traceback" not in project.output() and "stopped;" in project.output()  # a clean stop
            try:
                wait_until(lambda: not any(alive(pid) for pid in tree), 60, interval=0.2, what="every process gone")
            except TimeoutError:
                left = {pid: _command_line(pid) for pid in tree if alive(pid)}
                kill_all(set(left))
                raise AssertionError(f"processes left after the server stopped: {left}") from None
    finally:
        if project.process.poll() is None:
            project.process.kill()


def _command_line(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")[:160]
    except OSError:
        return "?"
