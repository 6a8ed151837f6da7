"""What wirecopy shows people: run summaries (terminal, Prefect artifacts) and the syndication report (HTML)."""

from wirecopy.reports.summary import summary_markdown, summary_rows

__all__ = ["summary_markdown", "summary_rows"]
