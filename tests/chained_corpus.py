"""A generated corpus of chained near-duplicates: seed paragraphs copied across outlets with cuts and random
edits, each copy possibly edited again from an earlier copy, so near-duplicates form chains."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from pathlib import Path

from wirecopy.models import ContentType, RawDocument, content_hash
from wirecopy.transform import clean_document


def chained_documents(seeds_dir: Path, articles: int, seed: int = 11, outlets: int = 10):
    """`articles` (raw, clean) document pairs, cleaned as an ingest cleans them; deterministic for a given seed."""
    rng = random.Random(seed)
    pool = [
        line.strip()
        for path in sorted(seeds_dir.glob("*.txt"))
        for line in path.read_text(encoding="utf-8").splitlines()
        if len(line.split()) >= 6
    ]
    vocabulary = sorted({word for line in pool for word in line.split()})
    start = datetime(2023, 9, 19, tzinfo=UTC)
    written: list[str] = list(pool)
    documents = []
    for number in range(articles):
        paragraphs = [_edited(rng.choice(written), rng, vocabulary) for _ in range(rng.randint(3, 6))]
        written.extend(paragraphs[:2])
        outlet = f"outlet{number % outlets:02d}"
        published = start + timedelta(minutes=rng.randint(0, 60 * 24 * 5))
        body = "\n".join(paragraphs)
        raw = RawDocument(
            source_uri=f"chained/{outlet}/{number:05d}.txt", outlet=outlet, content=body,
            content_type=ContentType.TEXT, content_hash=content_hash(body), published_at=published,
        )  # fmt: skip
        documents.append((raw, clean_document(raw)))
    return documents


def _edited(text: str, rng: random.Random, vocabulary: list[str]) -> str:
    words = text.split()
    kind = rng.random()
    if kind < 0.5:  # heavy: a third of the words replaced, or the paragraph cut in half
        if rng.random() < 0.5:
            for i in rng.sample(range(len(words)), k=max(1, len(words) // 3)):
                words[i] = rng.choice(vocabulary)
        else:
            words = words[: max(3, len(words) // 2)]
    elif kind < 0.83:  # light: one or two words changed
        for i in rng.sample(range(len(words)), k=min(len(words), rng.randint(1, 2))):
            words[i] = rng.choice(vocabulary)
    return " ".join(words)
