"""Serve the three wirecopy deployments from one process (the alternative to `prefect deploy` + a worker).

    inbox/ingest-inbox   schedules.inbox (default every 15 min): files settled in inbox.dir
    feeds/ingest-feeds   schedules.feeds (default hourly): the configured feed URLs
    ingest/ingest-adhoc  no schedule:  prefect deployment run 'ingest/ingest-adhoc' -p sources='["a.txt"]'

The two scheduled deployments run one at a time: a tick that falls while the previous run of the same
deployment is still going is cancelled by the API before any process starts ("Deployment concurrency limit
reached"), and the next tick picks up whatever is left. Without that, ticks that come faster than the runs finish
(a short interval, a large backlog, a loaded machine) start process after process until the machine thrashes.
Ad-hoc runs are never dropped: they all run, and their commits take turns on the writer lock.

Ticks missed while nothing served the deployments are not replayed: Prefect's scheduler creates a deployment's
runs ahead (up to 100 of them: 17 minutes of a 10-second inbox), and a server started after a pause would otherwise
hand every one that fell due meanwhile to the runner at once, to be cancelled one by one by the concurrency limit
while the API stalls for a minute. `drop_missed_runs` deletes those runs before serving starts; the next tick
ingests whatever arrived meanwhile.

Needs a running Prefect API (PREFECT_API_URL): `wirecopy server` starts one and calls `serve_deployments`;
`python -m wirecopy.deployments.serve` serves against a server you run yourself. Schedules stay active when the
process stops (pause_on_shutdown=False). Flow runs execute in child processes that inherit this
process's environment and working directory, so they read the same wirecopy.toml / WIRECOPY_* settings.
The deployments take only `sources` (ad-hoc) or nothing (inbox, feeds): deployments/entrypoints.py.
"""

from __future__ import annotations

import contextlib
import os
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

from wirecopy.config import ConfigError, Settings, load_settings
from wirecopy.schedules import Schedule

INBOX, FEEDS, ADHOC = "ingest-inbox", "ingest-feeds", "ingest-adhoc"
TAGS = ["wirecopy"]
# Flow results are persisted (tiny: a summary) so `wirecopy ingest --remote` can print them; task results,
# which hold whole documents, are not.
RESULT_ENV = {"PREFECT_RESULTS_PERSIST_BY_DEFAULT": "true", "PREFECT_TASKS_DEFAULT_PERSIST_RESULT": "false"}


def deployment_names() -> dict[str, str]:
    """Full `flow/deployment` names, by role."""
    return {"inbox": f"inbox/{INBOX}", "feeds": f"feeds/{FEEDS}", "adhoc": f"ingest/{ADHOC}"}


def describe_schedule(settings: Settings, role: str) -> str:
    """'cron '*/15 * * * *' (UTC)', 'every 10s' or 'no schedule' for a deployment role."""
    schedule = settings.schedules.parsed(role) if role in ("inbox", "feeds") else None
    if schedule is None:
        return "no schedule"
    return schedule.describe() + (f" ({settings.schedules.timezone})" if schedule.cron else "")


def prefect_schedules(schedule: Schedule | None, timezone: str) -> list:
    from prefect.schedules import Cron, Interval

    if schedule is None:
        return []
    if schedule.cron is not None:
        return [Cron(schedule.cron, timezone=timezone)]
    return [Interval(timedelta(seconds=schedule.interval_seconds), timezone=timezone)]


def one_at_a_time():
    """Deployment concurrency of a scheduled poller: one run at a time, a colliding tick is cancelled."""
    from prefect.client.schemas.objects import ConcurrencyLimitConfig, ConcurrencyLimitStrategy

    return ConcurrencyLimitConfig(limit=1, collision_strategy=ConcurrencyLimitStrategy.CANCEL_NEW)


def build_deployments(settings: Settings) -> list:
    """RunnerDeployments for the three deployments, schedules taken from the settings."""
    from prefect.deployments.runner import EntrypointType
    from wirecopy.deployments.entrypoints import ingest_feeds, ingest_inbox, ingest_sources

    zone = settings.schedules.timezone
    common: dict = {
        "tags": TAGS,
        "paused": False,
        "entrypoint_type": EntrypointType.MODULE_PATH,
        "enforce_parameter_schema": True,  # the API refuses any parameter the entry point does not take
    }
    deployments = [
        ingest_inbox.to_deployment(
            INBOX,
            schedules=prefect_schedules(settings.schedules.parsed("inbox"), zone),
            concurrency_limit=one_at_a_time(),
            description=f"Ingest files settled in the inbox ({settings.inbox.dir}); processed files go to .done/",
            **common,
        ),
        ingest_feeds.to_deployment(
            FEEDS,
            schedules=prefect_schedules(settings.schedules.parsed("feeds"), zone),
            concurrency_limit=one_at_a_time(),
            description="Ingest the configured RSS/Atom feeds (setting `feeds`).",
            **common,
        ),
        ingest_sources.to_deployment(
            ADHOC,
            description="Ad-hoc ingest: prefect deployment run 'ingest/ingest-adhoc' -p sources='[\"path-or-url\"]'",
            **common,
        ),
    ]
    for deployment in deployments:
        _refuse_other_parameters(deployment)
    return deployments


def _refuse_other_parameters(deployment) -> None:
    """Make the deployment's parameter schema closed (JSON Schema `additionalProperties: false`): with
    `enforce_parameter_schema` the API then answers 409 to a run with a parameter the entry point does not take,
    instead of creating a run that would fail."""
    from prefect.utilities.callables import ParameterSchema

    class ClosedSchema(ParameterSchema):
        additionalProperties: bool = False

    schema = deployment._parameter_openapi_schema
    deployment._parameter_openapi_schema = ClosedSchema(**schema.model_dump(), additionalProperties=False)


def crash_orphaned_runs(client) -> int:
    """Mark Crashed the runs of the served deployments that a server left Pending or Running when it died (a
    crash, SIGKILL, a reboot) and that no process on this machine still executes; returns how many.

    Such a run keeps its deployment's concurrency slot: Prefect's lease on it lived in the dead server's memory,
    so it never expires, and the limit of one (`one_at_a_time`) then cancelled every later inbox or feeds tick,
    for good. Crashed releases the slot. A run's process carries its id in its environment
    (`PREFECT__FLOW_RUN_ID`), so an orphan that survived its server is left alone. Needs Linux's /proc: elsewhere
    nothing is marked."""
    from prefect.client.schemas.objects import StateType
    from prefect.states import Crashed

    live = flow_runs_in_processes()
    if live is None:
        return 0
    unfinished = _runs_of([INBOX, FEEDS, ADHOC], [StateType.PENDING, StateType.RUNNING, StateType.CANCELLING])
    crashed = 0
    for run in client.read_flow_runs(**unfinished, limit=_PAGE):
        if str(run.id) not in live:
            message = "the wirecopy server running it stopped before it finished (found when the server restarted)"
            client.set_flow_run_state(run.id, Crashed(message=message))
            crashed += 1
    return crashed


def flow_runs_in_processes() -> set[str] | None:
    """Flow-run ids in the environment of this machine's processes (those this user may read); None without
    /proc."""
    proc = Path("/proc")
    if not proc.is_dir():
        return None
    found = set()
    for entry in proc.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            environment = (entry / "environ").read_bytes()
        except OSError:  # gone, or another user's
            continue
        for variable in environment.split(b"\0"):
            if variable.startswith(b"PREFECT__FLOW_RUN_ID="):
                found.add(variable.split(b"=", 1)[1].decode(errors="replace"))
    return found


def drop_missed_runs(client, now: datetime | None = None) -> int:
    """Delete the scheduler's runs of the scheduled deployments (inbox, feeds) that fell due before `now` and
    never started: ticks missed while nothing served them. Ad-hoc runs and runs made by hand are kept. Returns
    how many were deleted."""
    from prefect.client.schemas.objects import StateType
    from prefect.client.schemas.sorting import FlowRunSort
    from prefect.exceptions import ObjectNotFound

    missed = _runs_of([INBOX, FEEDS], [StateType.SCHEDULED], before=now or datetime.now(UTC))
    deleted = kept = 0
    while True:  # a page at a time, oldest first; the runs kept stay at the front
        runs = client.read_flow_runs(**missed, sort=FlowRunSort.EXPECTED_START_TIME_ASC, limit=_PAGE, offset=kept)
        drop = [run for run in runs if run.auto_scheduled]
        for run in drop:
            with contextlib.suppress(ObjectNotFound):  # started or deleted meanwhile
                client.delete_flow_run(run.id)
        deleted, kept = deleted + len(drop), kept + len(runs) - len(drop)
        if len(runs) < _PAGE:
            return deleted


def _runs_of(deployments: list[str], states: list, before: datetime | None = None) -> dict:
    """`read_flow_runs` filters: runs of these deployments (names) in these state types, expected to start by
    `before` when given."""
    from prefect.client.schemas.filters import (
        DeploymentFilter,
        DeploymentFilterName,
        FlowRunFilter,
        FlowRunFilterExpectedStartTime,
        FlowRunFilterState,
        FlowRunFilterStateType,
    )

    timing = {} if before is None else {"expected_start_time": FlowRunFilterExpectedStartTime(before_=before)}
    runs = FlowRunFilter(state=FlowRunFilterState(type=FlowRunFilterStateType(any_=states)), **timing)
    return {"flow_run_filter": runs, "deployment_filter": DeploymentFilter(name=DeploymentFilterName(any_=deployments))}


_PAGE = 200


def serve_deployments(settings: Settings, *, owns_api: bool = False) -> None:
    """Register the deployments and execute their runs until interrupted (Ctrl-C / SIGTERM); ticks missed while
    nothing served them are dropped first (`drop_missed_runs`). `owns_api`: the Prefect server was started by
    this command on this machine (`wirecopy server`), so a run no process here executes is dead
    (`crash_orphaned_runs`); against a server run by someone else, another machine may be executing it."""
    for name, value in RESULT_ENV.items():
        os.environ.setdefault(name, value)
    from prefect import get_client, serve

    with get_client(sync_client=True) as client:
        crashed = crash_orphaned_runs(client) if owns_api else 0
        dropped = drop_missed_runs(client)
    if crashed:
        print(f"marked {crashed} runs Crashed: left unfinished by a server that stopped", file=sys.stderr)
    if dropped:
        print(f"dropped {dropped} scheduled runs missed while no server was running", file=sys.stderr)

    serve(
        *build_deployments(settings),
        pause_on_shutdown=False,
        print_starting_message=False,
        limit=settings.server.limit,
        query_seconds=settings.server.poll_seconds,
    )


def main() -> int:
    try:
        settings = load_settings()
    except ConfigError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    if not os.environ.get("PREFECT_API_URL"):
        print("error: PREFECT_API_URL is not set: start a server (`wirecopy server` does both)", file=sys.stderr)
        return 2
    for role, name in deployment_names().items():
        print(f"serving {name}: {describe_schedule(settings, role)}")
    serve_deployments(settings)
    return 0


if __name__ == "__main__":
    sys.exit(main())
