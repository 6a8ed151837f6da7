"""Every input kind through the real ingest flow: URLs and feeds from a real server on 127.0.0.1, faults,
bad files and a JSONL file with a bad line. Each failure is one `ingest_errors` row and the run goes on."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest
from wirecopy.flows.ingest import ingest

from tests.http_fixture_server import FixtureServer, Route, fault_routes, loopback_policy
from tests.linkcheck import table_counts

ALLOW_PRIVATE_ENV = "WIRECOPY_FETCH__ALLOWED_PRIVATE_NETWORKS"

POLICY = loopback_policy()
FAST = {"fetch_policy": POLICY, "fetch_retry_delay_seconds": 0.05}
RETRIES = 2  # the flow's default


def news_page(n: int) -> bytes:
    body = "".join(
        f"<p>Story {n}, paragraph {i}: the harbour authority in town number {n} said on Monday that the ferry "
        f"timetable for line {i} will change next month because the {n}th pier is being rebuilt.</p>"
        for i in range(3)
    )
    return f"<html><head><title>Story {n}</title></head><body><article>{body}</article></body></html>".encode()


FEED = b"""<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0"><channel><title>News</title><link>{base}/</link>
<item><title>Story one</title><link>{base}/news/1</link><pubDate>Mon, 04 Mar 2024 08:00:00 GMT</pubDate></item>
<item><title>Story two</title><link>{base}/news/2</link><pubDate>Tue, 05 Mar 2024 08:00:00 GMT</pubDate></item>
<item><title>Lost story</title><link>{base}/missing</link></item>
</channel></rss>"""


DATED_PAGE = (
    "<html><head><title>Harbour works begin</title>"
    '<meta property="article:published_time" content="2024-03-01T10:00:00+00:00"></head><body><article>'
    + news_page(4).decode().split("<article>")[1]
).encode()
DATED_FEED = b"""<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0"><channel><title>News</title><link>{base}/</link>
<item><title>Item 0</title><link>{base}/dated</link><pubDate>Mon, 01 Jan 2024 08:00:00 GMT</pubDate></item>
</channel></rss>"""


@pytest.fixture(scope="module")
def server() -> Iterator[FixtureServer]:
    routes = fault_routes() | {
        "/news/1": Route(body=news_page(1)),
        "/news/2": Route(body=news_page(2)),
        "/news/3": Route(body=news_page(3)),
        "/feed.xml": Route(body=FEED, content_type="application/rss+xml"),
        "/dated": Route(body=DATED_PAGE),
        "/dated-feed.xml": Route(body=DATED_FEED, content_type="application/rss+xml"),
    }
    with FixtureServer(routes) as running:
        yield running


def errors(db: Path) -> dict[str, tuple[str, str]]:
    """source_uri → (stage, reason) of every ingest_errors row."""
    with duckdb.connect(str(db), read_only=True) as con:
        rows = con.execute("SELECT source_uri, stage, reason FROM ingest_errors").fetchall()
    assert len({r[0] for r in rows}) == len(rows), rows
    return {uri: (stage, reason) for uri, stage, reason in rows}


def scalar(db: Path, query: str, *params):
    with duckdb.connect(str(db), read_only=True) as con:
        return con.execute(query, list(params)).fetchone()[0]


def without_runs(counts: dict[str, int]) -> dict[str, int]:
    """Row counts but the run history (`ingest_runs`, `run_errors`), which every run adds to."""
    return {table: rows for table, rows in counts.items() if table not in ("ingest_runs", "run_errors")}


def test_article_url_is_ingested(prefect_harness, server: FixtureServer, db_path: Path) -> None:
    url = server.url("/article")
    summary = ingest(sources=[url], db=str(db_path), **FAST)
    assert (summary.documents_new, summary.errors) == (1, 0)
    assert scalar(db_path, "SELECT count(*) FROM raw_documents WHERE source_uri = ? AND url = ?", url, url) == 1
    text = scalar(db_path, "SELECT string_agg(text, ' ') FROM paragraph_dedup")
    assert "شنت أذربيجان عملية عسكرية جديدة" in text


@pytest.mark.parametrize("batching", [{}, {"batch_files": 1}], ids=["one batch", "a batch per page"])
def test_feed_articles_ingested_once(prefect_harness, server: FixtureServer, db_path: Path, batching: dict) -> None:
    feed = server.url("/feed.xml")
    hits = {path: server.hits.count(path) for path in ("/news/1", "/news/2")}  # the server serves every test

    def fetched(path: str) -> int:
        return server.hits.count(path) - hits[path]

    first = ingest(sources=[feed], db=str(db_path), **FAST, **batching)
    assert first.documents_new == 2
    assert fetched("/news/1") == fetched("/news/2") == 1
    stored = scalar(db_path, "SELECT list(source_uri ORDER BY source_uri) FROM documents")
    assert stored == [server.url("/news/1"), server.url("/news/2")]
    entry = scalar(db_path, "SELECT (entry_title, entry_published_at::VARCHAR) FROM raw_documents WHERE source_uri = ?",
                   server.url("/news/1"))  # fmt: skip
    assert entry[0] == "Story one" and entry[1].startswith("2024-03-04")  # what the feed entry said, kept apart
    title, published = scalar(
        db_path, "SELECT (title, published_at::VARCHAR) FROM documents WHERE source_uri = ?", server.url("/news/1")
    )
    assert title == "Story 1" and published.startswith("2024-03-04")  # the page's own title; the entry's date
    assert first.errors == 1 and "HTTP 404" in errors(db_path)[server.url("/missing")][1]
    counts = table_counts(db_path)

    feed_hits = server.hits.count("/feed.xml")
    second = ingest(sources=[feed], db=str(db_path), **FAST, **batching)
    assert (second.documents_new, second.documents_seen) == (0, 2)  # the stored links, not fetched again
    assert first.inputs == second.inputs == 3  # two articles and the dead link, each run
    assert fetched("/news/1") == fetched("/news/2") == 1, "stored articles fetched again"
    assert server.hits.count("/feed.xml") == feed_hits + 1
    after = table_counts(db_path)
    assert after.pop("ingest_runs") == counts.pop("ingest_runs") + 1
    assert after.pop("run_errors") == counts.pop("run_errors") + 1  # the dead link, met again
    assert after == counts


FAULTS = {
    "/missing": ("HTTP 404", "not retried"),
    "/error": ("HTTP 500", f"gave up after {RETRIES + 1} attempts"),
    "/slow": ("timed out", f"gave up after {RETRIES + 1} attempts"),
    "/loop-a": ("redirect loop", "not retried"),
    "/huge-declared": ("exceeds max_bytes", "not retried"),
    "/huge-streamed": ("body exceeds max_bytes", "not retried"),
    "/image.png": ("content type image/png is not accepted", "not retried"),
    "/binary-as-html": ("not text: binary content", "not retried"),
}


def test_each_fetch_fault_is_one_error_row_and_the_run_goes_on(
    prefect_harness, server: FixtureServer, db_path: Path
) -> None:
    sources = [server.url("/news/3"), *(server.url(path) for path in FAULTS)]
    hits_before = server.hits.count("/error")
    summary = ingest(sources=sources, db=str(db_path), **FAST)
    assert summary.documents_new == 1 and summary.errors == len(FAULTS)
    assert scalar(db_path, "SELECT errors FROM ingest_runs WHERE run_id = ?", summary.run_id) == len(FAULTS)
    found = errors(db_path)
    assert set(found) == {server.url(path) for path in FAULTS}
    for path, fragments in FAULTS.items():
        stage, reason = found[server.url(path)]
        assert stage == "fetch"
        assert reason.startswith(server.url(path) + ": ")
        for fragment in fragments:
            assert fragment in reason, (path, reason)
    assert server.hits.count("/error") - hits_before == RETRIES + 1
    counts = table_counts(db_path)

    again = ingest(sources=sources, db=str(db_path), **FAST)
    assert again.errors == len(FAULTS) and again.documents_seen == 1
    after = table_counts(db_path)
    assert after["ingest_runs"] == counts["ingest_runs"] + 1
    assert without_runs(after) == without_runs(counts)


def test_private_addresses_need_configuration(
    prefect_harness, server: FixtureServer, db_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = server.url("/plain")
    monkeypatch.delenv(ALLOW_PRIVATE_ENV, raising=False)
    refused = ingest(sources=[url], db=str(db_path))
    assert refused.documents_new == 0
    assert "resolves to non-public address 127.0.0.1" in errors(db_path)[url][1]

    monkeypatch.setenv(ALLOW_PRIVATE_ENV, '["127.0.0.1/32"]')
    allowed = ingest(sources=[url], db=str(db_path))
    assert (allowed.documents_new, allowed.errors) == (1, 0)


GOOD_TEXT = (
    "The regional council approved the new water budget on Thursday after a long debate about pipes.\n\n"
    "Farmers in the valley said the decision came too late for this season's harvest of wheat and barley.\n"
)

BAD_FILES: dict[str, tuple[bytes, str, str]] = {
    "empty.txt": (b"", "read", "is empty"),
    "image.txt": (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(64), "decode", "is not text: binary content"),
    "garbage.txt": (bytes(range(0x80, 0x100)) * 4, "decode", "cannot be decoded"),
    "big.txt": (GOOD_TEXT.encode() * 40, "read", "over the limit of 2000 bytes"),
    "script.html": (
        b"<html><head><title>t</title></head><body><script>var a = 1;</script></body></html>",
        "clean",
        "HTML page has no article text",
    ),
}


def test_bad_files_are_error_rows_and_change_nothing_else(
    prefect_harness, db_path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("WIRECOPY_MAX_FILE_BYTES", "2000")
    good = tmp_path / "good" / "council.txt"
    good.parent.mkdir()
    good.write_text(GOOD_TEXT, encoding="utf-8")
    assert ingest(sources=[str(good.parent)], db=str(db_path)).documents_new == 1
    baseline = table_counts(db_path)

    bad = tmp_path / "bad"
    bad.mkdir()
    for name, (data, _, _) in BAD_FILES.items():
        (bad / name).write_bytes(data)
    summary = ingest(sources=[str(bad)], db=str(db_path))
    assert summary.errors == len(BAD_FILES) and summary.documents_new == 0
    found = errors(db_path)
    assert set(found) == {str(bad / name) for name in BAD_FILES}
    for name, (_, stage, fragment) in BAD_FILES.items():
        assert found[str(bad / name)][0] == stage
        assert fragment in found[str(bad / name)][1], (name, found[str(bad / name)])
    after_bad = table_counts(db_path)
    assert after_bad["ingest_errors"] == baseline["ingest_errors"] + len(BAD_FILES)
    changed = {t for t in after_bad if after_bad[t] != baseline[t]}
    assert changed == {"ingest_errors", "run_errors", "ingest_runs"}

    rerun = ingest(sources=[str(bad)], db=str(db_path))
    assert rerun.errors == len(BAD_FILES)
    again = table_counts(db_path)
    assert again["ingest_runs"] == after_bad["ingest_runs"] + 1
    assert again["run_errors"] == after_bad["run_errors"] + len(BAD_FILES)  # the run met them again …
    assert without_runs(again) == without_runs(after_bad)  # … and nothing else changed: one row per failure
    with duckdb.connect(str(db_path), read_only=True) as con:
        met = con.execute(
            "SELECT e.source_uri FROM run_errors r JOIN ingest_errors e USING (error_id) WHERE r.run_id = ?",
            [rerun.run_id],
        ).fetchall()
        recorded = con.execute("SELECT errors FROM ingest_runs WHERE run_id = ?", [rerun.run_id]).fetchone()[0]
    assert sorted(uri for (uri,) in met) == sorted(str(bad / name) for name in BAD_FILES)
    assert recorded == len(BAD_FILES)


def test_jsonl_with_one_bad_line(prefect_harness, db_path: Path, tmp_path: Path) -> None:
    lines = [
        json.dumps({"outlet": "wire", "url": "https://wire.example/a", "text": GOOD_TEXT}),
        '{"outlet": "wire", "text": "unterminated',
        json.dumps({"outlet": "wire", "text": "A different story about the new tram line that opens next May."}),
    ]
    path = tmp_path / "wire.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    summary = ingest(sources=[str(path)], db=str(db_path))
    assert (summary.documents_new, summary.errors) == (2, 1)
    stage, reason = errors(db_path)[f"{path}#L2"]
    assert stage == "read" and "invalid JSON" in reason
    assert scalar(db_path, "SELECT count(DISTINCT outlet) FROM documents") == 1


def test_files_read_again_through_another_folder_are_stored_once(prefect_harness, db_path: Path, tmp_path: Path):
    """The folder an ingest is given decides a file's outlet (`corp/` → `gazette`, `corp/gazette/` → the file's
    own name): the same bytes from the same path are already stored whatever outlet a later read gives them, so
    they do not come back as another outlet's copies. Other bytes at that path are a new document."""
    gazette = tmp_path / "corp" / "gazette"
    gazette.mkdir(parents=True)
    for n in range(2):
        (gazette / f"a{n}.txt").write_text(f"{GOOD_TEXT}\n\nStory {n} of the gazette, told once.", encoding="utf-8")
    first = ingest(sources=[str(tmp_path / "corp")], db=str(db_path))
    assert (first.documents_new, first.documents_seen) == (2, 0)
    counts = table_counts(db_path)

    for again in (ingest(sources=[str(gazette)], db=str(db_path)), ingest(sources=[str(gazette)], db=str(db_path),
                                                                          outlet="other")):  # fmt: skip
        assert (again.documents_new, again.documents_seen, again.paragraphs) == (0, 2, 0)
    after = table_counts(db_path)
    assert after.pop("ingest_runs") == counts.pop("ingest_runs") + 2 and after == counts
    with duckdb.connect(str(db_path), read_only=True) as con:
        assert con.execute("SELECT DISTINCT outlet FROM documents").fetchall() == [("gazette",)]

    (gazette / "a0.txt").write_text(f"{GOOD_TEXT}\n\nStory 0, corrected.", encoding="utf-8")
    edited = ingest(sources=[str(gazette)], db=str(db_path))
    assert (edited.documents_new, edited.documents_seen) == (1, 1)


def test_a_copy_seen_under_another_name_is_not_stored_later_under_another_outlet(
    prefect_harness, db_path: Path, tmp_path: Path
) -> None:
    """`b.txt`, a byte copy of `a.txt` in the same outlet folder, is seen, not stored; its place is remembered
    (`document_sources`), so reading the folder itself later (each file then its own outlet) stores nothing."""
    folder = tmp_path / "dup" / "x"
    folder.mkdir(parents=True)
    text = f"{GOOD_TEXT}\n\nOne story, saved twice."
    for name in ("a.txt", "b.txt"):
        (folder / name).write_text(text, encoding="utf-8")
    (tmp_path / "dup" / "y").mkdir()
    (tmp_path / "dup" / "y" / "c.txt").write_text(f"{GOOD_TEXT}\n\nAnother story.", encoding="utf-8")
    first = ingest(sources=[str(tmp_path / "dup")], db=str(db_path))
    assert (first.documents_new, first.documents_seen) == (2, 1)
    assert scalar(db_path, "SELECT list(source_uri) FROM document_sources") == [str(folder / "b.txt")]
    counts = table_counts(db_path)

    again = ingest(sources=[str(folder)], db=str(db_path))
    assert (again.documents_new, again.documents_seen) == (0, 2)
    after = table_counts(db_path)
    assert after.pop("ingest_runs") == counts.pop("ingest_runs") + 1 and after == counts


def test_a_page_keeps_its_own_title_and_date_whether_it_came_from_a_feed_or_not(
    prefect_harness, server: FixtureServer, tmp_path: Path
) -> None:
    """The feed entry's title and date fill in only what the page lacks, so the order in which a page and a feed
    listing it are ingested does not change what is stored."""
    page, feed = server.url("/dated"), server.url("/dated-feed.xml")
    stored = []
    for name, order in (("page-first", [page, feed]), ("feed-first", [feed, page])):
        db = tmp_path / f"{name}.duckdb"
        for source in order:
            ingest(sources=[source], db=str(db), **FAST)
        stored.append(scalar(db, "SELECT list((title, published_at::VARCHAR)) FROM documents"))
    assert stored[0] == stored[1]
    assert [(title, published[:10]) for title, published in stored[0]] == [("Harbour works begin", "2024-03-01")]
