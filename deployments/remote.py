"""Run a deployment on a running Prefect server and wait for its result (`wirecopy ingest --remote`).

PREFECT_API_URL must be set before Prefect is imported. The flow result is read from the result storage
the served flow wrote it to (a local path: client and server must share the machine's filesystem).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


class RemoteRunError(RuntimeError):
    """The remote run failed, was cancelled or did not finish in time (message says which, with its id);
    `status`: `failed`, or `running` when the run goes on on the server and only this wait ended."""

    status = "failed"


class StillRunning(RemoteRunError):
    """The wait ended (timeout, Ctrl-C, SIGTERM) while the run goes on on the server."""

    status = "running"


@dataclass
class RemoteRun:
    flow_run_id: str
    state: str
    result: Any
    seconds: float


def run_remote(
    deployment: str,
    parameters: dict[str, Any],
    *,
    timeout: float,
    poll_seconds: float = 0.25,
    on_state: Callable[[str], None] | None = None,
) -> RemoteRun:
    """Create a run of `deployment` ('flow/deployment'), wait until it ends, return its result."""
    from prefect.client.orchestration import get_client
    from prefect.exceptions import ObjectNotFound

    started = time.perf_counter()
    with get_client(sync_client=True) as client:
        try:
            target = client.read_deployment_by_name(deployment)
        except ObjectNotFound:
            raise RemoteRunError(f"no deployment {deployment!r} on the server: is `wirecopy server` running?") from None
        flow_run = client.create_flow_run_from_deployment(target.id, parameters=parameters)
        deadline = started + timeout
        last = None
        try:
            while True:
                flow_run = client.read_flow_run(flow_run.id)
                state = flow_run.state
                if on_state and state is not None and state.name != last:
                    last = state.name
                    on_state(state.name)
                if state is not None and state.is_final():
                    break
                if time.perf_counter() > deadline:
                    raise StillRunning(
                        f"flow run {flow_run.id} still {last} after {timeout:g}s: it keeps running on the server "
                        "(`wirecopy runs` shows how it ends)"
                    )
                time.sleep(poll_seconds)
        except KeyboardInterrupt:  # Ctrl-C or SIGTERM stops the wait, not the run
            raise StillRunning(
                f"stopped waiting for flow run {flow_run.id}: it keeps running on the server "
                "(`wirecopy runs` shows how it ends)"
            ) from None
    if not state.is_completed():
        raise RemoteRunError(f"flow run {flow_run.id} ended {state.name}: {state.message or 'no message'}")
    try:
        result = state.result(raise_on_failure=True)
    except Exception as error:  # e.g. the server's result storage is not reachable from here
        raise RemoteRunError(
            f"flow run {flow_run.id} completed, but its result cannot be read here ({type(error).__name__}: {error})"
            "; `wirecopy runs` shows it"
        ) from None
    return RemoteRun(
        flow_run_id=str(flow_run.id), state=state.name, result=result, seconds=time.perf_counter() - started
    )
