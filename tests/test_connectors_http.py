"""fetch_url against a real HTTP server on 127.0.0.1: fixtures, faults, safety and politeness."""

from __future__ import annotations

import pickle
import socket
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime

import pytest
from wirecopy.connectors.feeds import feed_entries, is_feed
from wirecopy.connectors.http import FetchError, FetchPolicy, HostLimiter, fetch_url, outlet_for_url
from wirecopy.connectors.sources import iter_sources

from tests.http_fixture_server import ARABIC_TEXT, FixtureServer, fault_routes, fixture_bytes, loopback_policy
from wirecopy.models import ContentType, IngestError, RawDocument, content_hash

POLICY = loopback_policy()


@pytest.fixture(scope="module")
def server() -> Iterator[FixtureServer]:
    with FixtureServer(fault_routes()) as running:
        yield running


def fetch_error(url: str, policy: FetchPolicy = POLICY) -> FetchError:
    with pytest.raises(FetchError) as caught:
        fetch_url(url, policy=policy)
    error = caught.value
    assert error.url == url
    assert str(error).startswith(url)
    return error


def test_article_200(server: FixtureServer) -> None:
    url = server.url("/article")
    doc = fetch_url(url, policy=POLICY)
    expected = fixture_bytes("article.html").decode("utf-8")
    assert doc.content == expected
    assert doc.content_hash == content_hash(expected)
    assert doc.content_type is ContentType.HTML
    assert doc.source_uri == url and doc.url == url
    assert doc.outlet == "127.0.0.1"
    assert doc.fetched_at is not None and doc.fetched_at.tzinfo is not None
    assert doc.fetched_at <= datetime.now(UTC)
    assert server.headers_seen[server.hits.index("/article")]["User-Agent"] == POLICY.user_agent


def test_plain_text_content_type(server: FixtureServer) -> None:
    doc = fetch_url(server.url("/plain"), policy=POLICY)
    assert doc.content_type is ContentType.TEXT and doc.content == "Plain text article.\n"


def test_missing_content_type_is_sniffed(server: FixtureServer) -> None:
    doc = fetch_url(server.url("/no-content-type"), policy=POLICY)
    assert doc.content_type is ContentType.TEXT


@pytest.mark.parametrize(("path", "status"), [("/missing", 404), ("/gone", 410)])
def test_not_found_is_permanent(server: FixtureServer, path: str, status: int) -> None:
    error = fetch_error(server.url(path))
    assert not error.retryable
    assert error.status == status
    assert f"HTTP {status}" in str(error)


@pytest.mark.parametrize(("path", "status"), [("/error", 500), ("/unavailable", 503), ("/throttled", 429)])
def test_server_errors_are_retryable(server: FixtureServer, path: str, status: int) -> None:
    error = fetch_error(server.url(path))
    assert error.retryable
    assert error.status == status
    assert f"HTTP {status}" in str(error)


def test_retry_after_is_reported(server: FixtureServer) -> None:
    assert fetch_error(server.url("/unavailable")).retry_after == 7.0


def test_slow_response_times_out_retryable(server: FixtureServer) -> None:
    error = fetch_error(server.url("/slow"), POLICY.model_copy(update={"read_timeout": 0.2}))
    assert error.retryable
    assert "timed out" in error.reason


def test_dripping_body_hits_total_deadline(server: FixtureServer) -> None:
    error = fetch_error(server.url("/drip"), POLICY.model_copy(update={"total_timeout": 0.3}))
    assert error.retryable
    assert "total_timeout" in error.reason


def test_redirect_loop_is_permanent(server: FixtureServer) -> None:
    error = fetch_error(server.url("/loop-a"))
    assert not error.retryable
    assert "redirect loop" in error.reason


def test_redirect_chain_within_limit(server: FixtureServer) -> None:
    url = server.url("/hop/1")
    doc = fetch_url(url, policy=POLICY)
    assert doc.source_uri == url
    assert doc.url == server.url("/article")


def test_too_many_redirects(server: FixtureServer) -> None:
    error = fetch_error(server.url("/hop/1"), POLICY.model_copy(update={"max_redirects": 2}))
    assert not error.retryable
    assert "more than 2 redirects" in error.reason


def test_redirect_without_location(server: FixtureServer) -> None:
    error = fetch_error(server.url("/no-location"))
    assert not error.retryable and "without Location" in error.reason


@pytest.mark.parametrize(("path", "words"), [("/huge-declared", "Content-Length"), ("/huge-streamed", "body exceeds")])
def test_huge_body_is_refused(server: FixtureServer, path: str, words: str) -> None:
    error = fetch_error(server.url(path))
    assert not error.retryable
    assert words in error.reason and "max_bytes 1000000" in error.reason


def test_binary_content_type_is_refused(server: FixtureServer) -> None:
    error = fetch_error(server.url("/image.png"))
    assert not error.retryable
    assert "content type image/png is not accepted" in error.reason


def test_binary_body_with_html_type_is_refused(server: FixtureServer) -> None:
    error = fetch_error(server.url("/binary-as-html"))
    assert not error.retryable and "not text" in error.reason


def test_empty_body_is_refused(server: FixtureServer) -> None:
    error = fetch_error(server.url("/empty"))
    assert not error.retryable and "empty body" in error.reason


@pytest.mark.parametrize(("path", "address"), [("/to-metadata", "169.254.169.254"), ("/to-private", "10.1.2.3")])
def test_redirect_to_private_address_is_refused(server: FixtureServer, path: str, address: str) -> None:
    error = fetch_error(server.url(path))
    assert not error.retryable
    assert f"non-public address {address}" in error.reason
    assert "redirect to http://" in error.reason


def test_redirect_to_other_scheme_is_refused(server: FixtureServer) -> None:
    error = fetch_error(server.url("/to-ftp"))
    assert not error.retryable and "scheme 'ftp' is not allowed" in error.reason


def test_loopback_needs_explicit_permission(server: FixtureServer) -> None:
    strict = POLICY.model_copy(update={"allowed_private_networks": ()})
    error = fetch_error(server.url("/article"), strict)
    assert not error.retryable
    assert "non-public address 127.0.0.1" in error.reason
    opened = strict.model_copy(update={"allow_private_addresses": True})
    assert fetch_url(server.url("/article"), policy=opened).content_type is ContentType.HTML


@pytest.mark.parametrize("url", ["ftp://example.org/x", "file:///etc/passwd", "http:///nohost"])
def test_non_http_urls_are_refused(url: str) -> None:
    assert not fetch_error(url).retryable


def test_connection_refused_is_retryable() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    error = fetch_error(f"http://127.0.0.1:{port}/article")
    assert error.retryable
    assert "connection failed" in error.reason


@pytest.mark.parametrize("path", ["/cp1256-header", "/cp1256-meta", "/cp1256-undeclared"])
def test_cp1256_pages_decode(server: FixtureServer, path: str) -> None:
    doc = fetch_url(server.url(path), policy=POLICY)
    assert ARABIC_TEXT in doc.content


def test_rss_and_atom_feeds(server: FixtureServer) -> None:
    rss = fetch_url(server.url("/rss.xml"), policy=POLICY)
    atom = fetch_url(server.url("/atom.xml"), policy=POLICY)
    assert is_feed(rss) and is_feed(atom)
    assert not is_feed(fetch_url(server.url("/article"), policy=POLICY))
    rss_entries = feed_entries(rss)
    assert [e.link for e in rss_entries] == [server.url("/article"), server.url("/plain"), server.url("/gone")]
    assert rss_entries[0].title == "أذربيجان تطلق عملية عسكرية"
    assert rss_entries[0].published_at == datetime(2023, 9, 19, 8, 15, tzinfo=UTC)
    assert rss_entries[2].published_at is None
    atom_entries = feed_entries(atom)
    assert [(e.link, e.published_at) for e in atom_entries] == [
        (server.url("/article"), datetime(2024, 2, 1, 11, 0, tzinfo=UTC)),
        (server.url("/plain"), datetime(2024, 2, 3, 4, 5, 6, tzinfo=UTC)),
    ]


def test_iter_sources_expands_feeds_and_reports_failures(server: FixtureServer) -> None:
    results = list(iter_sources([server.url("/rss.xml"), server.url("/missing")], policy=POLICY))
    documents = [r for r in results if isinstance(r, RawDocument)]
    errors = [r for r in results if isinstance(r, IngestError)]
    assert [d.url for d in documents] == [server.url("/article"), server.url("/plain")]
    assert documents[0].entry_title == "أذربيجان تطلق عملية عسكرية"  # kept apart: the page's own title comes first
    assert documents[1].entry_published_at == datetime(2023, 9, 20, 8, 0, tzinfo=UTC)
    assert documents[0].title is None and documents[1].published_at is None  # cleaning extracts the page's
    assert [(e.source_uri, e.stage) for e in errors] == [
        (server.url("/gone"), "fetch"),
        (server.url("/missing"), "fetch"),
    ]
    assert "HTTP 404" in errors[1].reason
    [feed] = list(iter_sources([server.url("/atom.xml")], policy=POLICY, expand_feeds=False))
    assert isinstance(feed, RawDocument) and is_feed(feed)


def test_per_host_concurrency_limit(server: FixtureServer) -> None:
    policy = POLICY.model_copy(update={"max_concurrency_per_host": 2})
    with ThreadPoolExecutor(max_workers=6) as pool:
        documents = list(pool.map(lambda _: fetch_url(server.url("/slow-ok"), policy=policy), range(6)))
    assert len(documents) == 6
    assert 1 <= server.max_concurrent["/slow-ok"] <= 2


def test_host_limiter_spaces_requests_per_host() -> None:
    now = [100.0]
    sleeps: list[float] = []

    def sleep(seconds: float) -> None:
        sleeps.append(seconds)
        now[0] += seconds

    limiter = HostLimiter(clock=lambda: now[0], sleep=sleep)
    for host in ["a.example", "a.example", "b.example", "a.example"]:
        with limiter.slot(host, min_delay=1.5, max_concurrency=1):
            pass
    assert sleeps == [1.5, 1.5]


def test_outlet_for_url_strips_www() -> None:
    assert outlet_for_url("https://WWW.Example.com:8443/a/b") == "example.com"
    assert outlet_for_url("https://news.example.org/") == "news.example.org"


def test_fetch_error_survives_pickling() -> None:
    error = FetchError("https://example.org/a", "HTTP 503 Service Unavailable", retryable=True, status=503)
    copy = pickle.loads(pickle.dumps(error))
    assert (copy.url, copy.reason, copy.retryable, copy.status, str(copy)) == (
        error.url,
        error.reason,
        True,
        503,
        str(error),
    )
