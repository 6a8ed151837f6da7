"""Learned per-outlet boilerplate: the rule, its settings, and a reference implementation (no I/O).

Rule. A paragraph text (identified by `text_hash`, the hash of its normalised form) is boilerplate for
an outlet when it occurs in at least `min_docs` distinct *articles* of that outlet whose dates lie within
`window_days` of each other. An article is a document's canonical URL, or its clean body when it has none,
so the successive versions of one updated story count once, and so does one text saved twice with other bytes
(line endings, encoding, markup). A document's date is
`published_at`, else `fetched_at`; undated documents do not count. A text whose dedup cluster (the
text itself, its exact and its near copies) reaches any other outlet is syndicated content, never
boilerplate: dedup handles it. (Without this veto, wire paragraphs an outlet re-runs in its follow-up
stories were learned as boilerplate: 83 texts, 12.5 % of the paragraphs of the dedup bench corpus.)

The warehouse computes the rule in SQL (`warehouse.sql.LEARN_BOILERPLATE`); `learn` is the executable
specification the SQL is tested against. Both depend only on the set of stored documents, so the result
does not depend on ingest order or batching.
"""

from __future__ import annotations

import hashlib
from bisect import bisect_left
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from pydantic import BaseModel, ConfigDict, Field


class BoilerplateSettings(BaseModel):
    """Knobs of the learned boilerplate rule (`[boilerplate]` in wirecopy.toml, WIRECOPY_BOILERPLATE__*)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    min_docs: int = Field(3, ge=2, description="distinct articles of one outlet a text must recur in")
    window_days: int = Field(90, gt=0, description="the articles must lie within this many days of each other")


@dataclass(frozen=True)
class Occurrence:
    """One paragraph of one document, as the rule sees it (`cluster`: its dedup cluster, or any key unique
    to its text when it has no copy)."""

    outlet: str
    text_hash: int
    doc_id: str
    article: str
    seen_at: datetime | None
    cluster: str


@dataclass(frozen=True)
class LearnedText:
    """A text learned as boilerplate of an outlet, with the evidence."""

    outlet: str
    text_hash: int
    doc_count: int
    window_count: int
    first_seen: datetime
    last_seen: datetime


def article_key(canonical_url: str | None, body: str) -> str:
    """Identity of the article a document is a version of: its canonical URL, else its body (`body_hash`)."""
    return canonical_url or body


def body_hash(text_hashes: Iterable[int]) -> str:
    """A document's body fingerprint: md5 of its paragraphs' text hashes, in order (the same text saved with other
    bytes, line endings or markup has the same body)."""
    return hashlib.md5(",".join(map(str, text_hashes)).encode(), usedforsecurity=False).hexdigest()


def max_in_window(times: list[datetime], window: timedelta) -> int:
    """Most items whose times lie within `window` of each other (both ends inclusive)."""
    ordered = sorted(times)
    return max((i - bisect_left(ordered, t - window) + 1 for i, t in enumerate(ordered)), default=0)


def learn(occurrences: Iterable[Occurrence], settings: BoilerplateSettings) -> dict[tuple[str, int], LearnedText]:
    """The texts that are boilerplate of their outlet, keyed by (outlet, text_hash)."""
    occurrences = list(occurrences)
    outlets_of: dict[str, set[str]] = defaultdict(set)
    for o in occurrences:
        outlets_of[o.cluster].add(o.outlet)
    articles: dict[tuple[str, int], dict[str, datetime]] = defaultdict(dict)
    documents: dict[tuple[str, int], set[str]] = defaultdict(set)
    for o in occurrences:
        if o.seen_at is None or len(outlets_of[o.cluster]) > 1:
            continue
        key = (o.outlet, o.text_hash)
        documents[key].add(o.doc_id)
        seen = articles[key]
        seen[o.article] = min(seen.get(o.article, o.seen_at), o.seen_at)
    window = timedelta(days=settings.window_days)
    learned = {}
    for key, dates in articles.items():
        if len(dates) < settings.min_docs:
            continue
        in_window = max_in_window(list(dates.values()), window)
        if in_window >= settings.min_docs:
            learned[key] = LearnedText(
                key[0], key[1], len(documents[key]), in_window, min(dates.values()), max(dates.values())
            )
    return learned
