"""Typed records that cross stage boundaries (connectors → transform → warehouse)."""

from __future__ import annotations

import hashlib
import re
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

_SURROGATE = re.compile("[\ud800-\udfff]")


def escape_surrogates(text: str) -> str:
    """`text` with every lone surrogate written as a backslash escape, so it can be encoded as UTF-8 (stored,
    printed, logged). A file name's byte that is not UTF-8 (Python's surrogateescape, U+DC80–U+DCFF) becomes
    `\\xNN`, the byte; any other lone surrogate (e.g. `\\ud800` from JSON) becomes `\\uNNNN`."""
    if _SURROGATE.search(text) is None:
        return text
    return _SURROGATE.sub(_escape_one, text)


def _escape_one(match: re.Match) -> str:
    code = ord(match.group())
    return f"\\x{code - 0xDC00:02x}" if 0xDC80 <= code <= 0xDCFF else f"\\u{code:04x}"


def has_surrogates(text: str) -> bool:
    return _SURROGATE.search(text) is not None


SafeStr = Annotated[str, AfterValidator(escape_surrogates)]
"""A string that is always valid UTF-8: names and reasons that may carry a non-UTF-8 file name."""


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

    source_uri: SafeStr = Field(description="file path, URL, or `path#line` for JSONL records")
    outlet: SafeStr
    content: str
    content_type: ContentType
    content_hash: str
    fetched_at: UtcDatetime = Field(
        default=None, description="when the source captured the article (HTTP fetch, file mtime, field)"
    )
    title: SafeStr | None = None
    published_at: UtcDatetime = None
    url: SafeStr | None = None
    entry_title: SafeStr | None = Field(
        default=None, description="the title the feed entry linking the article gave: used where the page has none"
    )
    entry_published_at: UtcDatetime = Field(
        default=None, description="the date the feed entry gave: used where the page has none"
    )

    @property
    def doc_id(self) -> str:
        """Identity of a document: the same bytes from the same outlet are the same document."""
        return content_hash(f"{self.outlet}\x00{self.content_hash}")

    @property
    def source_key(self) -> str:
        """The same bytes read from the same place (path or URL): stored already whatever outlet this read gives it
        (the outlet rule depends on the folder an ingest is given). `warehouse/sql.py` makes the same key in SQL."""
        return source_key(self.source_uri, self.content_hash)


def source_key(source_uri: str, raw_content_hash: str) -> str:
    """md5 of the source and its content hash (DuckDB's md5, so the stored documents' keys need no Python)."""
    return hashlib.md5(f"{source_uri}\x1f{raw_content_hash}".encode(), usedforsecurity=False).hexdigest()


class IngestError(_Record):
    """An input that could not be turned into a document, with the reason."""

    source_uri: SafeStr
    stage: str = Field(description="read | fetch | decode | clean | load")
    reason: SafeStr


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


class RunSummary(BaseModel):
    """What one ingest run did; printed, logged and stored in `ingest_runs`."""

    run_id: str
    inputs: int = 0
    documents_new: int = 0
    documents_seen: int = 0
    paragraphs: int = 0
    duplicates: dict[str, int] = Field(default_factory=lambda: {method.value: 0 for method in DedupMethod})
    boilerplate_removed: int = 0
    errors: int = 0
    feed_entries_deferred: int = Field(0, description="feed entries over the per-feed cap, left for later runs")
    status: str = "completed"
    seconds: float = 0.0
    stage_seconds: dict[str, float] = Field(default_factory=dict)
    error_messages: list[str] = Field(default_factory=list)
