"""Read one local file into RawDocuments.

Type by extension (``.txt`` text; ``.html``/``.htm``/``.xhtml`` HTML; ``.jsonl``/``.ndjson`` one article
per line), otherwise sniffed from the content (leading ``<!doctype html``/``<html`` or an early
``<head``/``<body`` → HTML; HTML markup without them, e.g. ``<p>…</p>`` lines (`is_html_fragment`) → HTML;
a first line that is a JSON object → JSONL; else text).
``fetched_at`` is the file's mtime (UTC), ``source_uri`` the absolute path, the outlet follows
`wirecopy.connectors.outlets.outlet_for`, and a ``<file>.meta.json`` sidecar may add title/published_at/url.
Every problem becomes an `IngestError`; nothing raises out of `read_file`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field
from wirecopy.connectors.encoding import UndecodableError, binary_reason, decode_bytes, sniff_declared_charset
from wirecopy.connectors.jsonl import JsonlFields, LineRange, read_jsonl
from wirecopy.connectors.outlets import OUTLETS_FILE, SIDECAR_SUFFIX, MetadataError, outlet_for, read_sidecar

from wirecopy.models import ContentType, IngestError, RawDocument, content_hash

_HTML_START = re.compile(
    r"^\s*(?:<\?xml[^>]*>\s*)?(?:<!--.*?-->\s*)*<(?:!doctype\s+html|html)\b", re.IGNORECASE | re.DOTALL
)
_HTML_EARLY = re.compile(r"<(?:head|body)\b", re.IGNORECASE)
_LEADING_COMMENTS = re.compile(r"^\s*(?:<!--.*?-->\s*)*", re.DOTALL)
_TAG = re.compile(r"<(/?)([a-zA-Z][a-zA-Z0-9:_-]*)(?=[\s/>])[^<>]*>")

FRAGMENT_BLOCK_TAGS = frozenset({
    "p", "div", "article", "section", "main", "header", "footer", "aside", "nav", "h1", "h2", "h3", "h4", "h5",
    "h6", "ul", "ol", "li", "dl", "dt", "dd", "blockquote", "pre", "figure", "figcaption", "table", "thead",
    "tbody", "tfoot", "tr", "td", "th", "caption", "br", "hr",
})  # fmt: skip
"""Block-level tags: HTML markup without a page around it starts with one of these (or `<span>`, `<a>`) and has
at least one."""
_FRAGMENT_START_TAGS = FRAGMENT_BLOCK_TAGS | {"span", "a"}
_HTML_TAGS = _FRAGMENT_START_TAGS | frozenset({
    "abbr", "address", "area", "audio", "b", "bdi", "bdo", "big", "button", "canvas", "center", "cite", "code",
    "col", "colgroup", "data", "del", "details", "dfn", "em", "embed", "font", "form", "i", "iframe", "img",
    "input", "ins", "kbd", "label", "legend", "mark", "map", "meta", "link", "noscript", "object", "picture", "q",
    "s", "samp", "script", "small", "source", "strike", "strong", "style", "sub", "summary", "sup", "svg",
    "template", "time", "tt", "u", "var", "video", "wbr", "title", "hgroup", "menu", "fieldset", "select",
    "option", "textarea", "track", "ruby", "rt", "rp",
})  # fmt: skip
"""HTML element names: a fragment holds no other tags (an XML file's own tags, `<rss>`, `<item>`, are not these)."""


class FileKind(StrEnum):
    TEXT = "text"
    HTML = "html"
    JSONL = "jsonl"


EXTENSION_KINDS: dict[str, FileKind] = {
    ".txt": FileKind.TEXT,
    ".html": FileKind.HTML,
    ".htm": FileKind.HTML,
    ".xhtml": FileKind.HTML,
    ".jsonl": FileKind.JSONL,
    ".ndjson": FileKind.JSONL,
}


class SourceLimits(BaseModel):
    """Limits and options for reading local sources."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    max_bytes: int = Field(default=20 * 1024 * 1024, gt=0, description="per file; per line for JSONL")
    follow_symlinks_outside_root: bool = Field(
        default=False, description="read symlinks in an input folder or glob that point outside it"
    )
    jsonl_fields: JsonlFields = Field(default_factory=JsonlFields)


def is_metadata_name(name: str) -> bool:
    """``outlets.toml`` and ``*.meta.json`` sidecars describe articles; they are not articles."""
    return name == OUTLETS_FILE or name.endswith(SIDECAR_SUFFIX)


def is_ignored_name(name: str) -> bool:
    """Files skipped when walking directories and globs: hidden files and metadata files."""
    return name.startswith(".") or is_metadata_name(name)


NOT_ARTICLE_SUFFIXES = frozenset({
    ".png", ".jpg", ".jpeg", ".gif", ".webp", ".bmp", ".tif", ".tiff", ".ico", ".svg", ".heic", ".avif",
    ".mp3", ".wav", ".ogg", ".m4a", ".flac", ".mp4", ".m4v", ".mov", ".avi", ".mkv", ".webm",
    ".zip", ".gz", ".tgz", ".bz2", ".xz", ".zst", ".7z", ".rar", ".tar",
    ".pdf", ".doc", ".docx", ".odt", ".rtf", ".xls", ".xlsx", ".ods", ".ppt", ".pptx", ".epub",
    ".csv", ".tsv", ".parquet", ".arrow", ".feather", ".avro", ".orc", ".duckdb", ".db", ".sqlite", ".wal",
    ".exe", ".dll", ".so", ".dylib", ".bin", ".o", ".a", ".class", ".jar", ".pyc", ".whl",
    ".woff", ".woff2", ".ttf", ".otf", ".css", ".js", ".map", ".lock", ".log", ".tmp", ".part", ".crdownload",
})  # fmt: skip
"""Types no article comes as: skipped when a folder or a glob is walked, refused with an error when the walk gives
files of every type (`not_article_error`; a file named on its own is read, by its content). An unknown or
missing extension is read and its kind sniffed."""


def is_not_article(name: str, *, wanted_suffix: str = "") -> bool:
    """Whether a walk skips this file: its type is one of `NOT_ARTICLE_SUFFIXES`, unless a glob asked for
    exactly that suffix (`wanted_suffix`, e.g. `.csv` for `drops/*.csv`)."""
    suffix = Path(name).suffix.lower()
    return suffix in NOT_ARTICLE_SUFFIXES and suffix != wanted_suffix.lower()


def not_article_error(path: Path, *, wanted_suffix: str = "") -> IngestError | None:
    """The input error for a file a walk of every type gives (`all_file_types`: the inbox) when its type is one no
    article comes as (`is_not_article`); None for any other file. Such a file is refused, not read."""
    if not is_not_article(path.name, wanted_suffix=wanted_suffix):
        return None
    uri = str(Path(path).absolute())
    reason = (
        f"not an article file type ({path.suffix.lower()}): {uri} is not read "
        "(images, media, archives, office documents, CSV and binaries are not articles)"
    )
    return IngestError(source_uri=uri, stage="read", reason=reason)


def read_file(
    path: Path, *, limits: SourceLimits | None = None, root: Path | None = None, part: LineRange | None = None
) -> Iterator[RawDocument | IngestError]:
    """Yield the document(s) in the file at `path` (many for JSONL) or IngestErrors.

    `root` is the ingest root the file was found under; it only affects the outlet rule. `part`: only these
    lines of a `.jsonl`/`.ndjson` file (`wirecopy.connectors.jsonl.split_lines`).
    """
    limits = limits or SourceLimits()
    path = Path(path).absolute()
    uri = str(path)

    def error(reason: str, stage: str = "read") -> IngestError:
        return IngestError(source_uri=uri, stage=stage, reason=reason)

    try:
        stat = path.stat()
    except FileNotFoundError:
        yield error(f"{uri} does not exist")
        return
    except OSError as exc:
        yield error(f"cannot read {uri}: {exc.strerror or exc}")
        return
    if not path.is_file():
        yield error(f"{uri} is not a regular file")
        return
    if is_metadata_name(path.name):
        yield error(f"{uri} is a metadata file ({OUTLETS_FILE} or *{SIDECAR_SUFFIX}), not an article")
        return
    fetched_at = datetime.fromtimestamp(stat.st_mtime, tz=UTC)
    try:
        meta = read_sidecar(path)
        outlet = outlet_for(path, root=root)
    except MetadataError as exc:
        yield error(str(exc))
        return
    if stat.st_size == 0:
        yield error(f"{uri} is empty")
        return

    kind = EXTENSION_KINDS.get(path.suffix.lower())
    if kind is FileKind.JSONL:
        yield from _read_jsonl(path, outlet, fetched_at, limits, part)
        return
    if stat.st_size > limits.max_bytes:
        yield error(f"{uri} is {stat.st_size} bytes, over the limit of {limits.max_bytes} bytes")
        return
    try:
        data = path.read_bytes()
    except OSError as exc:
        yield error(f"cannot read {uri}: {exc.strerror or exc}")
        return
    reason = binary_reason(data)
    if reason:
        yield error(f"{uri} is not text: {reason}", stage="decode")
        return
    declared = sniff_declared_charset(data) if kind in (FileKind.HTML, None) else None
    try:
        text, _encoding = decode_bytes(data, declared=declared)
    except UndecodableError as exc:
        yield error(f"{uri} cannot be decoded: {exc}", stage="decode")
        return
    if not text.strip():
        yield error(f"{uri} is empty (whitespace only)")
        return
    kind = kind or sniff_kind(text)
    if kind is FileKind.JSONL:
        yield from _read_jsonl(path, outlet, fetched_at, limits)
        return
    yield RawDocument(
        source_uri=uri,
        outlet=outlet,
        content=text,
        content_type=ContentType.HTML if kind is FileKind.HTML else ContentType.TEXT,
        content_hash=content_hash(text),
        fetched_at=fetched_at,
        title=meta.title if meta else None,
        published_at=meta.published_at if meta else None,
        url=meta.url if meta else None,
    )


def _read_jsonl(
    path: Path, outlet: str, fetched_at: datetime, limits: SourceLimits, part: LineRange | None = None
) -> Iterator[RawDocument | IngestError]:
    return read_jsonl(
        path,
        outlet=outlet,
        fetched_at=fetched_at,
        fields=limits.jsonl_fields,
        max_line_bytes=limits.max_bytes,
        part=part,
    )


def sniff_kind(text: str) -> FileKind:
    """Guess the kind of a file with an unknown extension from its decoded content."""
    head = text[:4096]
    if _HTML_START.match(head) or _HTML_EARLY.search(head[:1024]) or is_html_fragment(head):
        return FileKind.HTML
    first_line = next((line for line in head.splitlines() if line.strip()), "")
    if first_line.lstrip().startswith("{"):
        try:
            if isinstance(json.loads(first_line), dict):
                return FileKind.JSONL
        except json.JSONDecodeError:
            pass
    return FileKind.TEXT


def is_html_fragment(head: str) -> bool:
    """Whether `head` (a file's first characters) is HTML markup without a page around it: after a BOM,
    whitespace and comments it starts with a block tag, `<span>` or `<a>`, holds at least one block tag
    (`FRAGMENT_BLOCK_TAGS`) and no tag that is not HTML. Text that only contains a `<` or a tag somewhere
    (`a < b`, a line with a stray `<b>`) is not: it does not start with a tag."""
    body = _LEADING_COMMENTS.sub("", head.lstrip("\ufeff"), count=1)
    first = _TAG.match(body)
    if first is None or first.group(1) or first.group(2).lower() not in _FRAGMENT_START_TAGS:
        return False
    names = {match.group(2).lower() for match in _TAG.finditer(body)}
    return names <= _HTML_TAGS and not names.isdisjoint(FRAGMENT_BLOCK_TAGS)
