"""JSON Lines input: one article per line.

Each non-blank line must be a JSON object with a text (``text``) or HTML (``html``) field; optional
``url``, ``outlet``, ``title``, ``published_at`` and ``fetched_at``. Which keys are read is set by
`JsonlFields` (each field lists candidate keys, dotted paths reach into nested objects; the first key
present with a non-null value is used). A line is either a valid record or an `IngestError` for
``path#L<n>``: invalid JSON, a missing text, a value of the wrong type or an unparseable date fail that
line only. Lines are streamed, so the size limit applies per line, not per file.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, field_validator
from wirecopy.connectors.encoding import UndecodableError, decode_bytes

from wirecopy.models import ContentType, IngestError, RawDocument, content_hash, escape_surrogates, has_surrogates


class JsonlFields(BaseModel):
    """Candidate JSON keys for each RawDocument field, tried in order."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    text: tuple[str, ...] = ("text", "content", "body")
    html: tuple[str, ...] = ("html", "raw_html")
    url: tuple[str, ...] = ("url", "link", "canonical_url")
    outlet: tuple[str, ...] = ("outlet", "site")
    title: tuple[str, ...] = ("title", "headline")
    published_at: tuple[str, ...] = ("published_at", "published", "date")
    fetched_at: tuple[str, ...] = ("fetched_at",)

    @field_validator("*", mode="before")
    @classmethod
    def _single_key(cls, value: Any) -> Any:
        return (value,) if isinstance(value, str) else value


class JsonlRecordError(ValueError):
    """One JSONL line cannot become a document."""


def read_jsonl(
    path: Path,
    *,
    outlet: str,
    fetched_at: datetime | None,
    fields: JsonlFields | None = None,
    max_line_bytes: int = 20 * 1024 * 1024,
    part: LineRange | None = None,
) -> Iterator[RawDocument | IngestError]:
    """Yield one RawDocument (or IngestError) per non-blank line of the JSONL file at `path`.

    `outlet` and `fetched_at` are used when a record does not carry its own. With `part`, only the lines in
    that byte range are read (their `#L<n>` numbers are the file's).
    """
    fields = fields or JsonlFields()
    records = 0
    try:
        with Path(path).open("rb", buffering=_READ_BUFFER) as handle:
            lines = _lines(handle, max_line_bytes)
            if part is not None:
                handle.seek(part.start)
                lines = _lines(handle, max_line_bytes, first_line=part.first_line, end=part.end)
            for line_no, line, strict_utf8 in lines:
                uri = f"{path}#L{line_no}"
                if line is None:
                    yield IngestError(
                        source_uri=uri, stage="read", reason=f"{uri}: line longer than {max_line_bytes} bytes"
                    )
                    records += 1
                    continue
                if not line.strip():
                    continue
                records += 1
                try:
                    yield record_to_document(
                        _parse_line(line, strict_utf8), uri=uri, fields=fields, outlet=outlet, fetched_at=fetched_at
                    )
                except JsonlRecordError as exc:
                    yield IngestError(source_uri=uri, stage="read", reason=f"{uri}: {exc}")
                except Exception as exc:  # a bug or an odd value loses this line only, never the lines after it
                    reason = f"{uri}: unexpected {type(exc).__name__}: {exc}"
                    yield IngestError(source_uri=uri, stage="read", reason=reason)
    except OSError as exc:
        reason = f"cannot read {path}: {exc.strerror or exc}"
        yield IngestError(source_uri=str(path), stage="read", reason=reason)
        return
    if records == 0 and part is None:
        yield IngestError(source_uri=str(path), stage="read", reason=f"{path}: JSONL file has no records")


@dataclass(frozen=True)
class LineRange:
    """Whole lines of a file: bytes [start, end), the first of them line number `first_line`."""

    start: int
    end: int
    first_line: int


def split_lines(path: Path, part_bytes: int, block_bytes: int = 1 << 20) -> list[LineRange]:
    """Cut a file into ranges of whole lines of about `part_bytes` each (a longer line stays whole): a large
    JSONL file is read, cleaned and loaded in several batches."""
    ranges: list[LineRange] = []
    start, first, line, position, cut_at = 0, 1, 1, 0, part_bytes  # line: the number of the line at `position`
    with Path(path).open("rb") as handle:
        while block := handle.read(block_bytes):
            offset = 0
            while position + len(block) > cut_at:  # a cut falls in this block: after the next newline
                newline = block.find(b"\n", max(offset, cut_at - position))
                if newline < 0:
                    break
                line += block.count(b"\n", offset, newline + 1)
                end = position + newline + 1
                ranges.append(LineRange(start, end, first))
                offset = newline + 1
                start, first, cut_at = end, line, end + part_bytes
            line += block.count(b"\n", offset)
            position += len(block)
    if position > start:
        ranges.append(LineRange(start, position, first))
    return ranges


def record_to_document(
    record: dict[str, Any], *, uri: str, fields: JsonlFields, outlet: str, fetched_at: datetime | None
) -> RawDocument:
    """Build a RawDocument from one parsed JSON object; raises JsonlRecordError."""
    text = _string(record, fields.text, "text")
    html = _string(record, fields.html, "html")
    if text and text.strip():
        content, content_type = text, ContentType.TEXT
    elif html and html.strip():
        content, content_type = html, ContentType.HTML
    else:
        keys = ", ".join((*fields.text, *fields.html))
        raise JsonlRecordError(f"no article text (looked for non-empty {keys})")
    record_outlet = _string(record, fields.outlet, "outlet")
    return RawDocument(
        source_uri=uri,
        outlet=record_outlet.strip() if record_outlet and record_outlet.strip() else outlet,
        content=content,
        content_type=content_type,
        content_hash=content_hash(content),
        fetched_at=_datetime(record, fields.fetched_at, "fetched_at") or fetched_at,
        title=_string(record, fields.title, "title"),
        published_at=_datetime(record, fields.published_at, "published_at"),
        url=_string(record, fields.url, "url"),
    )


def parse_datetime(value: Any) -> datetime:
    """Parse ISO 8601, RFC 2822 or epoch seconds/milliseconds into an aware datetime (naive → UTC)."""
    if isinstance(value, bool):
        raise ValueError(f"{value!r} is not a date")
    if isinstance(value, int | float):
        seconds = value / 1000 if abs(value) > 1e11 else value
        return datetime.fromtimestamp(seconds, tz=UTC)
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"{value!r} is not a date")
    text = value.strip()
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        try:
            parsed = parsedate_to_datetime(text)
        except (TypeError, ValueError, IndexError):
            raise ValueError(f"{value!r} is not a date") from None
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed


_READ_BUFFER = 1 << 20
"""Bytes read at a time: with the default 8 KB, `readline` of article-sized lines is a system call every few
lines."""


def _lines(
    handle: Any, max_line_bytes: int, first_line: int = 1, end: int | None = None
) -> Iterator[tuple[int, str | None, bool]]:
    """(line number, decoded line, whether it was strict UTF-8) up to byte `end`; the line is None when over the
    limit (it is skipped)."""
    line_no = first_line - 1
    position = handle.tell()  # counted, not asked: `tell` is a system call, a sixth of reading a record
    while end is None or position < end:
        raw = handle.readline(max_line_bytes + 1)
        if not raw:
            return
        position += len(raw)
        line_no += 1
        if len(raw) > max_line_bytes and not raw.endswith(b"\n"):
            while raw and not raw.endswith(b"\n"):
                raw = handle.readline(1024 * 1024)
                position += len(raw)
            yield line_no, None, False
            continue
        try:
            text, encoding = decode_bytes(raw)
        except UndecodableError:
            text, encoding = raw.decode("utf-8", errors="replace"), "utf-8/replace"
        yield line_no, text, encoding == "utf-8"


def _parse_line(line: str, strict_utf8: bool = False) -> dict[str, Any]:
    """The JSON object of a line; raises JsonlRecordError. A line decoded as strict UTF-8 holds no lone
    surrogate itself (the decoder refuses one), so only a `\\u` escape can put one in the record."""
    try:
        record = json.loads(line)
    except json.JSONDecodeError as exc:
        raise JsonlRecordError(f"invalid JSON ({exc.msg} at column {exc.colno})") from exc
    except RecursionError:
        raise JsonlRecordError("invalid JSON (nested too deeply)") from None
    if not isinstance(record, dict):
        raise JsonlRecordError(f"expected a JSON object, got {type(record).__name__}")
    if not strict_utf8 or "\\u" in line:  # else no string of the record can hold a lone surrogate
        _refuse_surrogates(record)
    return record


def _refuse_surrogates(value: Any, depth: int = 0) -> None:
    """JSON may escape a lone surrogate (`"\\ud800"`), which is no character: such a line is refused (as is
    one that a guessed codec such as UTF-7 decoded into the line). The walk costs a seventh of reading a
    record: `_parse_line` skips it where no string can hold one."""
    if isinstance(value, str):
        if has_surrogates(value):
            shown = escape_surrogates(value)
            raise JsonlRecordError(f"a string holds a lone surrogate, not valid Unicode: {shown[:80]!r}")
    elif isinstance(value, dict) and depth < 64:
        for key, item in value.items():
            _refuse_surrogates(key, depth + 1)
            _refuse_surrogates(item, depth + 1)
    elif isinstance(value, list) and depth < 64:
        for item in value:
            _refuse_surrogates(item, depth + 1)


def _lookup(record: dict[str, Any], keys: tuple[str, ...]) -> tuple[str, Any] | None:
    for key in keys:
        value: Any = record
        if "." not in key:
            value = record.get(key)
        else:  # a dotted path into nested objects
            for part in key.split("."):
                value = value.get(part) if isinstance(value, dict) else None
        if value is not None:
            return key, value
    return None


def _string(record: dict[str, Any], keys: tuple[str, ...], field: str) -> str | None:
    found = _lookup(record, keys)
    if found is None:
        return None
    key, value = found
    if not isinstance(value, str):
        raise JsonlRecordError(f"{field} field {key!r} must be a string, got {type(value).__name__}")
    return value


def _datetime(record: dict[str, Any], keys: tuple[str, ...], field: str) -> datetime | None:
    found = _lookup(record, keys)
    if found is None:
        return None
    key, value = found
    try:
        return parse_datetime(value)
    except (ValueError, OverflowError, OSError) as exc:
        raise JsonlRecordError(f"{field} field {key!r}: {exc}") from exc
