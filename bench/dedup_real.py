"""Real-text dedup benchmark: the labelled Arabic pairs of ../shared/eval scored through the engine.

    .venv/bin/python bench/dedup_real.py [--eval-dir ../shared/eval] [--json OUT.json] [--errors]

Each pair's two paragraphs go through the same steps as an ingest (normalisation, `match_batch` with its
candidates, verification and clustering). Two views are scored:

- `warehouse`: all pairs' paragraphs in one batch, as one warehouse would hold them; a pair is predicted
  DUPLICATE when both paragraphs end in the same cluster (the `paragraph_dedup` view's `cluster_id`);
- `isolated`: each pair alone in an empty index (the pairwise decision, without other paragraphs around).

Candidate recall is measured separately: the share of DUPLICATE pairs that the candidate step (exact hash or
LSH band) proposes at all, before verification. The texts stay in ../shared/eval (licence: never copy them
into the repository); the script reads them and prints numbers only (with `--errors`, the ids of wrong pairs).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from wirecopy.dedup.engine import KeepKey, ParagraphRef, candidate_pairs, text_hash  # noqa: E402
from wirecopy.dedup.match import match_batch  # noqa: E402
from wirecopy.dedup.memory_index import MemoryIndex  # noqa: E402
from wirecopy.dedup.normalize import normalize_batch  # noqa: E402
from wirecopy.dedup.settings import DedupSettings  # noqa: E402

DEFAULT_EVAL = ROOT.parent / "shared" / "eval"
TARGETS = {"f1": 0.90, "precision": 0.95, "kind_recall": 0.90, "rewrite_recall": 0.5}
DUPLICATE_KINDS = ("exact", "ortho", "minor-edit", "attribution", "truncation", "rewrite")


@dataclass(frozen=True)
class Pair:
    id: str
    a: str
    b: str
    a_source: str
    b_source: str
    a_date: datetime | None
    b_date: datetime | None
    scope: str
    duplicate: bool
    subtype: str
    confidence: str


def load_pairs(path: Path) -> list[Pair]:
    def date(value: str | None) -> datetime | None:
        return datetime.fromisoformat(value).replace(tzinfo=UTC) if value else None

    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    return [
        Pair(r["id"], r["a"], r["b"], r["a_source"], r["b_source"], date(r.get("a_date")), date(r.get("b_date")),
             r["scope"], r["label"] == "DUPLICATE", r["subtype"], r.get("confidence", "high"))
        for r in rows
    ]  # fmt: skip


def _refs(pairs: Iterable[Pair]) -> tuple[list[ParagraphRef], dict[int, str], dict[str, int]]:
    """Engine input for the pairs' paragraphs: one document per paragraph (one per article for same-article
    pairs, a at position 0 and b at 1), keyed by the pair's dates."""
    pairs = list(pairs)
    texts = [t for p in pairs for t in (p.a, p.b)]
    forms = normalize_batch(texts)
    refs, normalized, node = [], {}, {}
    for i, p in enumerate(pairs):
        for side, (source, published) in enumerate(((p.a_source, p.a_date), (p.b_source, p.b_date))):
            form = forms[2 * i + side]
            h = text_hash(form)
            normalized[h] = form
            same_doc = p.scope == "same_article"
            doc_id = f"{source}:{p.id}" + ("" if same_doc else f":{side}")
            paragraph_id = f"{p.id}:{side}"
            refs.append(ParagraphRef(paragraph_id, h, KeepKey.of(published, None, doc_id, side)))
            node[paragraph_id] = h
    return refs, normalized, node


def predict(pairs: list[Pair], settings: DedupSettings, pooled: bool) -> dict[str, bool]:
    """Pair id → predicted DUPLICATE (both paragraphs in one cluster)."""
    groups = [pairs] if pooled else [[p] for p in pairs]
    out: dict[str, bool] = {}
    for group in groups:
        refs, normalized, _ = _refs(group)
        plan = match_batch(refs, normalized, MemoryIndex(), settings)
        cluster = {ref.paragraph_id: ref.paragraph_id for ref in refs}
        for link in plan.links:
            cluster[link.paragraph_id] = link.canonical_id
        for p in group:
            out[p.id] = cluster[f"{p.id}:0"] == cluster[f"{p.id}:1"]
    return out


def candidates(pairs: list[Pair], settings: DedupSettings) -> dict[str, bool]:
    """Pair id → proposed by the candidate step (identical forms, or an LSH band or short-text key)."""
    out = {}
    for p in pairs:
        _, normalized, node = _refs([p])
        a, b = node[f"{p.id}:0"], node[f"{p.id}:1"]
        out[p.id] = a == b or len(candidate_pairs(normalized, settings)) > 0
    return out


def scores(pairs: list[Pair], predicted: dict[str, bool]) -> dict:
    tp = sum(p.duplicate and predicted[p.id] for p in pairs)
    fp = sum(not p.duplicate and predicted[p.id] for p in pairs)
    fn = sum(p.duplicate and not predicted[p.id] for p in pairs)
    precision = tp / (tp + fp) if tp + fp else 1.0
    recall = tp / (tp + fn) if tp + fn else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"pairs": len(pairs), "tp": tp, "fp": fp, "fn": fn, "precision": precision, "recall": recall, "f1": f1}


def by(pairs: list[Pair], predicted: dict[str, bool], key) -> dict[str, dict]:
    groups: dict[str, list[Pair]] = defaultdict(list)
    for p in pairs:
        groups[key(p)].append(p)
    out = {}
    for name, members in sorted(groups.items()):
        said = sum(predicted[p.id] for p in members)
        out[name] = {"pairs": len(members), "said_duplicate": said, "rate": said / len(members)}
    return out


def report(pairs: list[Pair], settings: DedupSettings) -> dict:
    started = time.perf_counter()
    views = {name: predict(pairs, settings, pooled) for name, pooled in (("warehouse", True), ("isolated", False))}
    proposed = candidates(pairs, settings)
    duplicates = [p for p in pairs if p.duplicate]
    out = {
        "eval": {"pairs": len(pairs), "duplicate": len(duplicates)},
        "candidate_recall": sum(proposed[p.id] for p in duplicates) / len(duplicates),
        "candidate_recall_by_subtype": {k: v["rate"] for k, v in by(duplicates, proposed, lambda p: p.subtype).items()},
        "seconds": 0.0,
    }
    for name, predicted in views.items():
        out[name] = {
            "overall": scores(pairs, predicted),
            "high_confidence": scores([p for p in pairs if p.confidence == "high"], predicted),
            "by_subtype": by(pairs, predicted, lambda p: f"{'DUP' if p.duplicate else 'DIS'} {p.subtype}"),
            "by_scope": {s: scores([p for p in pairs if p.scope == s], predicted)
                         for s in sorted({p.scope for p in pairs})},
            "wrong": sorted(p.id for p in pairs if predicted[p.id] != p.duplicate),
        }  # fmt: skip
    out["seconds"] = round(time.perf_counter() - started, 3)
    return out


def _print(out: dict, errors: bool) -> None:
    print(f"pairs {out['eval']['pairs']} ({out['eval']['duplicate']} DUPLICATE), {out['seconds']} s")
    print(f"candidate recall (DUPLICATE pairs proposed before verification): {out['candidate_recall']:.3f}")
    for kind, rate in out["candidate_recall_by_subtype"].items():
        print(f"  {kind:<20} {rate:.3f}")
    for name in ("warehouse", "isolated"):
        view = out[name]
        o = view["overall"]
        print(f"\n[{name}] F1 {o['f1']:.3f}  P {o['precision']:.3f}  R {o['recall']:.3f}  "
              f"(tp {o['tp']} fp {o['fp']} fn {o['fn']})")  # fmt: skip
        h = view["high_confidence"]
        print(f"  high-confidence pairs only: F1 {h['f1']:.3f}  P {h['precision']:.3f}  R {h['recall']:.3f}")
        print("  by subtype (rate said DUPLICATE: recall for DUP, false-merge rate for DIS):")
        for kind, row in view["by_subtype"].items():
            print(f"    {kind:<22} {row['said_duplicate']:>3}/{row['pairs']:<3} {row['rate']:.2f}")
        print("  by scope:")
        for scope, row in view["by_scope"].items():
            print(f"    {scope:<14} F1 {row['f1']:.3f}  P {row['precision']:.3f}  R {row['recall']:.3f}  "
                  f"n {row['pairs']}")  # fmt: skip
        if errors:
            print("  wrong:", " ".join(view["wrong"]))
    o = out["warehouse"]["overall"]
    kinds = {k.split(" ", 1)[1]: v["rate"] for k, v in out["warehouse"]["by_subtype"].items() if k.startswith("DUP")}
    met = (
        o["f1"] >= TARGETS["f1"] and o["precision"] >= TARGETS["precision"]
        and all(rate >= TARGETS["kind_recall"] for k, rate in kinds.items() if k != "rewrite")
        and kinds.get("rewrite", 1.0) >= TARGETS["rewrite_recall"]
    )  # fmt: skip
    verdict = "met" if met else "NOT met"
    print(f"\ntargets (F1 ≥ 0.90, P ≥ 0.95, every kind but rewrite R ≥ 0.90, rewrite ≥ 0.5): {verdict}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--eval-dir", type=Path, default=DEFAULT_EVAL)
    parser.add_argument("--json", type=Path, help="also write the report as JSON here")
    parser.add_argument("--errors", action="store_true", help="print the ids of wrongly decided pairs")
    args = parser.parse_args()
    path = args.eval_dir / "ar_pairs_dev.jsonl"
    if not path.is_file():
        print(f"dedup_real: no labelled pairs at {path} (the eval folder ../shared/eval is not here); "
              "pass --eval-dir DIR", file=sys.stderr)  # fmt: skip
        return 2
    out = report(load_pairs(path), DedupSettings())
    _print(out, args.errors)
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(out, indent=2), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
