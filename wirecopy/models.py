"""Typed records that cross stage boundaries (connectors → transform → warehouse)."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from enum import StrEnum
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field


def _as_utc(value: datetime | None) -> datetime | None:
    """Naive datetimes are taken as UTC so that every timestamp compares with every other."""
    if value is not None and value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value


UtcDatetime = Annotated[datetime | None, AfterValidator(_as_utc)]


class ContentType(StrEnum):
    TEXT = "text"
    HTML = "html"


class DedupMethod(StrEnum):
    EXACT = "exact"
    NEAR = "near"
    CONTAINMENT = "containment"


def content_hash(data: str | bytes) -> str:
    """Stable 128-bit hex digest used as the identity of raw content."""
    if isinstance(data, str):
        data = data.encode("utf-8")
    return hashlib.blake2b(data, digest_size=16).hexdigest()


class _Record(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class RawDocument(_Record):
    """One article as a connector produced it, before any cleaning."""

    source_uri: str = Field(description="file path, URL, or `path#line` for JSONL records")
    outlet: str
    content: str
    content_type: ContentType
    content_hash: str
    fetched_at: UtcDatetime = Field(
        default=None, description="when the source captured the article (HTTP fetch, file mtime, field)"
    )
    title: str | None = None
    published_at: UtcDatetime = None
    url: str | None = None

    @property
    def doc_id(self) -> str:
        """Identity of a document: the same bytes from the same outlet are the same document."""
        return content_hash(f"{self.outlet}\x00{self.content_hash}")


class IngestError(_Record):
    """An input that could not be turned into a document, with the reason."""

    source_uri: str
    stage: str = Field(description="read | fetch | decode | clean | load")
    reason: str


class RemovedSegment(_Record):
    """A piece of the raw text that cleaning dropped, kept for audit."""

    line_no: int
    text: str
    rule: str


class CleanDocument(_Record):
    """A document after boilerplate removal, split into paragraphs."""

    doc_id: str
    source_uri: str
    outlet: str
    title: str | None = None
    author: str | None = None
    published_at: UtcDatetime = None
    fetched_at: UtcDatetime = None
    canonical_url: str | None = None
    language: str | None = None
    paragraphs: list[str]
    removed: list[RemovedSegment] = Field(default_factory=list)


class Paragraph(_Record):
    """One paragraph of a clean document, with its matching form."""

    paragraph_id: str
    doc_id: str
    position: int
    text: str
    normalized: str
    text_hash: int = Field(description="signed 64-bit hash of `normalized`: the exact-match key")
    token_count: int


class DuplicateLink(_Record):
    """A paragraph judged a copy of an earlier canonical paragraph."""

    paragraph_id: str
    canonical_id: str
    cluster_id: str
    method: DedupMethod
    similarity: float


class RunSummary(BaseModel):
    """What one ingest run did; printed, logged and stored in `ingest_runs`."""

    run_id: str
    inputs: int = 0
    documents_new: int = 0
    documents_seen: int = 0
    paragraphs: int = 0
    duplicates: dict[str, int] = Field(default_factory=dict)
    boilerplate_removed: int = 0
    errors: int = 0
    seconds: float = 0.0
    stage_seconds: dict[str, float] = Field(default_factory=dict)
    error_messages: list[str] = Field(default_factory=list)
