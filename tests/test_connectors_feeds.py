"""Feed detection and entry extraction on in-memory documents."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from wirecopy.connectors.feeds import feed_entries, is_feed

from wirecopy.models import ContentType, RawDocument, content_hash


def raw(content: str, url: str | None = "https://news.example.org/feeds/main.xml") -> RawDocument:
    return RawDocument(
        source_uri=url or "/tmp/feed.xml",
        outlet="news.example.org",
        content=content,
        content_type=ContentType.HTML,
        content_hash=content_hash(content),
        url=url,
    )


LATIN1_RSS = """<?xml version="1.0" encoding="ISO-8859-1"?>
<!-- generated -->
<rss version="2.0"><channel><title>Le fil</title>
<item><title>Été brûlant à Genève</title><link>/2024/07/ete.html</link>
<pubDate>Mon, 01 Jul 2024 06:30:00 +0200</pubDate></item>
<item><title>Doublon</title><link>https://news.example.org/2024/07/ete.html</link></item>
</channel></rss>"""

RDF = """<?xml version="1.0"?>
<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns="http://purl.org/rss/1.0/"
  xmlns:dc="http://purl.org/dc/elements/1.1/">
<channel rdf:about="https://x.example/"><title>RDF</title><link>https://x.example/</link></channel>
<item rdf:about="https://x.example/a"><title>A</title><link>https://x.example/a</link>
<dc:date>2024-03-04T05:06:07Z</dc:date></item>
</rdf:RDF>"""


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (LATIN1_RSS, True),
        (RDF, True),
        ('<feed xmlns="http://www.w3.org/2005/Atom"><title>t</title></feed>', True),
        ("<!DOCTYPE html><html><body><p>feed me</p></body></html>", False),
        ("Plain text that mentions <rss> later.", False),
        ("/etc/passwd", False),
    ],
)
def test_is_feed(content: str, expected: bool) -> None:
    assert is_feed(raw(content)) is expected


def test_already_decoded_latin1_feed_keeps_accents_and_resolves_links() -> None:
    entries = feed_entries(raw(LATIN1_RSS))
    assert len(entries) == 1
    [entry] = entries
    assert entry.title == "Été brûlant à Genève"
    assert entry.link == "https://news.example.org/2024/07/ete.html"
    assert entry.published_at == datetime(2024, 7, 1, 4, 30, tzinfo=UTC)


def test_rdf_entries() -> None:
    [entry] = feed_entries(raw(RDF))
    assert entry.link == "https://x.example/a"
    assert entry.published_at == datetime(2024, 3, 4, 5, 6, 7, tzinfo=UTC)


def test_non_feed_has_no_entries() -> None:
    assert feed_entries(raw("/etc/passwd", url=None)) == []
    assert feed_entries(raw("<html><body><a href='/x'>x</a></body></html>")) == []
