"""The `inbox` flow (deployment `inbox/ingest-inbox`): ingest the files that settled in the inbox directory.

Claims settled files (wirecopy.inbox), ingests the claim directory with the `ingest` flow as a subflow,
then moves each file to `.done/` or, when ingest refused it, to `.failed/` with the reason. When the
ingest fails as a whole (e.g. the warehouse stayed locked for `lock_wait_seconds`), every claimed file
is put back into the inbox for the next run and this run fails with the ingest's message.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from prefect import flow, get_run_logger
from prefect.artifacts import create_markdown_artifact
from wirecopy.flows.ingest import ingest
from wirecopy.flows.report import refresh_report
from wirecopy.warehouse.db import WarehouseBusy

from wirecopy.config import load_settings
from wirecopy.inbox import Inbox, InboxOutcome, failures_of, record_errors


@flow(name="inbox", log_prints=False)
def inbox(directory: str | None = None, db: str | None = None) -> InboxOutcome:
    """Ingest files newly settled in the inbox (default: the `inbox.dir` setting) exactly once."""
    settings = load_settings(db=Path(db) if db else None)
    logger = get_run_logger()
    box = Inbox(
        Path(directory) if directory else settings.inbox.dir,
        settle_seconds=settings.inbox.settle_seconds,
        ignore=settings.inbox.ignore,
        max_files=settings.inbox.max_files,
        warehouse=settings.db,
    )
    if not box.root.is_dir():
        logger.warning("inbox directory %s does not exist (setting inbox.dir): nothing to do", box.root)
        return InboxOutcome()
    recovered = box.recover()
    if recovered:
        logger.warning("put back %d file(s) claimed by a run that died", recovered)
    claim = box.claim()
    if claim is None:
        waiting = len(box.pending())
        logger.info("inbox %s: nothing settled (%d file(s) still being written)", box.root, waiting)
        refresh_report(settings)  # when an ad-hoc run published since the last report, or it failed
        return InboxOutcome(waiting=waiting, recovered=recovered)
    logger.info("inbox %s: claimed %d file(s) as %s", box.root, len(claim.files), claim.id)
    try:
        summary = ingest(
            sources=[str(claim.root)], db=str(settings.db), recorded_as=box.recorded_as(claim), all_file_types=True
        )
    except BaseException as error:
        box.release(claim)
        left = f"{len(claim.files)} inbox file(s) left for the next run"
        logger.error("ingest failed; %s", left)
        if isinstance(error, WarehouseBusy):
            raise WarehouseBusy(f"{error}; {left}") from error
        raise
    outcome = box.finish(claim, failures_of(claim, summary.error_messages, box.root))
    partial = record_errors(claim, summary.error_messages, box.root)
    outcome = replace(
        outcome, run_id=summary.run_id, waiting=len(box.pending()), recovered=recovered, record_errors=partial
    )
    logger.info("inbox: %d file(s) done (%d record error(s)), %d failed", len(outcome.done), len(partial),
                len(outcome.failed))  # fmt: skip
    create_markdown_artifact(key="inbox-files", markdown=_markdown(box.root, outcome), description="wirecopy inbox")
    refresh_report(settings)
    return outcome


def _markdown(root: Path, outcome: InboxOutcome) -> str:
    lines = [f"# inbox {root}", "", f"claim `{outcome.claim_id}`: {len(outcome.done)} done, "
             f"{len(outcome.failed)} failed, {outcome.waiting} waiting", ""]  # fmt: skip
    lines += [f"- done: `{name}`" for name in outcome.done[:200]]
    lines += [f"- failed: `{name}`: {reason}" for name, reason in list(outcome.failed.items())[:200]]
    lines += [f"- record error: {message}" for message in outcome.record_errors[:200]]
    return "\n".join(lines)
