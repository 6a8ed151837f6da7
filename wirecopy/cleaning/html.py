"""Main-text and metadata extraction from HTML pages with trafilatura.

Security: trafilatura 2.3 retries a download WITHOUT certificate verification after an SSL error
unless the config key `INSECURE_SSL_FALLBACK` is off (trafilatura/downloads.py, `fetch_response`).
Importing this module switches it off in our own config and in `trafilatura.settings.DEFAULT_CONFIG`
(the object every trafilatura download function uses by default), so nothing in this process falls
back to unverified TLS through trafilatura. This module itself never downloads.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit, urlunsplit

import trafilatura
from lxml import etree
from lxml.html import HtmlElement
from trafilatura.settings import DEFAULT_CONFIG, use_config
from trafilatura.utils import load_html

from wirecopy.cleaning.language import detect_language
from wirecopy.cleaning.plaintext import CleanedText, clean_plaintext
from wirecopy.cleaning.rules import RuleSet

DEFAULT_CONFIG.set("DEFAULT", "INSECURE_SSL_FALLBACK", "off")


def _extraction_config():  # type: ignore[no-untyped-def]
    config = use_config()
    config.set("DEFAULT", "INSECURE_SSL_FALLBACK", "off")
    return config


TRAFILATURA_CONFIG = _extraction_config()
"""Config passed to every extraction: the packaged defaults with the insecure SSL fallback off."""

EXTRACTION_OPTIONS: dict[str, bool] = {
    "include_comments": False,
    "favor_precision": True,
    "include_tables": True,
    "include_images": False,
    "include_links": False,
    "deduplicate": False,
}
"""trafilatura settings, chosen by measurement on bench/cleaning_corpus (see bench/cleaning_quality.py)."""

DATE_PARAMS = {"extensive_search": False, "original_date": True}

TRACKING_PARAMS = frozenset(
    {
        "fbclid", "gclid", "gclsrc", "dclid", "msclkid", "yclid", "igshid", "mc_cid", "mc_eid", "_ga",
        "_gl", "ocid", "cmpid", "ncid", "s_cid", "ito", "ref_src", "ref_url", "__twitter_impression",
        "at_medium", "at_campaign", "at_custom1", "at_custom2", "at_custom3", "at_custom4", "wt.mc_id",
        "spm", "share", "smid", "cid", "__cf_chl_tk", "_hsenc", "_hsmi", "mkt_tok", "vero_id", "sh",
    }
)  # fmt: skip
TRACKING_PREFIXES = ("utm_", "pk_", "mtm_", "hsa_", "oly_")
_DEFAULT_PORTS = {"http": 80, "https": 443}

_DATE_XPATHS = (
    '//meta[@property="article:published_time"]/@content',
    '//meta[@name="article:published_time"]/@content',
    '//meta[@property="og:published_time"]/@content',
    '//meta[@itemprop="datePublished"]/@content',
    '//meta[@name="pubdate"]/@content',
    '//meta[@name="publishdate"]/@content',
    '//meta[@name="date"]/@content',
    '//meta[@name="dc.date.issued"]/@content',
    '//*[@itemprop="datePublished"]/@datetime',
)
_JSON_LD = '//script[@type="application/ld+json"]/text()'


@dataclass(frozen=True)
class ExtractedHtml:
    """Main text (None when trafilatura found none) and page metadata."""

    text: str | None
    title: str | None
    author: str | None
    published_at: datetime | None
    canonical_url: str | None
    language: str | None
    site_name: str | None


def extract_html(html: str, *, url: str | None = None) -> ExtractedHtml:
    """Extract the article text (no comments, precision-oriented) and metadata from one HTML page. A fragment (no
    <html> or <body>: an article body as a scraper stores it) in which trafilatura finds no article, e.g. one or
    two short paragraphs, is taken as it is: the text of its blocks (`fragment_text`). A page or fragment whose
    text is all navigation, header, footer or sidebar (`has_article_text`) has no text (trafilatura's fallbacks
    would return its menu)."""
    if html and html.strip():  # trafilatura takes a one-block fragment for something else than HTML: wrapped
        tree = load_html(f"<html><body>{html}</body></html>" if _is_fragment(html) else html)
    else:
        tree = None
    if tree is None:
        return ExtractedHtml(None, None, None, None, canonicalize_url(url) if url else None, None, None)
    has_text = has_article_text(tree)
    published = _published_from_markup(tree)
    document = trafilatura.bare_extraction(
        tree,
        url=url,
        with_metadata=True,
        output_format="python",
        date_extraction_params=DATE_PARAMS,
        config=TRAFILATURA_CONFIG,
        **EXTRACTION_OPTIONS,
    )
    text = ((getattr(document, "text", None) or "").strip() or None) if has_text else None
    if text:
        text = restore_subheadings(tree, text)
    elif has_text and _is_fragment(html):
        text = fragment_text(tree)
    page_url = getattr(document, "url", None) or url
    if page_url and url:
        page_url = urljoin(url, page_url)
    return ExtractedHtml(
        text=text,
        title=_clean(getattr(document, "title", None)) or _clean(tree.findtext(".//title")),
        author=_plausible_author(_clean(getattr(document, "author", None))),
        published_at=published or _parse_datetime(getattr(document, "date", None)),
        canonical_url=canonicalize_url(page_url) if page_url else None,
        language=(detect_language(text) if text else None) or _html_language(tree),
        site_name=_clean(getattr(document, "sitename", None)),
    )


def clean_html(
    html: str, *, url: str | None = None, outlet: str | None = None, rules: RuleSet | None = None
) -> tuple[ExtractedHtml, CleanedText]:
    """`extract_html`, then the plain-text rules on the extracted text (trafilatura keeps [ad_N], tweets...)."""
    extracted = extract_html(html, url=url)
    cleaned = clean_plaintext(extracted.text or "", outlet=outlet, rules=rules)
    return extracted, cleaned


_BLOCKS = ("p", "h2", "h3", "li", "blockquote", "tr")
_HEADINGS = frozenset({"h2", "h3"})
_MAX_HEADING_CHARS = 160
_HEADING_WINDOW = 6


def restore_subheadings(tree: HtmlElement, text: str) -> str:
    """Put back subheadings trafilatura dropped (it does when it falls back to collecting loose
    paragraphs): an <h2>/<h3> is restored when the nearest kept block before it and the nearest kept
    block after it (skipping at most `_HEADING_WINDOW` dropped blocks, e.g. a caption) are adjacent
    lines of `text`; it goes between them."""
    lines = text.split("\n")
    position: dict[str, int] = {}
    for index, line in enumerate(lines):
        position.setdefault(_squash(line.replace("|", " ")), index)
    blocks = [(el.tag, _squash(" ".join(el.itertext()))) for el in tree.iter(*_BLOCKS)]
    blocks = [(tag, block) for tag, block in blocks if block]
    inserts: list[tuple[int, str]] = []
    for k, (tag, block) in enumerate(blocks):
        if tag not in _HEADINGS or block in position or len(block) > _MAX_HEADING_CHARS:
            continue
        before = _nearest_kept(reversed(blocks[:k]), position)
        after = _nearest_kept(iter(blocks[k + 1 :]), position)
        if before is not None and after is not None and position[after] == position[before] + 1:
            inserts.append((position[after], block))
    for index, heading in sorted(inserts, key=lambda item: item[0], reverse=True):
        lines.insert(index, heading)
    return "\n".join(lines)


def _nearest_kept(blocks: Iterator[tuple[str, str]], position: dict[str, int]) -> str | None:
    """First non-heading block found in the output, skipping list items (link lists) and at most
    `_HEADING_WINDOW` other dropped blocks."""
    seen = 0
    for tag, block in blocks:
        if tag in _HEADINGS:
            return None
        if block in position:
            return block
        seen += tag != "li"
        if seen > _HEADING_WINDOW:
            return None
    return None


def _squash(text: str) -> str:
    return " ".join(text.split())


_PAGE_MARKUP = re.compile(r"<\s*(?:html|body|head)\b", re.IGNORECASE)
_NOT_TEXT = ("script", "style", "noscript", "template", "iframe", "svg", "button", "form", "nav", "aside", "footer")


_CHROME_TAGS = ("nav", "header", "footer", "aside", "menu", "script", "style", "noscript", "template")
_CHROME_ROLES = ("navigation", "banner", "contentinfo", "complementary", "menu", "menubar")
_ARTICLE_TEXT = etree.XPath(
    "boolean(//body//text()[normalize-space()][not(ancestor::*[{}])])".format(
        " or ".join([f"self::{tag}" for tag in _CHROME_TAGS] + [f"@role='{role}'" for role in _CHROME_ROLES])
    )
)


def has_article_text(tree: HtmlElement) -> bool:
    """Whether the page's <body> has text outside navigation, header, footer, sidebar, scripts and styles
    (elements or their ARIA roles): a page of nothing but a menu and a copyright line has none."""
    return bool(_ARTICLE_TEXT(tree))


def _is_fragment(html: str) -> bool:
    return _PAGE_MARKUP.search(html) is None


def fragment_text(tree: HtmlElement) -> str | None:
    """The text of an HTML fragment: one line per block (paragraph, subheading, list item, quote, table row), or
    its whole text when it has no blocks; scripts, styles, forms and navigation left out. None when empty."""
    for element in list(tree.iter(*_NOT_TEXT)):
        element.drop_tree()
    blocks = [_squash(" ".join(el.itertext())) for el in tree.iter(*_BLOCKS) if not _inside_block(el)]
    lines = [block for block in blocks if block] or [_squash(" ".join(tree.itertext()))]
    text = "\n".join(line for line in lines if line)
    return text or None


def _inside_block(element: HtmlElement) -> bool:
    """Whether a block sits inside another block (a <p> in a <blockquote>): its text is counted there."""
    return any(parent.tag in _BLOCKS for parent in element.iterancestors())


def canonicalize_url(url: str) -> str:
    """Lower-case scheme and host, drop default port, fragment and tracking parameters (utm_*, fbclid...)."""
    url = url.strip()
    parts = urlsplit(url)
    if not parts.scheme or not parts.netloc:
        return urlunsplit(parts._replace(fragment=""))
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").lower().rstrip(".")
    netloc = host
    if parts.username:
        netloc = f"{parts.username}{':' + parts.password if parts.password else ''}@{host}"
    if parts.port and parts.port != _DEFAULT_PORTS.get(scheme):
        netloc = f"{netloc}:{parts.port}"
    query = [
        (key, value)
        for key, value in parse_qsl(parts.query, keep_blank_values=True)
        if key.lower() not in TRACKING_PARAMS and not key.lower().startswith(TRACKING_PREFIXES)
    ]
    return urlunsplit((scheme, netloc, parts.path or "/", urlencode(query, doseq=True), ""))


def _clean(value: str | None) -> str | None:
    value = re.sub(r"\s+", " ", value).strip() if value else None
    return value or None


_NOT_AUTHOR = re.compile(
    r"(?:published|updated|posted|modified|last updated|date|نشر|تاريخ|آخر تحديث|تحديث|محدث)\b|\d{2}", re.I
)


def _plausible_author(name: str | None) -> str | None:
    """Drop author strings that are really date labels ("Published", «آخر تحديث الثلاثاء»)."""
    return None if name is None or _NOT_AUTHOR.match(name) or re.search(r"\d{2}", name) else name


def _html_language(tree: HtmlElement) -> str | None:
    lang = tree.get("lang") or tree.get("xml:lang") or ""
    code = lang.strip().lower().replace("_", "-").split("-")[0]
    return code if re.fullmatch(r"[a-z]{2}", code) else None


def _published_from_markup(tree: HtmlElement) -> datetime | None:
    """Full publication timestamp from meta tags or JSON-LD (trafilatura only yields a day)."""
    for xpath in _DATE_XPATHS:
        for value in tree.xpath(xpath):
            parsed = _parse_datetime(str(value))
            if parsed:
                return parsed
    for script in tree.xpath(_JSON_LD):
        parsed = _parse_datetime(_json_ld_date(str(script)))
        if parsed:
            return parsed
    return None


def _json_ld_date(payload: str) -> str | None:
    try:
        data = json.loads(payload)
    except ValueError:
        return None
    stack = [data]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            if isinstance(item.get("datePublished"), str):
                return str(item["datePublished"])
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return None


def _parse_datetime(value: str | None) -> datetime | None:
    """ISO-8601 date or timestamp → timezone-aware UTC datetime (naive values are taken as UTC)."""
    if not value:
        return None
    text = value.strip().replace("Z", "+00:00").replace("z", "+00:00")
    text = re.sub(r"([+-]\d{2})(\d{2})$", r"\1:\2", text)
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        return None
    if parsed.tzinfo is None:
        return parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)
