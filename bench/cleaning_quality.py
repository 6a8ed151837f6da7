"""Quality and speed of wirecopy.cleaning on the labelled corpus in bench/cleaning_corpus/docs.

Run:  .venv/bin/python bench/cleaning_quality.py [--split dev|holdout|all] [--errors] [--compare-settings]

Text documents are scored line by line against gold labels; HTML documents by matching gold body
paragraphs and gold boilerplate strings (incl. page chrome) against the cleaned paragraphs.
  body recall        gold body paragraphs present (text: verbatim; HTML: as or inside a paragraph)
  precision (class)  removed by a rule of that class and gold-labelled that class / removed by that class
  recall (class)     gold lines of that class that were removed (by any rule)
  residual %         gold lines of that class still in the output = 100 * (1 - recall)
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
import unicodedata
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from wirecopy.cleaning import html as html_module  # noqa: E402
from wirecopy.cleaning.html import clean_html, extract_html  # noqa: E402
from wirecopy.cleaning.plaintext import clean_plaintext  # noqa: E402

DOCS = ROOT / "bench" / "cleaning_corpus" / "docs"
CLASSES = ("ad", "source", "read_also", "social", "date", "tag", "caption", "share")
MIN_CONTAIN = 15


def norm(text: str) -> str:
    return " ".join(unicodedata.normalize("NFC", text).split()).casefold()


@dataclass
class Tally:
    body_total: int = 0
    body_kept: int = 0
    gold: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    gold_removed: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    predicted: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    predicted_right: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    ms: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


def load(split: str) -> list[dict]:
    manifests = [json.loads(path.read_text(encoding="utf-8")) for path in sorted(DOCS.glob("*.json"))]
    return [m for m in manifests if split == "all" or m["split"] == split]


def score_text(manifest: dict, tally: Tally) -> None:
    raw = (DOCS / manifest["file"]).read_text(encoding="utf-8")
    started = time.perf_counter()
    result = clean_plaintext(raw)
    tally.ms.append((time.perf_counter() - started) * 1000)
    gold_lines = {line["line_no"]: line for line in manifest["lines"]}
    whole = {s.line_no: s.rule for s in result.removed if s.text == gold_lines[s.line_no]["text"].strip()}
    inline = [s for s in result.removed if s.line_no not in whole]
    kept = [line for line in manifest["lines"] if line["line_no"] not in whole]
    paragraphs = result.paragraphs
    if len(kept) != len(paragraphs):
        tally.errors.append(f"{manifest['id']}: {len(kept)} kept lines but {len(paragraphs)} paragraphs")
    by_line = dict(zip((line["line_no"] for line in kept), paragraphs, strict=False))
    for line in manifest["lines"]:
        label = line["label"]
        if label == "body":
            tally.body_total += 1
            if by_line.get(line["line_no"]) == line["gold"].strip():
                tally.body_kept += 1
            else:
                rule = whole.get(line["line_no"], "changed")
                tally.errors.append(f"{manifest['id']}:{line['line_no']} BODY LOST [{rule}] {line['text'][:90]}")
            if line["text"] != line["gold"]:  # an inline [ad_N] marker on this line
                tally.gold["ad"] += 1
                if "[ad_" not in by_line.get(line["line_no"], ""):
                    tally.gold_removed["ad"] += 1
            continue
        tally.gold[label] += 1
        if line["line_no"] in whole:
            tally.gold_removed[label] += 1
        else:
            tally.errors.append(f"{manifest['id']}:{line['line_no']} RESIDUAL {label}: {line['text'][:90]}")
    for line_no, rule in whole.items():
        predicted = rule.split(":")[0]
        tally.predicted[predicted] += 1
        gold_label = gold_lines[line_no]["label"]
        if gold_label == predicted:
            tally.predicted_right[predicted] += 1
        elif gold_label != "body":
            tally.errors.append(f"{manifest['id']}:{line_no} CLASS {gold_label} removed as {rule}")
    for segment in inline:
        tally.predicted["ad"] += 1
        tally.predicted_right["ad"] += 1 if segment.rule == "ad:inline" else 0


def _found(item: str, outputs: list[str]) -> bool:
    item = norm(item)
    for output in outputs:
        if output == item:
            return True
        if len(item) >= MIN_CONTAIN and item in output:
            return True
        if len(output) >= MIN_CONTAIN and output in item:
            return True
    return False


def score_html(manifest: dict, tally: Tally, meta: dict[str, list[int]]) -> None:
    page = (DOCS / manifest["file"]).read_text(encoding="utf-8")
    started = time.perf_counter()
    extracted, cleaned = clean_html(page, url=manifest["url"])
    tally.ms.append((time.perf_counter() - started) * 1000)
    outputs = [norm(p) for p in cleaned.paragraphs]
    for paragraph in manifest["body"]:
        tally.body_total += 1
        if _found(paragraph, outputs):
            tally.body_kept += 1
        else:
            tally.errors.append(f"{manifest['id']} BODY LOST: {paragraph[:90]}")
    for item in manifest["boilerplate"]:
        label = item["class"]
        tally.gold[label] += 1
        if _found(item["text"], outputs):
            tally.errors.append(f"{manifest['id']} RESIDUAL {label}: {item['text'][:90]}")
        else:
            tally.gold_removed[label] += 1
    gold_items = [(norm(i["text"]), i["class"]) for i in manifest["boilerplate"]]
    gold_body = [norm(p) for p in manifest["body"]]
    for segment in cleaned.removed:
        predicted = segment.rule.split(":")[0]
        text = norm(segment.text)
        if _found(segment.text, gold_body):
            tally.predicted[predicted] += 1
            tally.errors.append(f"{manifest['id']} BODY REMOVED [{segment.rule}] {segment.text[:80]}")
            continue
        labels = {cls for gold, cls in gold_items if gold == text or (len(text) >= MIN_CONTAIN and text in gold)}
        if labels:
            tally.predicted[predicted] += 1
            tally.predicted_right[predicted] += 1 if predicted in labels else 0
    for name, expected in manifest["metadata"].items():
        got = getattr(extracted, name)
        ok = got == (datetime.fromisoformat(expected) if name == "published_at" else expected)
        meta[name].append(int(ok))
        if not ok:
            tally.errors.append(f"{manifest['id']} META {name}: got {got!r}, want {expected!r}")


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))] if ordered else float("nan")


def report(title: str, tally: Tally, docs: int) -> None:
    recall = tally.body_kept / tally.body_total if tally.body_total else float("nan")
    print(
        f"\n== {title}: {docs} docs, body recall {recall:.4f} ({tally.body_kept}/{tally.body_total}), "
        f"ms/doc median {statistics.median(tally.ms):.2f} p95 {percentile(tally.ms, 0.95):.2f}"
    )
    print(
        f"{'class':<10} {'gold':>5} {'removed':>8} {'recall':>7} {'residual%':>10} {'predicted':>10} {'precision':>10}"
    )
    for label in (*CLASSES, "chrome"):
        gold = tally.gold.get(label, 0)
        predicted = tally.predicted.get(label, 0)
        if not gold and not predicted:
            continue
        removed = tally.gold_removed.get(label, 0)
        rec = removed / gold if gold else float("nan")
        prec = tally.predicted_right.get(label, 0) / predicted if predicted else float("nan")
        print(f"{label:<10} {gold:>5} {removed:>8} {rec:>7.3f} {100 * (1 - rec):>10.1f} {predicted:>10} {prec:>10.3f}")


def compare_settings(manifests: list[dict]) -> None:
    """Body recall / residual page chrome / in-article boilerplate / speed for trafilatura option sets."""
    html_docs = [m for m in manifests if m["kind"] == "html"]
    baseline = dict(html_module.EXTRACTION_OPTIONS)
    grid = [
        {"favor_precision": p, "favor_recall": r, "include_tables": t, "fast": f}
        for p, r in ((True, False), (False, False), (False, True))
        for t in (False, True)
        for f in (False, True)
    ]
    print(f"\n== trafilatura settings on {len(html_docs)} HTML docs (after plain-text rules)")
    print(
        f"{'precision':>9} {'recall':>6} {'tables':>6} {'fast':>5} | {'body_rec':>8} {'chrome%':>8} "
        f"{'boiler%':>8} {'extract ms med':>14}"
    )
    for options in grid:
        html_module.EXTRACTION_OPTIONS.clear()
        html_module.EXTRACTION_OPTIONS.update({**baseline, **options})
        tally = Tally()
        meta: dict[str, list[int]] = defaultdict(list)
        for manifest in html_docs:
            score_html(manifest, tally, meta)
        timings = []
        for manifest in html_docs:
            page = (DOCS / manifest["file"]).read_text(encoding="utf-8")
            started = time.perf_counter()
            extract_html(page, url=manifest["url"])
            timings.append((time.perf_counter() - started) * 1000)
        chrome = 1 - tally.gold_removed["chrome"] / tally.gold["chrome"]
        boiler_gold = sum(tally.gold[c] for c in CLASSES)
        boiler = 1 - sum(tally.gold_removed[c] for c in CLASSES) / boiler_gold
        print(
            f"{options['favor_precision']!s:>9} {options['favor_recall']!s:>6} {options['include_tables']!s:>6} "
            f"{options['fast']!s:>5} | {tally.body_kept / tally.body_total:>8.4f} {100 * chrome:>8.1f} "
            f"{100 * boiler:>8.1f} {statistics.median(timings):>14.2f}"
        )
    html_module.EXTRACTION_OPTIONS.clear()
    html_module.EXTRACTION_OPTIONS.update(baseline)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--split", choices=("dev", "holdout", "holdout2", "all"), default="all")
    parser.add_argument("--errors", action="store_true", help="list every lost body line / residual line")
    parser.add_argument("--compare-settings", action="store_true", help="measure trafilatura option sets")
    args = parser.parse_args()
    manifests = load(args.split)
    # warm-up: imports, py3langid model, regex compilation
    clean_html("<html><body><p>" + "warm up text " * 40 + "</p></body></html>")
    clean_plaintext("warm up")
    text_tally, html_tally = Tally(), Tally()
    meta: dict[str, list[int]] = defaultdict(list)
    for manifest in manifests:
        if manifest["kind"] == "text":
            score_text(manifest, text_tally)
        else:
            score_html(manifest, html_tally, meta)
    kinds = defaultdict(int)
    for manifest in manifests:
        kinds[manifest["kind"]] += 1
    print(f"corpus: {len(manifests)} documents (split={args.split}): {dict(kinds)}")
    report("TEXT  clean_plaintext", text_tally, kinds["text"])
    report("HTML  clean_html = extract_html (trafilatura + metadata) + clean_plaintext", html_tally, kinds["html"])
    print("\nHTML metadata accuracy: " + ", ".join(f"{name} {sum(v)}/{len(v)}" for name, v in sorted(meta.items())))
    if args.errors:
        for line in text_tally.errors + html_tally.errors:
            print("  " + line)
    if args.compare_settings:
        compare_settings(manifests)


if __name__ == "__main__":
    main()
