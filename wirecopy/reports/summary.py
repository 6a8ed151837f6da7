"""Human-readable run summaries (terminal table rows and the Prefect markdown artifact)."""

from __future__ import annotations

from wirecopy.models import RunSummary


def summary_rows(summary: RunSummary) -> list[tuple[str, str]]:
    dup = summary.duplicates
    return [
        ("run", summary.run_id),
        ("inputs", str(summary.inputs)),
        ("documents (new / already stored)", f"{summary.documents_new} / {summary.documents_seen}"),
        ("paragraphs (new)", str(summary.paragraphs)),
        ("duplicates exact / near / containment",
         f"{dup.get('exact', 0)} / {dup.get('near', 0)} / {dup.get('containment', 0)}"),
        ("boilerplate segments removed", str(summary.boilerplate_removed)),
        ("errors", str(summary.errors)),
        ("seconds", f"{summary.seconds:.2f}"),
    ]  # fmt: skip


def summary_markdown(summary: RunSummary) -> str:
    lines = ["# wirecopy ingest", "", "| measure | value |", "|---|---|"]
    lines += [f"| {name} | {value} |" for name, value in summary_rows(summary)]
    if summary.stage_seconds:
        lines += ["", "| stage | seconds |", "|---|---|"]
        lines += [f"| {stage} | {sec:.3f} |" for stage, sec in summary.stage_seconds.items()]
    if summary.error_messages:
        lines += ["", "## Errors", ""] + [f"- {m}" for m in summary.error_messages[:50]]
    return "\n".join(lines)
