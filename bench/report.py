"""Size and time of `wirecopy report` on a generated syndication corpus.

    .venv/bin/python bench/report.py --paragraphs 100000 [--outlets 24] [--seed 1] [--out bench/out/report-100k]

Writes `articles-NNN.jsonl` (one article per line: outlet, url, title, published_at, text), ingests them
with `wirecopy ingest` (skipped when the warehouse exists), then times `wirecopy report` and prints one JSON
line: paragraphs, report bytes and seconds. Articles are one paragraph per line, over 90 days; about 40 % of
articles re-publish 50–100 % of an earlier article of another outlet, with hours of lag and a word changed
in a third of the copied paragraphs, so the report has a realistic matrix, lags and clusters. Words are drawn
from a synthetic Arabic and English vocabulary (deterministic for a seed).
"""

from __future__ import annotations

import argparse
import json
import random
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
ARABIC = "ابتثجحخدذرزسشصضطظعغفقكلمنهوي"
LATIN = "abcdefghijklmnopqrstuvwxyz"
ARTICLES_PER_FILE = 5000


def vocabulary(rng: random.Random, letters: str, size: int) -> list[str]:
    return ["".join(rng.choice(letters) for _ in range(rng.randint(3, 8))) for _ in range(size)]


def paragraph(rng: random.Random, words: list[str]) -> str:
    return " ".join(rng.choice(words) for _ in range(rng.randint(12, 40))) + "."


def articles(paragraphs: int, outlets: int, seed: int):
    """Yield article records until `paragraphs` paragraphs were written."""
    rng = random.Random(seed)
    vocab = {"ar": vocabulary(rng, ARABIC, 6000), "en": vocabulary(rng, LATIN, 6000)}
    names = [f"{'ar' if i % 2 == 0 else 'en'}-outlet-{i:02d}" for i in range(outlets)]
    start = datetime(2025, 1, 1, tzinfo=UTC)
    recent: dict[str, list[tuple[str, datetime, list[str]]]] = {"ar": [], "en": []}
    written = number = 0
    while written < paragraphs:
        outlet = rng.choice(names)
        lang = outlet[:2]
        published = start + timedelta(seconds=rng.randrange(90 * 86400))
        pool = [a for a in recent[lang][-400:] if a[0] != outlet]
        if pool and rng.random() < 0.4:
            _, first, body = rng.choice(pool)
            published = first + timedelta(seconds=int(rng.expovariate(1 / 14400)))
            kept = body[: max(1, int(len(body) * rng.uniform(0.5, 1.0)))]
            body = [_edit(rng, p, vocab[lang]) if rng.random() < 0.33 else p for p in kept]
        else:
            body = [paragraph(rng, vocab[lang]) for _ in range(rng.randint(4, 12))]
        recent[lang].append((outlet, published, body))
        number += 1
        written += len(body)
        yield {"outlet": outlet, "url": f"https://{outlet}.example/{number}", "title": f"article {number}",
               "published_at": published.isoformat(), "text": "\n".join(body)}  # fmt: skip


def _edit(rng: random.Random, text: str, words: list[str]) -> str:
    tokens = text.split()
    tokens[rng.randrange(len(tokens))] = rng.choice(words)
    return " ".join(tokens)


def write_corpus(out: Path, paragraphs: int, outlets: int, seed: int) -> Path:
    corpus = out / "corpus"
    corpus.mkdir(parents=True, exist_ok=True)
    handle = None
    for i, record in enumerate(articles(paragraphs, outlets, seed)):
        if i % ARTICLES_PER_FILE == 0:
            if handle:
                handle.close()
            handle = (corpus / f"articles-{i // ARTICLES_PER_FILE:03d}.jsonl").open("w", encoding="utf-8")
        handle.write(json.dumps(record, ensure_ascii=False) + "\n")
    if handle:
        handle.close()
    return corpus


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--paragraphs", type=int, default=100_000)
    parser.add_argument("--outlets", type=int, default=24)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    out = args.out or ROOT / "bench" / "out" / f"report-{args.paragraphs}"
    wirecopy = str(Path(sys.executable).with_name("wirecopy"))
    db = out / "warehouse.duckdb"
    if not db.exists():
        corpus = write_corpus(out, args.paragraphs, args.outlets, args.seed)
        t = time.perf_counter()
        subprocess.run([wirecopy, "ingest", str(corpus), "--db", str(db)], check=True, stdout=subprocess.DEVNULL)
        print(f"ingest: {time.perf_counter() - t:.1f}s", file=sys.stderr)
    t = time.perf_counter()
    subprocess.run([wirecopy, "report", "--db", str(db), "--out", str(out / "report.html")], check=True)
    seconds = time.perf_counter() - t
    count = subprocess.run([wirecopy, "sql", "SELECT count(*) FROM paragraphs", "--db", str(db), "--format", "csv"],
                           check=True, capture_output=True, text=True).stdout.split()[-1]  # fmt: skip
    size = (out / "report.html").stat().st_size
    print(json.dumps({"paragraphs": int(count), "report_bytes": size, "report_seconds": round(seconds, 2)}))


if __name__ == "__main__":
    main()
