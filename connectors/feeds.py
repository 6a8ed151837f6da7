"""RSS / Atom feeds: recognise a fetched feed and list its entries (via feedparser)."""

from __future__ import annotations

import io
import re
from datetime import UTC, datetime
from time import struct_time
from urllib.parse import urljoin

import feedparser
from pydantic import BaseModel, ConfigDict

from wirecopy.models import RawDocument

_FEED_ROOT = re.compile(
    r"^\s*(?:<\?[^>]*\?>\s*|<!--.*?-->\s*|<!DOCTYPE[^>]*>\s*)*<(?:[\w.-]+:)?(?:rss|feed|RDF)\b",
    re.IGNORECASE | re.DOTALL,
)
_XML_ENCODING = re.compile(r"""^(\s*<\?xml[^>]*?encoding\s*=\s*)(["'])[^"']*\2""", re.IGNORECASE)


class FeedEntry(BaseModel):
    """One item of a feed: where the article is, its title and when it was published."""

    model_config = ConfigDict(frozen=True)

    link: str
    title: str | None = None
    published_at: datetime | None = None
    summary: str | None = None


def is_feed(raw: RawDocument) -> bool:
    """True when the document's root element is ``<rss>``, ``<feed>`` (Atom) or ``<rdf:RDF>``."""
    return bool(_FEED_ROOT.match(raw.content[:16_384]))


def feed_entries(raw: RawDocument) -> list[FeedEntry]:
    """Entries of a feed with a link, in feed order, links made absolute and de-duplicated."""
    if not is_feed(raw):
        return []
    # The content is already decoded: hand feedparser UTF-8 bytes (a stream, so it never treats the
    # text as a URL or file name) and make the XML declaration agree.
    xml = _XML_ENCODING.sub(r"\1\2utf-8\2", raw.content, count=1)
    parsed = feedparser.parse(
        io.BytesIO(xml.encode("utf-8")),
        response_headers={"content-type": "application/xml; charset=utf-8"},
        sanitize_html=False,
        resolve_relative_uris=False,
    )
    base = raw.url or raw.source_uri
    entries: list[FeedEntry] = []
    seen: set[str] = set()
    for entry in parsed.entries:
        link = _entry_link(entry)
        if not link:
            continue
        link = urljoin(base, link.strip())
        if link in seen:
            continue
        seen.add(link)
        entries.append(
            FeedEntry(
                link=link,
                title=(entry.get("title") or "").strip() or None,
                published_at=_entry_date(entry),
                summary=entry.get("summary") or None,
            )
        )
    return entries


def newest_first(entries: list[FeedEntry], cap: int) -> tuple[list[FeedEntry], list[FeedEntry]]:
    """(the `cap` newest entries, the rest): by publication date, newest first, undated ones last in feed order.

    A run fetches the first list; the rest are counted as deferred and fetched by later runs (each run skips
    the links already stored, so the next newest ones move up)."""
    order = sorted(
        range(len(entries)),
        key=lambda i: (entries[i].published_at is None, -(entries[i].published_at or _EPOCH).timestamp(), i),
    )
    ranked = [entries[i] for i in order]
    return ranked[:cap], ranked[cap:]


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _entry_link(entry: feedparser.FeedParserDict) -> str | None:
    if entry.get("link"):
        return str(entry["link"])
    for link in entry.get("links", []):
        if link.get("href") and link.get("rel", "alternate") == "alternate":
            return str(link["href"])
    return None


def _entry_date(entry: feedparser.FeedParserDict) -> datetime | None:
    for key in ("published_parsed", "updated_parsed", "created_parsed"):
        value = entry.get(key)
        if isinstance(value, struct_time):
            return datetime(*value[:6], tzinfo=UTC)
    return None


def with_entry_metadata(article: RawDocument, entry: FeedEntry) -> RawDocument:
    """The article with the feed entry's title and date, which cleaning uses where the page itself gives none (the
    page's own are extracted later: a page stores the same values whether it came from a feed or not)."""
    return article.model_copy(update={"entry_title": entry.title, "entry_published_at": entry.published_at})
