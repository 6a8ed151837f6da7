"""HTML extraction (trafilatura) + metadata + plain-text rules, on small inline pages."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
from trafilatura.settings import DEFAULT_CONFIG

from wirecopy.cleaning.html import TRAFILATURA_CONFIG, canonicalize_url, clean_html, extract_html

PARAGRAPHS_EN = [
    "The US Federal Reserve left its benchmark interest rate unchanged on Wednesday at a range of 5.25% to "
    "5.5%, but policymakers signalled they still expect one more increase before the end of the year.",
    "Fed chair Jerome Powell told reporters that inflation remained well above the central bank's 2% target, "
    "even though price pressures have eased from their peak last summer.",
    "Treasury yields rose to their highest level since 2007, as investors priced in the prospect of borrowing "
    "costs staying higher for longer, according to market data.",
]
PARAGRAPHS_AR = [
    "أرسلت أذربيجان قوات مدعومة بهجمات مدفعية إلى ناجورنو كاراباخ الخاضعة لسيطرة أرمينيا، محذرة من أن "
    "عمليتها لن تتوقف حتى استسلام القوات الأرمينية.",
    "وأثارت الهجمات التي وقعت يوم الثلاثاء خطر نشوب حرب جديدة في المنطقة العرقية الأرمنية في أذربيجان، "
    "والتي كانت بؤرة اشتعال منذ انهيار الاتحاد السوفيتي.",
    "وقالت وزارة الدفاع الأذربيجانية إن الهدف من ذلك هو نزع سلاح وتأمين انسحاب تشكيلات القوات المسلحة "
    "الأرمينية من أراضي أذربيجان.",
]
COMMENT = "What a terrible decision, the central bank has lost all credibility with ordinary savers."


def page(paragraphs: list[str], *, head: str = "", lang: str = "en", extra_body: str = "") -> str:
    body = "\n".join(f"<p>{p}</p>" for p in paragraphs)
    return f"""<!DOCTYPE html><html lang="{lang}"><head><meta charset="utf-8"><title>Headline | Site</title>
{head}</head><body><nav><ul><li><a href="/">Home</a></li><li><a href="/world">World</a></li></ul></nav>
<article><h1>Fed holds rates steady</h1>{body}{extra_body}</article>
<section id="comments"><h3>Comments</h3><div class="comment"><p>{COMMENT}</p></div></section>
<footer><p>© 2023 Example News. All rights reserved.</p></footer></body></html>"""


def test_text_and_all_metadata_are_extracted() -> None:
    head = """<meta property="og:title" content="Fed holds rates steady">
<meta property="og:site_name" content="Example News"><meta name="author" content="Sarah Collins">
<meta property="article:published_time" content="2023-09-20T18:30:00+03:00">
<link rel="canonical" href="https://WWW.Example.com/business/fed?utm_source=twitter&amp;fbclid=abc&amp;id=7#top">"""
    result = extract_html(page(PARAGRAPHS_EN, head=head), url="https://www.example.com/business/fed")
    assert result.text is not None
    for paragraph in PARAGRAPHS_EN:
        assert paragraph in result.text
    assert COMMENT not in result.text
    assert "All rights reserved" not in result.text
    assert result.title == "Fed holds rates steady"
    assert result.author == "Sarah Collins"
    assert result.published_at == datetime(2023, 9, 20, 15, 30, tzinfo=UTC)
    assert result.canonical_url == "https://www.example.com/business/fed?id=7"
    assert result.language == "en"
    assert result.site_name == "Example News"


def test_json_ld_date_and_author_and_arabic_language() -> None:
    head = """<script type="application/ld+json">{"@context": "https://schema.org", "@type": "NewsArticle",
"headline": "أذربيجان تطلق عملية عسكرية", "datePublished": "2023-09-19T10:00:00Z",
"author": {"@type": "Person", "name": "محمد العلي"}}</script>"""
    result = extract_html(page(PARAGRAPHS_AR, head=head, lang="ar"), url="https://news.example/a?utm_medium=x")
    assert result.published_at == datetime(2023, 9, 19, 10, 0, tzinfo=UTC)
    assert result.author == "محمد العلي"
    assert result.language == "ar"
    assert result.canonical_url == "https://news.example/a"


def test_page_without_metadata_falls_back_to_url_and_html_title() -> None:
    result = extract_html(page(PARAGRAPHS_EN), url="https://Example.com:443/x?gclid=1&page=2")
    assert result.canonical_url == "https://example.com/x?page=2"
    assert result.author is None
    assert result.title


def test_date_label_is_not_taken_as_author() -> None:
    extra = '<p class="byline">Published</p>'
    result = extract_html(page(PARAGRAPHS_EN, extra_body=extra, head='<meta name="author" content="Published">'))
    assert result.author is None


def test_empty_or_textless_html_gives_no_text() -> None:
    assert extract_html("").text is None
    assert extract_html("<html><body><script>var a = 1;</script><style>p{}</style></body></html>").text is None


def test_plain_text_rules_run_on_extracted_text() -> None:
    extra = (
        "<p>[ad_1]</p><p><strong>اقرأ أيضاً:</strong> <a href='/s/1'>أرمينيا تطلب اجتماعاً طارئاً</a></p>"
        "<p>المصدر: وكالات</p>"
    )
    extracted, cleaned = clean_html(page(PARAGRAPHS_AR, lang="ar", extra_body=extra))
    assert "[ad_1]" in (extracted.text or "")
    assert cleaned.paragraphs[-3:] == PARAGRAPHS_AR
    assert {s.rule.split(":")[0] for s in cleaned.removed} == {"ad", "read_also", "source"}


def test_subheadings_dropped_by_trafilatura_are_restored() -> None:
    # div soup without semantic containers: trafilatura falls back to loose paragraphs and drops <h2>
    body = "".join(
        f"<div class='c-{i}'><p>{p}</p></div>" + (f"<h2>Market reaction {i}</h2>" if i == 0 else "")
        for i, p in enumerate(PARAGRAPHS_EN)
    )
    html = f"<html><body><div class='x1'><div class='x2'>{body}</div></div></body></html>"
    text = extract_html(html).text or ""
    lines = text.splitlines()
    assert lines.index("Market reaction 0") == lines.index(PARAGRAPHS_EN[0]) + 1


def test_insecure_ssl_fallback_is_off() -> None:
    assert TRAFILATURA_CONFIG.getboolean("DEFAULT", "INSECURE_SSL_FALLBACK") is False
    assert DEFAULT_CONFIG.getboolean("DEFAULT", "INSECURE_SSL_FALLBACK") is False


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("HTTPS://News.Example.COM/a/b?utm_source=x&utm_campaign=y#frag", "https://news.example.com/a/b"),
        ("https://example.com/a?id=3&fbclid=IwAR&gclid=Cj0&mc_cid=1&b=2", "https://example.com/a?id=3&b=2"),
        ("http://example.com:80", "http://example.com/"),
        ("https://example.com:8443/p?Q=1", "https://example.com:8443/p?Q=1"),
        ("  https://example.com/%D8%A7?x=%20  ", "https://example.com/%D8%A7?x=+"),
        ("/relative/path#frag", "/relative/path"),
    ],
)
def test_canonicalize_url(url: str, expected: str) -> None:
    assert canonicalize_url(url) == expected


@pytest.mark.parametrize(
    "fragment",
    [
        f"<p>{PARAGRAPHS_AR[0]}</p>",  # one paragraph: trafilatura refuses such a fragment as HTML
        f"<p>{PARAGRAPHS_EN[0]}</p>",
        f"{PARAGRAPHS_EN[0]} <b>bold</b>",  # loose text, no block
    ],
)
def test_a_short_fragment_is_its_own_text(fragment: str) -> None:
    """An article body stored as a fragment (a JSONL `html` field) keeps its text even when it is one paragraph."""
    from wirecopy.models import ContentType, RawDocument, content_hash
    from wirecopy.transform import clean_documents

    text = extract_html(fragment).text
    assert text == " ".join(re.sub(r"</?(?:p|b)>", "", fragment).split())
    raw = RawDocument(source_uri="f.jsonl#L1", outlet="o", content=fragment, content_type=ContentType.HTML,
                      content_hash=content_hash(fragment))  # fmt: skip
    documents, errors = clean_documents([raw])
    assert errors == [] and documents[0][1].paragraphs == [text]


def test_a_fragment_leaves_scripts_and_navigation_out() -> None:
    from lxml.html import fragment_fromstring

    from wirecopy.cleaning.html import fragment_text

    tree = fragment_fromstring(
        f"<p>{PARAGRAPHS_EN[1]}</p><script>var x = 1;</script><nav>Home | About</nav>"
        f"<blockquote><p>{PARAGRAPHS_EN[2]}</p></blockquote>",
        create_parent="div",
    )
    assert fragment_text(tree) == f"{PARAGRAPHS_EN[1]}\n{PARAGRAPHS_EN[2]}"


def test_a_whole_page_without_an_article_is_still_refused() -> None:
    page = "<html><head><title>Index</title></head><body><div class='menu'><a href='/a'>A</a></div></body></html>"
    assert extract_html(page).text is None
