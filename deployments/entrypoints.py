"""The flows that served deployments run: only what a caller of the Prefect API should choose.

The Prefect API of `wirecopy server` has no authentication (it listens on loopback only), so anyone on the
machine can create flow runs. The deployments therefore do not run `wirecopy.flows.ingest.ingest` itself, whose
parameters include the warehouse path and a fetch policy that can switch off the private-address guard:

    ingest/ingest-adhoc   `sources` only (files, directories, globs, http(s) URLs)
    inbox/ingest-inbox    no parameters: the inbox is `inbox.dir`
    feeds/ingest-feeds    no parameters: the feeds are `feeds`

The warehouse (`db`), the fetch policy, the inbox directory and every limit come from the server's
configuration (wirecopy.toml / WIRECOPY_* of the process that serves). The deployments are registered with
`enforce_parameter_schema`, so the API refuses a run with any other parameter (HTTP 409), and a run that got
one anyway fails before doing anything (the flow functions take no such argument).

Each flow keeps the name of the flow it wraps (the deployment names stay `ingest/…`, `inbox/…`, `feeds/…`) and
runs that flow's body in its own run, not as a subflow.
"""

from __future__ import annotations

from prefect import flow
from prefect.task_runners import ThreadPoolTaskRunner
from wirecopy.flows.feeds import feeds as feeds_flow
from wirecopy.flows.inbox import inbox as inbox_flow
from wirecopy.flows.ingest import FETCH_WORKERS
from wirecopy.flows.ingest import ingest as ingest_flow

from wirecopy.inbox import InboxOutcome
from wirecopy.models import RunSummary


@flow(name="ingest", log_prints=False, task_runner=ThreadPoolTaskRunner(max_workers=FETCH_WORKERS))
def ingest_sources(sources: list[str]) -> RunSummary:
    """Ingest `sources` (files, directories, globs, http(s) URLs) into the server's warehouse, with the server's
    fetch policy and limits."""
    return ingest_flow.fn(sources=list(sources))


@flow(name="inbox", log_prints=False)
def ingest_inbox() -> InboxOutcome:
    """Ingest the files settled in the server's inbox directory (`inbox.dir`)."""
    return inbox_flow.fn()


@flow(name="feeds", log_prints=False)
def ingest_feeds() -> RunSummary | None:
    """Ingest the server's configured feeds (`feeds`)."""
    return feeds_flow.fn()
