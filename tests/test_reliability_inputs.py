"""Reliability: generated bad inputs (files, names, symlinks, encodings, JSONL lines, paths, URLs and feeds on
127.0.0.1) go through one real ingest next to good ones. Every input is accounted for: each is either stored
(and its text is right) or has its own `ingest_errors` row naming it, and nothing else is lost."""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb
import pytest
from wirecopy.flows.ingest import ingest

from tests.http_fixture_server import FixtureServer, Route, fault_routes, loopback_policy
from wirecopy.models import escape_surrogates

ARABIC = "قالت وزارة الخارجية في بيان اليوم إن الاجتماع الوزاري سيعقد في القاهرة الأسبوع المقبل لبحث الأزمة."
FRENCH = "Le président a déclaré mercredi qu'il était prêt à négocier avec les syndicats réunis à Genève."
MAX_FILE_BYTES = 200_000
POLICY = loopback_policy().model_copy(update={"max_bytes": 1_500_000})  # the 10,000-item feed is 1.3 MB
FEED_ITEMS = 10_000
FEED_CAP = 20


def prose(tag: str) -> str:
    """A distinct, long enough article text."""
    return "\n\n".join(
        f"Dispatch {tag}, part {p}: officials in the province confirmed on Tuesday that the bridge numbered {p} "
        f"would reopen after repairs, according to the statement marked {tag}-{p}."
        for p in range(3)
    )


def page(tag: str) -> bytes:
    body = "".join(f"<p>{part}</p>" for part in prose(tag).split("\n\n"))
    return f"<html><head><title>{tag}</title></head><body><article>{body}</article></body></html>".encode()


@dataclass(frozen=True)
class Case:
    """One input and what must be stored for it: a document whose text holds `text`, or an error row for
    exactly `uri` whose reason holds `reason`."""

    name: str
    uri: str
    stored: str | None = None
    reason: str | None = None


# --- files -------------------------------------------------------------------------------------------------

FileMaker = Callable[[Path], str | None]  # writes the input under the folder; returns the expected text


def _write(name: str, data: bytes) -> FileMaker:
    def make(folder: Path) -> None:
        (folder / name).write_bytes(data)

    return make


FILE_ERRORS: dict[str, tuple[FileMaker, str]] = {
    "empty.txt": (_write("empty.txt", b""), "is empty"),
    "whitespace.txt": (_write("whitespace.txt", b"  \n\t \r\n  "), "whitespace only"),
    "nul.txt": (_write("nul.txt", b"abc\x00def\x00" * 50 + b"\x01\x02"), "not text"),
    "controls.txt": (_write("controls.txt", bytes(range(1, 9)) * 200), "not text"),
    "image.html": (_write("image.html", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)) * 4), "not text"),
    "random.dat": (_write("random.dat", bytes((i * 7919) % 251 for i in range(5000))), "not text"),
    "huge.txt": (_write("huge.txt", b"word " * (MAX_FILE_BYTES // 5 + 10)), "over the limit"),
    "garbage-mix.txt": (
        _write("garbage-mix.txt", (ARABIC + "\n").encode() * 2 + bytes([0xE9, 0x01, 0xE8, 0x02]) * 5 + b"\n"),
        "mixed encodings",
    ),
    "only-ad.txt": (_write("only-ad.txt", b"[ad_1]\n"), "no body text left after boilerplate removal"),
    "empty-records.jsonl": (_write("empty-records.jsonl", b"\n\n  \n"), "JSONL file has no records"),
    "bad-sidecar.txt": (_write("bad-sidecar.txt", prose("sidecar").encode()), "meta.json: Expecting property name"),
}
FILE_STORED: dict[str, tuple[FileMaker, str]] = {
    "latin1.txt": (_write("latin1.txt", (FRENCH + "\n\n" + prose("latin1")).encode("latin-1")), FRENCH),
    "cp1256.txt": (_write("cp1256.txt", (ARABIC + "\n\n" + ARABIC[::-1]).encode("cp1256")), ARABIC),
    "utf16le.txt": (_write("utf16le.txt", (ARABIC + "\n\n" + prose("u16le")).encode("utf-16-le")), ARABIC),
    "utf16be.txt": (_write("utf16be.txt", (FRENCH + "\n\n" + prose("u16be")).encode("utf-16-be")), FRENCH),
    "utf32le.txt": (_write("utf32le.txt", (ARABIC + "\n\n" + prose("u32le")).encode("utf-32-le")), ARABIC),
    "utf32be.txt": (_write("utf32be.txt", (FRENCH + "\n\n" + prose("u32be")).encode("utf-32-be")), FRENCH),
    "utf16-bom.txt": (_write("utf16-bom.txt", (ARABIC + "\n\n" + prose("u16bom")).encode("utf-16")), ARABIC),
    "mixed.txt": (
        _write("mixed.txt", (ARABIC + "\n\n").encode() + (FRENCH + "\n\n").encode("latin-1") + prose("mx").encode()),
        FRENCH,
    ),
    "mixed-arabic-line.txt": (
        _write("mixed-arabic-line.txt", (FRENCH + "\n\n").encode("latin-1") + (ARABIC + "\n\n").encode()),
        ARABIC,
    ),
    "no-extension": (_write("no-extension", prose("noext").encode()), "Dispatch noext"),
    "crlf.txt": (_write("crlf.txt", prose("crlf").replace("\n", "\r\n").encode()), "Dispatch crlf"),
    "utf8-bom.txt": (_write("utf8-bom.txt", b"\xef\xbb\xbf" + prose("bom8").encode()), "Dispatch bom8"),
    "page.html": (_write("page.html", page("html")), "Dispatch html"),
    "line\nbreak.txt": (_write("line\nbreak.txt", prose("newline-name").encode()), "Dispatch newline-name"),
    "spaces and ' quotes.txt": (_write("spaces and ' quotes.txt", prose("quote-name").encode()), "Dispatch quote-name"),
}

RAW_NAME_OK = b"caf\xe9-\xff.txt"  # not UTF-8: stored escaped as caf\xe9-\xff.txt
RAW_NAME_BAD = b"bad-\xfe\xfd.txt"  # not UTF-8 and empty: its error row names it escaped


def _special_files(folder: Path, outside: Path) -> dict[str, tuple[str, str | None, str | None]]:
    """Inputs that need the file system: (uri, stored text, error reason) by case name."""
    cases: dict[str, tuple[str, str | None, str | None]] = {}
    ok = os.fsdecode(os.path.join(os.fsencode(folder), RAW_NAME_OK))
    Path(ok).write_text(prose("raw-name"), encoding="utf-8")
    cases["non-utf8-name"] = (escape_surrogates(ok), "Dispatch raw-name", None)
    bad = os.fsdecode(os.path.join(os.fsencode(folder), RAW_NAME_BAD))
    Path(bad).write_bytes(b"")
    cases["non-utf8-name-error"] = (escape_surrogates(bad), None, "is empty")
    secret = outside / "secret.txt"
    secret.write_text(prose("secret"), encoding="utf-8")
    (folder / "escape.txt").symlink_to(secret)
    cases["symlink-outside"] = (str(folder / "escape.txt"), None, "outside the ingest root")
    (folder / "relative-escape.txt").symlink_to(os.path.relpath(secret, folder))
    cases["relative-symlink-outside"] = (str(folder / "relative-escape.txt"), None, "outside the ingest root")
    (outside / "dir").mkdir()
    (outside / "dir" / "inner.txt").write_text(prose("outside-dir"), encoding="utf-8")
    (folder / "linked-dir").symlink_to(outside / "dir")
    cases["symlinked-dir-outside"] = (str(folder / "linked-dir"), None, "outside the ingest root")
    (folder / "dangling.txt").symlink_to(folder / "never-written.txt")
    cases["dangling-symlink"] = (str(folder / "dangling.txt"), None, "does not exist")
    (folder / "loop-a.txt").symlink_to(folder / "loop-b.txt")
    (folder / "loop-b.txt").symlink_to(folder / "loop-a.txt")
    cases["symlink-loop"] = (str(folder / "loop-a.txt"), None, "cannot be resolved")
    (folder / "inside.txt").write_text(prose("inside"), encoding="utf-8")
    (folder / "zz-alias.txt").symlink_to(folder / "inside.txt")
    cases["symlink-inside"] = (str(folder / "inside.txt"), "Dispatch inside", None)
    os.mkfifo(folder / "pipe.txt")
    cases["fifo"] = (str(folder / "pipe.txt"), None, "not a regular file")
    (folder / "bad-sidecar.txt.meta.json").write_text("{not json", encoding="utf-8")
    return cases


# --- JSONL lines -------------------------------------------------------------------------------------------

JSONL_LINES: list[tuple[bytes, str | None, str | None]] = [  # (line, stored text, error reason)
    (json.dumps({"text": prose("jl-first"), "outlet": "wire"}).encode(), "Dispatch jl-first", None),
    (b'{"text": "unterminated', None, "invalid JSON"),
    (b'{"text": "bad \\ud800 x ' + json.dumps(prose("jl-sur"))[1:-1].encode() + b'"}', None, "lone surrogate"),
    (b"[1, 2, 3]", None, "expected a JSON object"),
    (b'{"title": "no text here"}', None, "no article text"),
    (b'{"text": 42}', None, "must be a string"),
    (json.dumps({"text": prose("jl-date"), "published_at": "not a date"}).encode(), None, "not a date"),
    (b"[" * 100_000 + b"]" * 100_000, None, "invalid JSON"),
    (b'{"text": ""}', None, "no article text"),
    (b'{"text": "' + b"x" * (MAX_FILE_BYTES + 10) + b'"}', None, "line longer than"),
    (json.dumps({"text": prose("jl-outlet"), "outlet": 5}).encode(), None, "must be a string"),
    ((json.dumps({"text": FRENCH + "\n\n" + prose("jl-latin1")}, ensure_ascii=False)).encode("latin-1"), FRENCH, None),
    (b"\x00\x01\x02 binary line", None, "invalid JSON"),
    (json.dumps({"html": page("jl-html").decode()}).encode(), "Dispatch jl-html", None),
    (json.dumps({"text": prose("jl-nested"), "extra": {"a": [1, {"b": None}]}}).encode(), "Dispatch jl-nested", None),
    (b"null", None, "expected a JSON object"),
    (b'"just a string"', None, "expected a JSON object"),
    (b'{"text": ["a", "b"]}', None, "must be a string"),
    (b'{"html": 5}', None, "must be a string"),
    (json.dumps({"text": prose("jl-fetched"), "fetched_at": {"x": 1}}).encode(), None, "not a date"),
    (b'{"text": "fine"} trailing', None, "invalid JSON"),
    (json.dumps({"text": prose("jl-last"), "published_at": 1709539200}).encode(), "Dispatch jl-last", None),
]


# --- URLs and feeds ----------------------------------------------------------------------------------------

URL_ERRORS = {  # path on the fixture server → reason
    "/missing": "404",
    "/gone": "410",
    "/error": "500",
    "/unavailable": "503",
    "/throttled": "429",
    "/loop-a": "redirect loop",
    "/no-location": "redirect without Location",
    "/huge-declared": "exceeds max_bytes",
    "/huge-streamed": "exceeds max_bytes",
    "/image.png": "content type image/png is not accepted",
    "/binary-as-html": "not text",
    "/empty": "empty body",
    "/to-metadata": "resolves to non-public address 169.254.169.254",
    "/to-private": "resolves to non-public address 10.1.2.3",
    "/to-ftp": "scheme 'ftp' is not allowed",
    "/slow": "timed out",
    "/empty-feed.xml": "feed has no entries",
}
URL_STORED = {"/article": None, "/plain": "Plain text article", "/cp1256-undeclared": "القاهرة"}
PATH_ERRORS = {  # source as given → reason (uri: the source, absolute for paths)
    "ftp://127.0.0.1/file.txt": "unsupported scheme ftp://",
    "file:///etc/passwd": "unsupported scheme file://",
    "gopher://127.0.0.1/x": "unsupported scheme gopher://",
    "http:///no-host": "no host",
}


def _feed(base_items: int) -> bytes:
    start = datetime(2024, 1, 1, tzinfo=UTC)
    items = "".join(
        f"<item><title>Item {i}</title><link>{{base}}/item/{i}</link>"
        f"<pubDate>{(start + timedelta(minutes=i)).strftime('%a, %d %b %Y %H:%M:%S GMT')}</pubDate></item>"
        for i in range(base_items)
    )
    return f'<?xml version="1.0"?><rss version="2.0"><channel><title>Big</title>{items}</channel></rss>'.encode()


EMPTY_FEED = b'<?xml version="1.0"?><rss version="2.0"><channel><title>Nothing</title></channel></rss>'


@dataclass
class Zoo:
    db: Path
    cases: list[Case]
    server: FixtureServer
    sources: list[str]
    summary: object


def _cases_and_sources(root: Path, server: FixtureServer) -> tuple[list[Case], list[str]]:
    folder, outside = root / "inputs", root / "outside"
    folder.mkdir()
    outside.mkdir()
    cases: list[Case] = []
    for name, (make, reason) in FILE_ERRORS.items():
        make(folder)
        cases.append(Case(f"file:{name}", str(folder / name), reason=reason))
    for name, (make, text) in FILE_STORED.items():
        make(folder)
        cases.append(Case(f"file:{name}", str(folder / name), stored=text))
    for name, (uri, text, reason) in _special_files(folder, outside).items():
        cases.append(Case(f"fs:{name}", uri, stored=text, reason=reason))
    records = folder / "records.jsonl"
    records.write_bytes(b"\n".join(line for line, _, _ in JSONL_LINES) + b"\n")
    for number, (_, text, reason) in enumerate(JSONL_LINES, start=1):
        cases.append(Case(f"jsonl:L{number}", f"{records}#L{number}", stored=text, reason=reason))
    sources = [str(folder)]
    for path, reason in URL_ERRORS.items():
        sources.append(server.url(path))
        cases.append(Case(f"url:{path}", server.url(path), reason=reason))
    for path, text in URL_STORED.items():
        sources.append(server.url(path))
        cases.append(Case(f"url:{path}", server.url(path), stored=text or ""))
    closed = "http://127.0.0.1:9/closed-port"
    sources.append(closed)
    cases.append(Case("url:closed-port", closed, reason="Connection refused"))
    sources.append(server.url("/big-feed.xml"))
    cases.append(Case("feed:big", server.url(f"/item/{FEED_ITEMS - 1}"), stored=f"Dispatch item-{FEED_ITEMS - 1}"))
    for source, reason in PATH_ERRORS.items():
        sources.append(source)
        cases.append(Case(f"path:{source}", source, reason=reason))
    missing = root / "nowhere" / "x.txt"
    empty_dir = root / "empty-dir"
    empty_dir.mkdir()
    hidden_only = root / "hidden-only"
    hidden_only.mkdir()
    (hidden_only / ".hidden.txt").write_text(prose("hidden"), encoding="utf-8")
    sources += [str(missing), str(empty_dir), str(hidden_only), str(root / "no-match-*.txt")]
    cases += [
        Case("path:missing", str(missing), reason="does not exist"),
        Case("path:empty-dir", str(empty_dir), reason="contains no article files"),
        Case("path:hidden-only", str(hidden_only), reason="contains no article files"),
        Case("path:glob-no-match", str(root / "no-match-*.txt"), reason="contains no article files"),
    ]
    return cases, sources


@pytest.fixture(scope="module")
def zoo(prefect_harness, tmp_path_factory) -> Iterator[Zoo]:
    root = tmp_path_factory.mktemp("zoo")
    routes = fault_routes() | {
        "/big-feed.xml": Route(body=_feed(FEED_ITEMS), content_type="application/rss+xml"),
        "/empty-feed.xml": Route(body=EMPTY_FEED, content_type="application/rss+xml"),
    }
    routes |= {f"/item/{i}": Route(body=page(f"item-{i}")) for i in range(FEED_ITEMS - 3 * FEED_CAP, FEED_ITEMS)}
    with FixtureServer(routes) as server:
        cases, sources = _cases_and_sources(root, server)
        db = root / "warehouse.duckdb"
        env = {"WIRECOPY_MAX_FILE_BYTES": str(MAX_FILE_BYTES)}
        saved = {k: os.environ.get(k) for k in env}
        os.environ.update(env)
        try:
            summary = ingest(
                sources=sources, db=str(db), fetch_policy=POLICY, fetch_retries=0,
                max_feed_entries=FEED_CAP,
            )  # fmt: skip
        finally:
            for key, value in saved.items():
                os.environ.pop(key) if value is None else os.environ.__setitem__(key, value)
        yield Zoo(db=db, cases=cases, server=server, sources=sources, summary=summary)


def _errors(db: Path) -> dict[str, str]:
    with duckdb.connect(str(db), read_only=True) as con:
        found = con.execute("SELECT source_uri, reason FROM ingest_errors").fetchall()
    by_uri: dict[str, str] = {}
    for uri, reason in found:
        by_uri[uri] = by_uri.get(uri, "") + reason
    return by_uri


def _stored(db: Path) -> dict[str, str]:
    query = """SELECT r.source_uri, string_agg(p.text, '\n' ORDER BY p.position)
               FROM raw_documents r LEFT JOIN paragraphs p ON p.doc_id = r.doc_id GROUP BY 1"""
    with duckdb.connect(str(db), read_only=True) as con:
        return dict(con.execute(query).fetchall())


def test_at_least_sixty_bad_inputs(zoo: Zoo) -> None:
    bad = [case for case in zoo.cases if case.reason is not None]
    assert len(bad) >= 60, len(bad)
    assert len(zoo.cases) >= 80


def test_every_input_is_stored_or_has_its_error_row(zoo: Zoo) -> None:
    errors, stored = _errors(zoo.db), _stored(zoo.db)
    lost, wrong = [], []
    for case in zoo.cases:
        if case.reason is not None:
            if case.uri not in errors:
                lost.append(case.name)
            elif case.reason not in errors[case.uri]:
                wrong.append((case.name, errors[case.uri]))
            if case.uri in stored:
                wrong.append((case.name, "stored although refused"))
        else:
            if case.uri not in stored:
                lost.append(case.name)
            elif case.stored and case.stored not in (stored[case.uri] or ""):
                wrong.append((case.name, (stored[case.uri] or "")[:200]))
    assert not lost, f"lost (neither stored nor an error row): {lost}"
    assert not wrong, wrong


def test_nothing_outside_the_root_is_read(zoo: Zoo) -> None:
    stored = _stored(zoo.db)
    assert not any("secret" in (text or "") or "outside-dir" in (text or "") for text in stored.values())
    assert not any("/outside/" in uri for uri in stored)


def test_a_bad_jsonl_line_loses_only_itself(zoo: Zoo) -> None:
    stored = _stored(zoo.db)
    good = [n for n, (_, text, _) in enumerate(JSONL_LINES, start=1) if text is not None]
    assert [n for n in good if any(uri.endswith(f"records.jsonl#L{n}") for uri in stored)] == good


def test_non_utf8_names_are_stored_escaped(zoo: Zoo) -> None:
    stored, errors = _stored(zoo.db), _errors(zoo.db)
    assert any(uri.endswith("caf\\xe9-\\xff.txt") for uri in stored)
    assert any(uri.endswith("bad-\\xfe\\xfd.txt") for uri in errors)
    assert any("bad-\\xfe\\xfd.txt" in message for message in zoo.summary.error_messages)


def test_feed_over_the_cap_is_counted_and_newest_first(zoo: Zoo) -> None:
    with duckdb.connect(str(zoo.db), read_only=True) as con:
        fetched = {row[0] for row in con.execute("SELECT url FROM raw_documents WHERE url LIKE '%/item/%'").fetchall()}
        (deferred,) = con.execute(
            "SELECT feed_entries_deferred FROM ingest_runs WHERE run_id = ?", [zoo.summary.run_id]
        ).fetchone()
    newest = {zoo.server.url(f"/item/{i}") for i in range(FEED_ITEMS - FEED_CAP, FEED_ITEMS)}
    assert fetched == newest
    assert deferred == zoo.summary.feed_entries_deferred == FEED_ITEMS - FEED_CAP


def test_the_next_run_fetches_the_next_newest_entries(zoo: Zoo, tmp_path: Path) -> None:
    feed = zoo.server.url("/big-feed.xml")
    summary = ingest(sources=[feed], db=str(zoo.db), fetch_policy=POLICY, fetch_retries=0,
                     max_feed_entries=FEED_CAP)  # fmt: skip
    assert summary.documents_new == FEED_CAP and summary.feed_entries_deferred == FEED_ITEMS - 2 * FEED_CAP
    with duckdb.connect(str(zoo.db), read_only=True) as con:
        fetched = {row[0] for row in con.execute("SELECT url FROM raw_documents WHERE url LIKE '%/item/%'").fetchall()}
    assert fetched == {zoo.server.url(f"/item/{i}") for i in range(FEED_ITEMS - 2 * FEED_CAP, FEED_ITEMS)}


def test_the_run_records_every_error_and_exits_as_partial(zoo: Zoo) -> None:
    errors = _errors(zoo.db)
    assert zoo.summary.errors == len(zoo.summary.error_messages) >= 60
    assert len(errors) >= 60
    with duckdb.connect(str(zoo.db), read_only=True) as con:
        status = con.execute("SELECT status FROM ingest_runs WHERE run_id = ?", [zoo.summary.run_id]).fetchone()[0]
    assert status == "completed"
