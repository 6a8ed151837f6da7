"""HTML edge cases: markup in a file of no or an unknown extension is HTML (plain text with a `<` is not), and a
page of nothing but navigation, header and footer has no article text."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest
from wirecopy.connectors.files import FileKind, is_html_fragment, read_file, sniff_kind
from wirecopy.flows.ingest import ingest

from wirecopy.cleaning.html import extract_html, has_article_text
from wirecopy.models import ContentType, RawDocument, content_hash
from wirecopy.transform import clean_documents

RATES = "The central bank raised rates by a quarter point on Tuesday, citing persistent inflation in services."
MARKETS = "Markets had expected the move after weeks of signals from officials at the monetary policy committee."
FRAGMENT = f"<p>{RATES}</p>\n<p>{MARKETS}</p>\n"
ARABIC = "قال البنك المركزي إن أسعار الفائدة سترتفع ربع نقطة مئوية اعتبارا من يوم الثلاثاء المقبل."

HTML_MARKUP = [
    FRAGMENT,
    f"\ufeff  \n<div>{RATES}</div>\n<div>{MARKETS}</div>",
    f"<!-- saved by the scraper -->\n<h2>Rates</h2>\n<p>{RATES}</p>",
    f'<article class="story"><section><p>{RATES}<br>{MARKETS}</p></section></article>',
    f'<span class="lede">{RATES}</span><ul><li>{MARKETS}</li></ul>',
    f'<a href="/rates">Rates</a><br>\n{RATES}',
]
PLAIN_TEXT = [
    f"{RATES}\nIf a < b then the index fell; {MARKETS}",
    f"{ARABIC}\nسطر فيه وسم <b>عاجل</b> وحيد.\n{ARABIC}",
    f"<b>Breaking</b> {RATES}\n{MARKETS}",  # an inline tag only: no block
    f"<span>{RATES}</span>\n{MARKETS}",
    f"</p>{RATES}",
    "<3 the new <p> tag is for paragraphs",
    f'<?xml version="1.0"?>\n<rss version="2.0"><channel><item><title>x</title><p>{RATES}</p></item></channel></rss>',
    '<feed xmlns="http://www.w3.org/2005/Atom"><entry><title>x</title></entry></feed>',
    f"<section><title>Rates</title><para>{RATES}</para></section>",  # XML whose tags are not all HTML
]


@pytest.mark.parametrize("text", HTML_MARKUP)
def test_html_markup_without_a_page_is_sniffed_as_html(text: str) -> None:
    assert is_html_fragment(text)
    assert sniff_kind(text) is FileKind.HTML


@pytest.mark.parametrize("text", PLAIN_TEXT)
def test_text_that_merely_contains_a_tag_stays_text(text: str) -> None:
    assert not is_html_fragment(text)
    assert sniff_kind(text) is FileKind.TEXT


@pytest.mark.parametrize("name", ["story", "story2.xml", "story.dat"])
def test_a_fragment_file_of_unknown_extension_is_stored_without_tags(tmp_path: Path, name: str) -> None:
    path = tmp_path / name
    path.write_text(FRAGMENT, encoding="utf-8")
    [raw] = list(read_file(path))
    assert isinstance(raw, RawDocument) and raw.content_type is ContentType.HTML
    documents, errors = clean_documents([raw])
    assert errors == []
    assert documents[0][1].paragraphs == [RATES, MARKETS]


def html_raw(html: str, name: str = "nav.html") -> RawDocument:
    return RawDocument(
        source_uri=f"/x/{name}",
        outlet="o",
        content=html,
        content_type=ContentType.HTML,
        content_hash=content_hash(html),
    )


CHROME_ONLY = [
    "<html><body><nav>menu</nav></body></html>",
    "<nav>menu</nav>",  # a fragment
    "<html><body><header>Example News</header><nav><a href='/'>Home</a> <a href='/w'>World</a></nav>"
    "<footer>© 2024 Example News</footer></body></html>",
    "<html><body><aside>Most read</aside><script>var a = 1;</script></body></html>",
    "<html><body><div role='navigation'><a href='/'>Home</a></div><div role='contentinfo'>©</div></body></html>",
]
SHORT_ARTICLES = [
    (f"<html><body><nav>Home</nav><article><p>{RATES}</p></article><footer>©</footer></body></html>", [RATES]),
    (f"<html><body><p>{RATES}</p><p>{MARKETS}</p></body></html>", [RATES, MARKETS]),
    ("<html><body><article><p>Short real article.</p></article></body></html>", ["Short real article."]),
    (f"<html><body><form id='aspnet'><p>{RATES}</p></form></body></html>", [RATES]),
    (f"<article><header><h1>Rates</h1></header><p>{RATES}</p></article>", [RATES]),
]


@pytest.mark.parametrize("html", CHROME_ONLY)
def test_a_page_of_only_navigation_has_no_article_text(html: str) -> None:
    assert extract_html(html).text is None
    documents, errors = clean_documents([html_raw(html)])
    assert documents == []
    assert [(e.source_uri, e.stage, e.reason) for e in errors] == [
        ("/x/nav.html", "clean", "HTML page has no article text")
    ]


@pytest.mark.parametrize(("html", "paragraphs"), SHORT_ARTICLES)
def test_a_short_real_article_still_ingests(html: str, paragraphs: list[str]) -> None:
    documents, errors = clean_documents([html_raw(html, "short.html")])
    assert errors == []
    assert documents[0][1].paragraphs == paragraphs


def test_has_article_text_ignores_chrome_and_the_head() -> None:
    from trafilatura.utils import load_html

    assert not has_article_text(load_html("<html><head><title>Index</title></head><body><nav>A</nav></body></html>"))
    assert has_article_text(load_html("<html><body><nav>A</nav><div>Loose words</div></body></html>"))


def test_ingest_stores_fragments_without_tags_and_refuses_a_menu_page(
    prefect_harness, db_path: Path, tmp_path: Path
) -> None:
    """The review's folder through the real flow: fragment paragraphs without tags, the menu page an error row,
    plain text with a `<` kept as written."""
    drop = tmp_path / "drop"
    drop.mkdir()
    (drop / "story").write_text(FRAGMENT, encoding="utf-8")
    (drop / "story2.xml").write_text(FRAGMENT.replace("Tuesday", "Wednesday"), encoding="utf-8")
    (drop / "nav.html").write_text("<html><body><nav>menu</nav></body></html>", encoding="utf-8")
    (drop / "note").write_text(f"{ARABIC}\nIf a < b the index fell, officials said on Tuesday.\n", encoding="utf-8")
    summary = ingest(sources=[str(drop)], db=str(db_path))
    assert (summary.documents_new, summary.errors) == (3, 1)
    with duckdb.connect(str(db_path), read_only=True) as con:
        texts = {text for (text,) in con.execute("SELECT text FROM paragraphs").fetchall()}
        errors = con.execute("SELECT source_uri, stage, reason FROM ingest_errors").fetchall()
    assert {RATES, RATES.replace("Tuesday", "Wednesday"), MARKETS} <= texts
    assert "If a < b the index fell, officials said on Tuesday." in texts
    assert not any("<p>" in text for text in texts)
    assert errors == [(str(drop / "nav.html"), "clean", "HTML page has no article text")]
