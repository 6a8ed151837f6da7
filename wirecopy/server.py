"""A local Prefect server (`prefect server start`) as a child process: start, wait until healthy, stop.

The server keeps its SQLite database under PREFECT_HOME and binds a loopback address. It runs in its own
session, so a terminal Ctrl-C reaches only the parent, which stops the server last (after the served
deployments); on Linux the server is also told to exit if the parent dies.
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Mapping
from pathlib import Path

import httpx


class ServerError(RuntimeError):
    """The Prefect server could not be started (message says why, with the log's last lines)."""


def prefect_executable() -> str:
    beside = Path(sys.executable).with_name("prefect")
    found = str(beside) if beside.exists() else shutil.which("prefect")
    if not found:
        raise ServerError("the `prefect` command is not installed next to this Python")
    return found


def port_in_use(host: str, port: int) -> bool:
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.settimeout(0.5)
        return probe.connect_ex((host, port)) == 0


def healthy(api_url: str, timeout: float = 2.0, client: httpx.Client | None = None) -> bool:
    """Whether the API answers /health. Pass a `client` when polling: a new one per call makes a TLS context
    each time (≈ 35 ms of CPU, even for http), a second of a start-up spent polling."""
    try:
        return (client or httpx).get(f"{api_url}/health", timeout=timeout).status_code == 200
    except httpx.HTTPError:
        return False


def _exit_with_parent() -> None:  # pragma: no cover - runs in the child between fork and exec
    try:
        import ctypes

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


def lease_env(environ: Mapping[str, str]) -> dict[str, str]:
    """Concurrency leases kept in a file under PREFECT_HOME instead of the server's memory, so that a restarted
    server still knows them and revokes those of runs that died with the old one (after their 300 s expire;
    `deployments.serve.crash_orphaned_runs` frees the slots of dead runs at once on Linux). A setting the user
    gave Prefect in the environment wins."""
    return {} if _LEASE_STORAGE in environ else {_LEASE_STORAGE: "prefect.server.concurrency.lease_storage.filesystem"}


_LEASE_STORAGE = "PREFECT_SERVER_CONCURRENCY_LEASE_STORAGE"


def retention_env(keep_runs_days: float, environ: Mapping[str, str]) -> dict[str, str]:
    """The Prefect server settings that delete flow runs ended more than `keep_runs_days` ago (with their logs and
    artifacts; Prefect's default keeps them forever, so a served inbox polling every few minutes grows the server's
    database without end). Settings the user gave Prefect in the environment win; 0 keeps every run."""
    if not keep_runs_days or any(name in environ for name in (_VACUUM_ENABLED, _VACUUM_RETENTION)):
        return {}
    return {_VACUUM_ENABLED: "events,flow_runs", _VACUUM_RETENTION: str(round(keep_runs_days * 86400))}


_VACUUM_ENABLED = "PREFECT_SERVER_SERVICES_DB_VACUUM_ENABLED"
_VACUUM_RETENTION = "PREFECT_SERVER_SERVICES_DB_VACUUM_RETENTION_PERIOD"


class PrefectServer:
    """`prefect server start` with its own PREFECT_HOME; `keep_runs_days`: see `retention_env`."""

    def __init__(
        self, host: str, port: int, home: Path, *, log_path: Path | None = None, keep_runs_days: float = 0.0
    ) -> None:
        self.host, self.port, self.home = host, port, home
        self.keep_runs_days = keep_runs_days
        self.log_path = log_path or home / "server.log"
        self.process: subprocess.Popen | None = None
        bracketed = f"[{host}]" if ":" in host else host
        self.url = f"http://{bracketed}:{port}"
        self.api_url = self.url + "/api"

    def start(self, timeout: float = 90.0) -> None:
        """Start the server and return once /api/health answers; ServerError otherwise."""
        if port_in_use(self.host, self.port):
            raise ServerError(
                f"{self.host}:{self.port} is already in use (another `wirecopy server`?); choose another with --port"
            )
        self.home.mkdir(parents=True, exist_ok=True)
        env = os.environ | {"PREFECT_HOME": str(self.home), "PREFECT_SERVER_ANALYTICS_ENABLED": "false"}
        env |= retention_env(self.keep_runs_days, os.environ) | lease_env(os.environ)
        env.pop("PREFECT_API_URL", None)
        command = [prefect_executable(), "server", "start", "--host", self.host, "--port", str(self.port)]
        with open(self.log_path, "ab") as log:
            self.process = subprocess.Popen(
                command,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                preexec_fn=_exit_with_parent if sys.platform.startswith("linux") else None,
            )
        deadline = time.monotonic() + timeout
        with httpx.Client() as client:
            while not healthy(self.api_url, timeout=1.0, client=client):
                if self.process.poll() is not None:
                    raise ServerError(
                        f"the Prefect server exited with code {self.process.returncode}: {self._log_tail()}"
                    )
                if time.monotonic() > deadline:
                    self.stop()
                    raise ServerError(f"the Prefect server did not answer within {timeout:.0f}s: {self._log_tail()}")
                time.sleep(0.2)

    def stop(self, grace_seconds: float = 15.0) -> int | None:
        """SIGTERM the server's process group, SIGKILL after the grace period; returns its exit code."""
        process = self.process
        if process is None or process.poll() is not None:
            return None if process is None else process.returncode
        self._signal_group(signal.SIGTERM)
        try:
            return process.wait(timeout=grace_seconds)
        except subprocess.TimeoutExpired:
            self._signal_group(signal.SIGKILL)
            return process.wait(timeout=5)

    def _signal_group(self, signum: int) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signum)

    def _log_tail(self, lines: int = 5) -> str:
        try:
            text = self.log_path.read_text(encoding="utf-8", errors="replace").strip().splitlines()
        except OSError:
            return f"see {self.log_path}"
        return " | ".join(text[-lines:]) + f" (log: {self.log_path})"


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as probe:
        probe.bind((host, 0))
        return probe.getsockname()[1]


@contextlib.contextmanager
def temporary_api(home: Path, *, timeout: float = 90.0, while_starting: Callable[[], object] | None = None):
    """A Prefect API for the flow runs of one command (`wirecopy ingest`, `inbox`, `reprocess`), stopped when
    the command ends, however it ends.

    Prefect would start a temporary server by itself, but as a plain child: a terminal's Ctrl-C reached it
    before the flow had recorded its end, and a command ended by SIGTERM or SIGKILL left it running, orphaned.
    This one runs in its own session (signals sent to the command do not reach it), is stopped in `finally`,
    and is told by the kernel to exit if the command dies (PR_SET_PDEATHSIG). Nothing is started when an API
    is already configured (PREFECT_API_URL, or a Prefect settings context such as the test harness's).
    `while_starting` is called once the server process is launched, before waiting for it: the command's own
    imports (Prefect, the flow's modules: 1–2 s) then overlap the server's start-up instead of preceding it;
    with an API already configured, it is called at once (work it starts ahead overlaps those imports)."""
    if os.environ.get("PREFECT_API_URL") or _api_in_settings():
        if while_starting is not None:
            while_starting()
        yield None
        return
    home.mkdir(parents=True, exist_ok=True)
    log_path = home / "temporary-server.log"
    deadline = time.monotonic() + timeout
    server = None
    try:
        with httpx.Client() as client:
            for attempt in range(5):
                # uvicorn exits 3 when its start-up fails: another process took the port meanwhile, or another
                # temporary server was migrating the same Prefect database (PREFECT_HOME): try again, a bit later
                time.sleep(0.5 * attempt)
                server = _start_temporary(home, log_path)
                api_url = server.api_url
                if while_starting is not None and attempt == 0:
                    while_starting()
                while not healthy(api_url, timeout=1.0, client=client):
                    if server.process.poll() is not None:
                        break
                    if time.monotonic() > deadline:
                        raise ServerError(
                            f"the temporary Prefect server did not answer within {timeout:.0f}s (a busy machine? "
                            "raise server.startup_timeout_seconds, or run `wirecopy server` and use --remote): "
                            f"{server._log_tail()}"
                        )
                    time.sleep(0.1)
                else:
                    break
                if server.process.returncode != 3:
                    raise ServerError(f"the temporary Prefect server exited with code {server.process.returncode}: "
                                      f"{server._log_tail()}")  # fmt: skip
            else:
                raise ServerError(f"the temporary Prefect server found no free port: {server._log_tail()}")
        os.environ["PREFECT_API_URL"] = api_url
        try:
            yield api_url
        finally:
            _drain_prefect_workers()
    finally:
        os.environ.pop("PREFECT_API_URL", None)
        if server is not None:
            server.stop(grace_seconds=10)


def _drain_prefect_workers(timeout: float = 10.0) -> None:
    """Send the logs and events Prefect still holds while the temporary server answers: drained at exit
    instead, they would be retried against a stopped server for a minute or more, then reported as lost."""
    if "prefect" not in sys.modules:
        return
    from prefect.events.worker import EventsWorker
    from prefect.logging.handlers import APILogWorker

    for worker in (APILogWorker, EventsWorker):
        with contextlib.suppress(Exception):  # a failed drain must not hide how the command ended
            worker.drain_all(timeout=timeout)


SKIP_BLOCK_REGISTRATION = {
    "PREFECT_SERVER_REGISTER_BLOCKS_ON_START": "false",
    "PREFECT_SERVER_MEMOIZE_BLOCK_AUTO_REGISTRATION": "false",
}
"""A temporary server registers no block types: no wirecopy flow uses a block, and Prefect's memoised registration
still imports every installed collection (prefect-dask, hence dask and distributed) and hashes the block registry at
each start: 0.6 of its 3.9 CPU-s (measured, an existing PREFECT_HOME). `wirecopy server` keeps Prefect's default."""


def _start_temporary(home: Path, log_path: Path) -> PrefectServer:
    """Prefect's API app under uvicorn on a free loopback port, in its own session, exiting with its parent.
    Prefect is found, not imported (≈ 1.3 s): the server starts first."""
    prefect_package = importlib.util.find_spec("prefect").submodule_search_locations[0]
    port = free_port()
    env = os.environ | {
        "PREFECT_HOME": str(home),
        "PREFECT_UI_ENABLED": "0",
        "PREFECT__SERVER_EPHEMERAL": "1",
        "PREFECT__SERVER_FINAL": "1",
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        **SKIP_BLOCK_REGISTRATION,
    }
    command = [
        sys.executable, "-m", "uvicorn", "--app-dir", str(Path(prefect_package).parent), "--factory",
        "prefect.server.api.server:create_app", "--host", "127.0.0.1", "--port", str(port), "--log-level", "error",
        "--lifespan", "on",
    ]  # fmt: skip
    with open(log_path, "ab") as log:
        process = subprocess.Popen(
            command, env=env, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
            preexec_fn=_exit_with_parent if sys.platform.startswith("linux") else None,
        )  # fmt: skip
    server = PrefectServer("127.0.0.1", port, home, log_path=log_path)
    server.process = process
    return server


def _api_in_settings() -> bool:
    """Whether Prefect, already imported, has an API URL in its current settings (e.g. a test harness)."""
    if "prefect" not in sys.modules:
        return False
    from prefect.settings import get_current_settings

    return bool(get_current_settings().api.url)
