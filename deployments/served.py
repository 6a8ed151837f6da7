"""A real `wirecopy server` (Prefect server + served deployments) in a scratch directory.

Used by the operations tests (tests/test_ops_*.py) and by the latency benchmark (bench/ops_latency.py).
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import httpx

BIN = Path(sys.executable).parent
WIRECOPY, PREFECT = str(BIN / "wirecopy"), str(BIN / "prefect")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_until(predicate: Callable[[], object], timeout: float, interval: float = 0.2, what: str = "condition"):
    """Poll until `predicate()` is truthy; returns its value. TimeoutError names `what`."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise TimeoutError(f"{what} not reached within {timeout:.0f}s")
        time.sleep(interval)


@dataclass
class ServedProject:
    """`wirecopy server` running as a child process in `root` (its own PREFECT_HOME, warehouse, inbox)."""

    root: Path
    port: int
    env: dict[str, str]
    process: subprocess.Popen
    log: Path

    @property
    def api_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/api"

    @property
    def db(self) -> Path:
        return self.root / "warehouse.duckdb"

    @property
    def inbox(self) -> Path:
        return self.root / "inbox"

    @property
    def prefect_home(self) -> Path:
        return self.root / ".prefect"

    def client_env(self) -> dict[str, str]:
        """Environment of a client on the same machine (prefect CLI, `wirecopy ingest --remote`)."""
        return self.env | {"PREFECT_API_URL": self.api_url}

    def deployment(self, name: str) -> dict | None:
        response = httpx.get(f"{self.api_url}/deployments/name/{name}", timeout=5)
        return response.json() if response.status_code == 200 else None

    def flow_runs(self, deployment: str) -> list[dict]:
        found = self.deployment(deployment)
        body = {"deployments": {"id": {"any_": [found["id"]]}}} if found else {}
        return httpx.post(f"{self.api_url}/flow_runs/filter", json=body, timeout=5).json()

    def output(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")

    def stop(self, timeout: float = 60) -> int:
        """Ctrl-C, as a terminal sends it; returns the exit code."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
        try:
            return self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            raise


def start_served(
    root: Path,
    *,
    inbox_schedule: str = "10s",
    settle_seconds: float = 2.0,
    poll_seconds: float = 1.0,
    timeout: float = 120.0,
    extra_env: dict[str, str] | None = None,
) -> ServedProject:
    """Start `wirecopy server` in `root` and return once its three deployments are registered."""
    root.mkdir(parents=True, exist_ok=True)
    (root / "inbox").mkdir(exist_ok=True)
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "WIRECOPY_"))}
    env |= {
        "PREFECT_HOME": str(root / ".prefect"),
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "PREFECT_SERVER_SERVICES_SCHEDULER_LOOP_SECONDS": "1",
        "WIRECOPY_CONFIG": str(root / "wirecopy.toml") if (root / "wirecopy.toml").is_file() else "",
        "WIRECOPY_DB": str(root / "warehouse.duckdb"),
        "WIRECOPY_INBOX__DIR": str(root / "inbox"),
        "WIRECOPY_INBOX__SETTLE_SECONDS": str(settle_seconds),
        "WIRECOPY_SCHEDULES__INBOX": inbox_schedule,
        "WIRECOPY_SCHEDULES__FEEDS": "off",
        "WIRECOPY_SERVER__POLL_SECONDS": str(poll_seconds),
    } | (extra_env or {})
    log = root / "wirecopy-server.out"
    with open(log, "wb") as out:
        process = subprocess.Popen(
            [WIRECOPY, "server", "--port", str(port)], cwd=root, env=env, stdout=out, stderr=subprocess.STDOUT
        )
    served = ServedProject(root=root, port=port, env=env, process=process, log=log)
    try:
        wait_until(
            lambda: process.poll() is not None or _all_registered(served),
            timeout,
            interval=0.5,
            what="three deployments registered",
        )
    except TimeoutError:
        served.stop()
        raise
    if process.poll() is not None:
        raise RuntimeError(f"wirecopy server exited with {process.returncode}: {served.output()[-2000:]}")
    return served


def _all_registered(served: ServedProject) -> bool:
    try:
        names = ("inbox/ingest-inbox", "feeds/ingest-feeds", "ingest/ingest-adhoc")
        return all(served.deployment(name) for name in names)
    except httpx.HTTPError:
        return False


def documents_from(db: Path, name: str) -> int:
    """Documents whose source file is called `name` (0 while the warehouse is missing or busy)."""
    from wirecopy.warehouse.db import WarehouseBusy, WarehouseMissing, session

    try:
        with session(db, read_only=True, wait_seconds=2) as con:
            query = "SELECT count(*) FROM documents WHERE source_uri LIKE ?"
            return con.execute(query, ["%/" + name]).fetchone()[0]
    except (WarehouseBusy, WarehouseMissing):
        return 0


def article(number: int) -> str:
    """A distinct short article (its paragraphs are new to the warehouse)."""
    return "\n\n".join(
        f"Article {number}, paragraph {p}: the measurement run number {number} reports item {p} with a few more "
        f"words so that the paragraph is long enough to be shingled and indexed ({time.time_ns()})."
        for p in range(3)
    )
