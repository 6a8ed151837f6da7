"""Build the labelled cleaning corpus: articles/*.txt + pools.py → docs/<id>.{txt,html} + docs/<id>.json.

Deterministic (seeded). Run: .venv/bin/python bench/cleaning_corpus/build_corpus.py
Manifest format (one JSON per document):
  text docs: {"id", "kind": "text", "lang", "split", "file", "lines": [{"line_no", "label", "text", "gold"}]}
      label is "body" or a boilerplate class; `gold` is the expected paragraph (body lines with an inline
      [ad_N] marker have gold = the line without it); blank lines are not listed.
  html docs: {"id", "kind": "html", "lang", "split", "file", "url", "title_line", "body": [...],
      "boilerplate": [{"class", "text"}], "metadata": {field: expected value; a missing field is not judged}}
      Boilerplate classes include "chrome" (navigation, sidebar, comments, footer, cookie banner).
"""

from __future__ import annotations

import html
import itertools
import json
import random
import re
from pathlib import Path

from pools import BIO, CHROME, POOLS, RELATED, TABLE

HERE = Path(__file__).resolve().parent
ARTICLES = HERE / "articles"
DOCS = HERE / "docs"
CLASSES = ("ad", "source", "read_also", "social", "date", "tag", "caption", "share")
_CYCLES: dict[tuple[str, str, str], itertools.cycle] = {}


def variant(rule_class: str, lang: str, split: str, rng: random.Random):
    """Next variant of a pool, cycling through a shuffled order so every variant gets used."""
    key = (rule_class, lang, split)
    if key not in _CYCLES:
        items = list(POOLS[rule_class][lang][split])
        rng.shuffle(items)
        _CYCLES[key] = itertools.cycle(items)
    return next(_CYCLES[key])


def _foreign(line: str, lang: str) -> bool:
    arabic = len(re.findall(r"[\u0600-\u06ff]", line))
    latin = len(re.findall(r"[A-Za-z]", line))
    return latin > arabic if lang == "ar" else arabic > latin


def _is_subheading(line: str) -> bool:
    return len(line.split()) <= 6 and not line.rstrip().endswith((".", "»", '"', "”"))


def plan(article: list[str], lang: str, split: str, rng: random.Random, density: float = 1.0):
    """Interleave body lines with boilerplate: list of (label, text) with label 'body' or a class."""
    title, paragraphs = article[0], article[1:]
    header: list[tuple[str, str]] = []
    if rng.random() < 0.25 * density:
        header.append(("ad", variant("ad", lang, split, rng)))
    if rng.random() < 0.6 * density:
        header.append(("date", variant("date", lang, split, rng)))
    if header and rng.random() < 0.5 * density:
        header.append(("tag", variant("tag", lang, split, rng)))
    if rng.random() < 0.2 * density:
        header.append(("share", variant("share", lang, split, rng)))
    body: list[tuple[str, str]] = [("body", title)]
    gaps_used = 0
    for index, paragraph in enumerate(paragraphs):
        body.append(("body", paragraph))
        is_last = index == len(paragraphs) - 1
        nxt = paragraphs[index + 1] if not is_last else ""
        if is_last:
            break
        if gaps_used < 2 and rng.random() < 0.2 * density:
            body.append(("ad", variant("ad", lang, split, rng)))
            gaps_used += 1
        if rng.random() < 0.25 * density and not _is_subheading(nxt):
            body.append(("caption", variant("caption", lang, split, rng)))
        if rng.random() < 0.12 * density:
            body.append(("read_also", variant("read_also", lang, split, rng)))
        if rng.random() < 0.18 * density and not _foreign(paragraph, lang) and not _foreign(nxt, lang):
            body.extend(("social", line) for line in variant("social", lang, split, rng))
    footer: list[tuple[str, str]] = []
    for rule_class, probability in (("ad", 0.4), ("source", 0.6), ("read_also", 0.3), ("share", 0.3)):
        if rng.random() < probability * density:
            footer.append((rule_class, variant(rule_class, lang, split, rng)))
    rng.shuffle(footer)
    if footer and rng.random() < 0.4 * density:
        footer.insert(rng.randrange(len(footer) + 1), ("tag", variant("tag", lang, split, rng)))
    return header + body + footer


def build_text(doc_id: str, lang: str, split: str, items, rng: random.Random, blank_lines: bool) -> dict:
    lines: list[dict] = []
    out: list[str] = []
    body_indices = [i for i, (label, _) in enumerate(items) if label == "body"]
    inline_first = rng.random() < 0.25
    inline_last = rng.random() < 0.2
    for i, (label, text) in enumerate(items):
        raw = text
        if label == "body" and inline_first and len(body_indices) > 1 and i == body_indices[1]:
            raw = f"[ad_1] {text}"
        if label == "body" and inline_last and i == body_indices[-1]:
            raw = f"{text} [ad_2]"
        out.append(raw)
        lines.append({"line_no": len(out), "label": label, "text": raw, "gold": text})
        if blank_lines:
            out.append("")
    (DOCS / f"{doc_id}.txt").write_text("\n".join(out) + "\n", encoding="utf-8")
    return {"id": doc_id, "kind": "text", "lang": lang, "split": split, "file": f"{doc_id}.txt", "lines": lines}


# ------------------------------------------------------------------------------------------------ HTML

SITES = [
    {"name": "Global News Network", "host": "www.globalnews.example", "author": "Sarah Collins"},
    {"name": "شبكة الأخبار العربية", "host": "www.arabnews-net.example", "author": "محمد العلي"},
    {"name": "Daily Wire Service", "host": "news.dailywire.example", "author": None},
    {"name": "The Morning Ledger", "host": "ledger.example", "author": "James O'Neill"},
]


def _e(text: str) -> str:
    return html.escape(text, quote=True)


def _html_boilerplate(label: str, text_or_block, rng: random.Random, messy: bool = False) -> str:
    if label == "social" and messy:  # embed already flattened by the publisher's CMS / AMP conversion
        return '<div class="embed-post">' + "".join(f"<p>{_e(line)}</p>" for line in text_or_block) + "</div>"
    if label == "caption" and messy:
        return f'<p class="wp-caption-text">{_e(text_or_block)}</p>'
    if label == "social":
        block = text_or_block
        parts = []
        for line in block:
            if "(@" in line and line.lstrip().startswith(("—", "A post shared")):
                parts.append(f"{_e(line)}")
            else:
                link = re.search(r"(pic\.twitter\.com/\w+|https://t\.co/\w+)", line)
                shown = _e(line)
                if link:
                    shown = shown.replace(_e(link.group(1)), f'<a href="https://t.co/x">{_e(link.group(1))}</a>')
                parts.append(f'<p lang="xx" dir="auto">{shown}</p>')
        return (
            '<blockquote class="twitter-tweet">' + "\n".join(parts) + "</blockquote>\n"
            '<script async src="https://platform.twitter.com/widgets.js" charset="utf-8"></script>'
        )
    text = text_or_block
    if label == "caption":
        if rng.random() < 0.6:
            image = f'<img src="/img/{rng.randrange(10**6)}.jpg" alt="">'
            return f"<figure>{image}<figcaption>{_e(text)}</figcaption></figure>"
        return f'<p class="caption">{_e(text)}</p>'
    if label == "ad":
        return rng.choice([f'<div class="ad-slot">{_e(text)}</div>', f"<p>{_e(text)}</p>"])
    if label == "read_also":
        if ":" in text and rng.random() < 0.7:
            head, tail = text.split(":", 1)
            return f'<p><strong>{_e(head)}:</strong> <a href="/story/{rng.randrange(10**5)}">{_e(tail.strip())}</a></p>'
        return f"<p><strong>{_e(text)}</strong></p>"
    if label == "share":
        return f'<div class="share-bar"><a href="#share">{_e(text)}</a></div>'
    if label == "tag":
        return f'<p class="tags">{_e(text)}</p>'
    if label == "date":
        return f'<p class="byline-date"><span>{_e(text)}</span></p>'
    return f"<p>{_e(text)}</p>"


def _filler(rng: random.Random, lang: str) -> tuple[str, str, str]:
    """Page weight of a real news site: mega-menu, inline config script, inline styles."""
    words = CHROME[lang]["nav"]
    menu = "".join(f'<li><a href="/section/{i}">{_e(words[i % len(words)])} {i}</a></li>' for i in range(160))
    config = json.dumps(
        {
            "ads": [
                {"slot": f"div-gpt-{i}", "sizes": [[300, 250], [728, 90]], "targeting": {"section": "news", "pos": i}}
                for i in range(120)
            ]
        }
    )
    style = "".join(
        f".c-{i}{{margin:{i % 9}px;padding:{i % 7}px;color:#{i * 4099 % 0xFFFFFF:06x}}}" for i in range(400)
    )
    return (
        f'<nav class="mega"><ul>{menu}</ul></nav>',
        f"<script>window.__CONFIG__={config}</script>",
        f"<style>{style}</style>",
    )


def build_html(
    doc_id: str, lang: str, split: str, items, rng: random.Random, template: int, day: int, messy: bool = False
) -> dict:
    site = SITES[template]
    chrome = CHROME[lang]
    title = items[[label for label, _ in items].index("body")][1]
    slug = f"/{2023}/09/{day:02d}/{doc_id.replace('_', '-')}"
    url = f"https://{site['host']}{slug}"
    published = f"2023-09-{day:02d}T{8 + template:02d}:{(day * 7) % 60:02d}:00+03:00"
    gold_published = f"2023-09-{day:02d}T{5 + template:02d}:{(day * 7) % 60:02d}:00+00:00"
    author = site["author"]
    body_html: list[str] = []
    body: list[str] = []
    boilerplate: list[dict] = []
    seen_title = False
    grouped: list[tuple[str, object]] = []
    for label, content in items:  # consecutive social lines form one embedded post
        if label == "social" and grouped and grouped[-1][0] == "social":
            grouped[-1][1].append(content)
        else:
            grouped.append((label, [content] if label == "social" else content))
    for label, content in grouped:
        if label == "body":
            if not seen_title:
                seen_title = True
                body_html.append(f'<h1 class="headline">{_e(content)}</h1>')
                continue
            body.append(content)
            tag = "h2" if _is_subheading(content) else "p"
            body_html.append(f"<{tag}>{_e(content)}</{tag}>")
            continue
        body_html.append(_html_boilerplate(label, content, rng, messy))
        lines = content if isinstance(content, list) else [content]
        boilerplate.extend({"class": label, "text": line} for line in lines)
    for part, texts in chrome.items():
        boilerplate.extend({"class": "chrome", "text": t, "part": part} for t in texts)
    if messy:
        cut = len(body_html) * 2 // 3
        related = "".join(f'<li><a href="/r/{i}">{_e(t)}</a></li>' for i, t in enumerate(RELATED[lang]))
        heading = _e(POOLS["read_also"][lang]["dev"][0].split(":")[0])
        body_html.insert(cut, f'<div class="related-box"><h4>{heading}</h4><ul>{related}</ul></div>')
        boilerplate.extend({"class": "read_also", "text": t} for t in RELATED[lang])
        rows = "".join(f"<tr><td>{_e(a)}</td><td>{_e(b)}</td></tr>" for a, b in TABLE[lang])
        body_html.insert(len(body_html) // 2, f'<table class="facts"><tbody>{rows}</tbody></table>')
        body.extend(a for a, _ in TABLE[lang])
        body_html.append(f'<div class="author-box"><p>{_e(BIO[lang])}</p></div>')
        boilerplate.append({"class": "chrome", "text": BIO[lang], "part": "bio"})
    nav = "".join(f'<li><a href="/{i}">{_e(t)}</a></li>' for i, t in enumerate(chrome["nav"]))
    sidebar = "".join(f'<li><a href="/s/{i}">{_e(t)}</a></li>' for i, t in enumerate(chrome["sidebar"][1:]))
    comments = "".join(f'<li class="comment"><p>{_e(t)}</p></li>' for t in chrome["comments"])
    footer = "".join(f"<p>{_e(t)}</p>" for t in chrome["footer"])
    lang_attr = "" if template == 3 else f' lang="{lang}"'
    direction = ' dir="rtl"' if lang == "ar" else ""
    head = [f'<meta charset="utf-8"><title>{_e(title)} | {_e(site["name"])}</title>']
    expected_canonical = f"https://{site['host']}{slug}"
    if template == 0:
        head += [
            f'<meta property="og:title" content="{_e(title)}">',
            f'<meta property="og:site_name" content="{_e(site["name"])}">',
            f'<meta property="og:url" content="{url}?utm_source=twitter&amp;utm_medium=social#comments">',
            f'<meta property="article:published_time" content="{published}">',
            f'<meta name="author" content="{_e(author)}">',
        ]
    elif template == 1:
        host = site["host"].upper()
        head += [
            f'<link rel="canonical" href="https://{host}{slug}?fbclid=IwAR0abc&amp;id=7">',
            '<script type="application/ld+json">'
            + json.dumps(
                {
                    "@context": "https://schema.org",
                    "@type": "NewsArticle",
                    "headline": title,
                    "datePublished": published,
                    "author": {"@type": "Person", "name": author},
                    "publisher": {"@type": "Organization", "name": site["name"]},
                },
                ensure_ascii=False,
            )
            + "</script>",
        ]
        expected_canonical = f"https://{site['host']}{slug}?id=7"
    elif template == 2:
        gold_published = f"2023-09-{day:02d}T00:00:00+00:00"
    else:
        head += [
            f'<meta name="author" content="{_e(author)}">',
            f'<meta property="og:site_name" content="{_e(site["name"])}">',
            f'<meta property="og:url" content="{url}?gclid=Cj0KCQ&amp;ref=home">',
            f'<meta itemprop="datePublished" content="{published}">',
        ]
        expected_canonical = f"https://{site['host']}{slug}?ref=home"
    time_el = f'<time datetime="2023-09-{day:02d}">{day} Sep 2023</time>' if template == 2 else ""
    if messy:
        menu, script, style = _filler(rng, lang)
        sidebar_p = "".join(
            f'<div class="c-7"><p><a href="/m/{i}">{_e(t)}</a></p></div>' for i, t in enumerate(chrome["sidebar"][1:])
        )
        footer = f"<p>{_e(chrome['footer'][0])}</p>" + "".join(
            f'<p><a href="/f/{i}">{_e(t)}</a></p>' for i, t in enumerate(chrome["footer"][1:])
        )
        comments_div = "".join(
            f'<div class="c-3"><span class="c-4">user{i}</span><div class="c-5">{_e(t)}</div></div>'
            for i, t in enumerate(chrome["comments"])
        )
        page = f"""<!DOCTYPE html>
<html{lang_attr}{direction}>
<head>{"".join(head)}{style}{script}</head>
<body>
<div class="c-1"><p>{_e(chrome["cookie"][0])}</p></div>
<div class="c-2"><a href="/">{_e(site["name"])}</a>{menu}<ul>{nav}</ul></div>
<div class="c-main">
<div class="c-content">
{time_el}
{chr(10).join(body_html)}
</div>
<div class="c-6"><div class="c-8">{_e(chrome["sidebar"][0])}</div>{sidebar_p}</div>
<div class="c-9">{comments_div}</div>
</div>
<div class="c-10">{footer}{menu}</div>
{script}
</body>
</html>
"""
        (DOCS / f"{doc_id}.html").write_text(page, encoding="utf-8")
    page = f"""<!DOCTYPE html>
<html{lang_attr}{direction}>
<head>{"".join(head)}</head>
<body>
<div class="cookie-banner"><p>{_e(chrome["cookie"][0])}</p></div>
<header class="site-header"><a class="logo" href="/">{_e(site["name"])}</a><nav><ul>{nav}</ul></nav></header>
<main>
<article class="post">
{time_el}
{chr(10).join(body_html)}
</article>
<aside class="sidebar"><h3>{_e(chrome["sidebar"][0])}</h3><ul>{sidebar}</ul></aside>
<section id="comments"><h3>Comments</h3><ol>{comments}</ol></section>
</main>
<footer class="site-footer">{footer}</footer>
</body>
</html>
"""
    if not messy:
        (DOCS / f"{doc_id}.html").write_text(page, encoding="utf-8")
    metadata = {
        "title": title,
        "author": author,
        "published_at": gold_published,
        "canonical_url": expected_canonical,
        "language": lang,
        "site_name": site["name"],
    }
    if template == 2:  # the page names its site only inside <title>: not judged
        del metadata["site_name"]
    fetch_url = f"{url}?utm_campaign=feed&utm_source=rss" if template == 2 else url
    return {
        "id": doc_id,
        "kind": "html",
        "lang": lang,
        "split": split,
        "file": f"{doc_id}.html",
        "url": fetch_url,
        "title_line": title,
        "body": body,
        "boilerplate": boilerplate,
        "metadata": metadata,
    }


def main() -> None:
    DOCS.mkdir(exist_ok=True)
    for old in DOCS.iterdir():
        old.unlink()
    manifests = []
    for lang in ("ar", "en"):
        for number in range(1, 11):
            article = (ARTICLES / f"{lang}_{number:02d}.txt").read_text(encoding="utf-8").splitlines()
            split = "dev" if number <= 5 else "holdout"
            rng = random.Random(f"{lang}-{number}")
            items = plan(article, lang, split, rng)
            manifests.append(build_text(f"{lang}_txt_{number:02d}", lang, split, items, rng, rng.random() < 0.4))
            items = plan(article, lang, split, rng)
            manifests.append(
                build_html(
                    f"{lang}_html_{number:02d}",
                    lang,
                    split,
                    items,
                    rng,
                    template=number % 4,
                    day=number + 9,
                    messy=number % 2 == 1,
                )
            )
        for number in (2, 7):  # untouched articles: nothing may be removed
            article = (ARTICLES / f"{lang}_{number:02d}.txt").read_text(encoding="utf-8").splitlines()
            items = [("body", line) for line in article]
            manifests.append(
                build_text(
                    f"{lang}_clean_{number:02d}",
                    lang,
                    "dev" if number <= 5 else "holdout",
                    items,
                    random.Random(number),
                    blank_lines=number == 2,
                )
            )
        for number in (1, 3, 4, 6, 8, 9):  # boilerplate-dense documents
            article = (ARTICLES / f"{lang}_{number:02d}.txt").read_text(encoding="utf-8").splitlines()
            split = "dev" if number <= 5 else "holdout"
            rng = random.Random(f"dense-{lang}-{number}")
            items = plan(article, lang, split, rng, density=2.5)
            manifests.append(build_text(f"{lang}_dense_{number:02d}", lang, split, items, rng, False))
    for lang in ("ar", "en"):  # second holdout: new articles, new variants
        for number in (11, 12):
            article = (ARTICLES / f"{lang}_{number:02d}.txt").read_text(encoding="utf-8").splitlines()
            rng = random.Random(f"h2-{lang}-{number}")
            items = plan(article, lang, "holdout2", rng, density=1.5)
            manifests.append(build_text(f"{lang}_txt_{number:02d}", lang, "holdout2", items, rng, number == 11))
            items = plan(article, lang, "holdout2", rng, density=1.5)
            manifests.append(
                build_html(
                    f"{lang}_html_{number:02d}",
                    lang,
                    "holdout2",
                    items,
                    rng,
                    template=number % 4,
                    day=number + 9,
                    messy=number == 11,
                )
            )
            items = plan(article, lang, "holdout2", rng, density=3.0)
            manifests.append(build_text(f"{lang}_dense_{number:02d}", lang, "holdout2", items, rng, False))
    for manifest in manifests:
        (DOCS / f"{manifest['id']}.json").write_text(
            json.dumps(manifest, ensure_ascii=False, indent=1), encoding="utf-8"
        )
    print(f"wrote {len(manifests)} documents to {DOCS}")


if __name__ == "__main__":
    main()
