"""Dedup quality harness: generate a labelled corpus, ingest it with wirecopy, score the clusters.

    .venv/bin/python bench/dedup_quality.py [--seed 1] [--outlets 6] [--articles 40] [--keep DIR]
        [--env WIRECOPY_DEDUP__SHINGLE=char:5 ...] [--json REPORT.json] [--examples 3] [--strict]
    .venv/bin/python bench/dedup_quality.py --db EXISTING.duckdb --corpus DIR     # score only

Predicted clusters are the `canonical_id` groups of the warehouse view `paragraph_dedup`; gold clusters
come from `gold.jsonl` (see `dedup_corpus.py`). Rows are joined on (outlet dir/file name, text): the
last two parts of `source_uri` and the paragraph text. A gold line that is not in the view (dropped by
cleaning) counts as a singleton, i.e. as a missed duplicate.

Metrics: pairwise precision / recall / F1 and the Adjusted Rand Index, all from the contingency table of
(gold cluster, predicted cluster) counts; recall per edit kind (a copy is recalled when it sits in the same
predicted cluster as its cluster's original); recall of ≤3-word edits of ≥20-word paragraphs; containment
recall; and merges of distinct gold clusters, split into same-topic hard negatives and others.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import unicodedata
from collections import Counter, defaultdict
from collections.abc import Hashable, Sequence
from dataclasses import asdict, dataclass, field
from math import comb
from pathlib import Path
from urllib.parse import unquote, urlparse

sys.path.insert(0, str(Path(__file__).resolve().parent))

import dedup_corpus as corpus  # bench/ is a script directory, not a package

TARGETS = {  # name → (comparison, threshold); issue 11 for the pairwise and hard-case ones
    "precision": (">=", 0.995),
    "recall": (">=", 0.97),
    "small_edit_recall": (">=", 0.97),
    "containment_recall": (">=", 0.95),
    "hard_negative_merges": ("==", 0),
    "template_false_merges": ("<=", 0.05),
    "excerpt_false_merges": ("<=", 0.05),
    "title_recall": (">=", 0.90),
}
HARD_ROWS = {  # hard-case row → what its share counts
    "template": "template negatives merged with their source (false merges)",
    "excerpt": "short excerpts (< 40 %) merged with their source (false merges)",
    "title_edit": "short titles with one edit: recall",
    "chain": "chains, every hop a DUPLICATE of the source: recall",
    "chain break": "chain breaks (no longer a DUPLICATE of the source) merged with it",
}
VIEW_COLUMNS = "source_uri, position, text, paragraph_id, canonical_id, method, similarity"


# --------------------------------------------------------------------------------------- pure metrics


@dataclass(frozen=True)
class PairScores:
    true_pairs: int  # pairs together in both gold and prediction
    predicted_pairs: int
    gold_pairs: int
    precision: float
    recall: float
    f1: float


def contingency(gold: Sequence[Hashable], predicted: Sequence[Hashable]) -> Counter[tuple[Hashable, Hashable]]:
    """Counts n_ij of items in gold cluster i and predicted cluster j."""
    if len(gold) != len(predicted):
        raise ValueError("gold and predicted labels must have the same length")
    return Counter(zip(gold, predicted, strict=True))


def _pair_sums(gold: Sequence[Hashable], predicted: Sequence[Hashable]) -> tuple[int, int, int]:
    """(Σ C(n_ij, 2), Σ C(a_i, 2), Σ C(b_j, 2)) in O(n)."""
    table = contingency(gold, predicted)
    together = sum(comb(n, 2) for n in table.values())
    gold_pairs = sum(comb(n, 2) for n in Counter(gold).values())
    predicted_pairs = sum(comb(n, 2) for n in Counter(predicted).values())
    return together, gold_pairs, predicted_pairs


def pairwise_scores(gold: Sequence[Hashable], predicted: Sequence[Hashable]) -> PairScores:
    """Pairwise precision / recall / F1: a pair is positive when both items share a cluster.

    With no predicted pairs precision is 1.0; with no gold pairs recall is 1.0.
    """
    together, gold_pairs, predicted_pairs = _pair_sums(gold, predicted)
    precision = together / predicted_pairs if predicted_pairs else 1.0
    recall = together / gold_pairs if gold_pairs else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return PairScores(together, predicted_pairs, gold_pairs, precision, recall, f1)


def adjusted_rand_index(gold: Sequence[Hashable], predicted: Sequence[Hashable]) -> float:
    """Hubert–Arabie ARI: (Σ C(n_ij,2) − E) / (½(Σ C(a_i,2) + Σ C(b_j,2)) − E), E = Σa·Σb / C(n,2).

    Degenerate partitions (both all-singletons or both one cluster) score 1.0, as in scikit-learn.
    """
    together, gold_pairs, predicted_pairs = _pair_sums(gold, predicted)
    total = comb(len(gold), 2)
    if total == 0:
        return 1.0
    expected = gold_pairs * predicted_pairs / total
    maximum = (gold_pairs + predicted_pairs) / 2
    if maximum == expected:
        return 1.0
    return (together - expected) / (maximum - expected)


def merged_cluster_pairs(gold: Sequence[Hashable], predicted: Sequence[Hashable]) -> set[tuple[Hashable, Hashable]]:
    """Distinct pairs of gold clusters that share at least one predicted cluster (false merges)."""
    members: dict[Hashable, set[Hashable]] = defaultdict(set)
    for g, p in zip(gold, predicted, strict=True):
        members[p].add(g)
    merged: set[tuple[Hashable, Hashable]] = set()
    for clusters in members.values():
        if len(clusters) > 1:
            ordered = sorted(clusters, key=str)
            merged.update((a, b) for i, a in enumerate(ordered) for b in ordered[i + 1 :])
    return merged


# ----------------------------------------------------------------------------------------- alignment


@dataclass(frozen=True)
class PredictedParagraph:
    file_key: str  # "<outlet dir>/<file name>"
    position: int
    text: str
    paragraph_id: str
    canonical_id: str
    method: str | None
    similarity: float | None


def file_key(source_uri: str) -> str:
    """`outlet/file.txt` from an absolute path, a file:// URI or a `path#line` reference."""
    path = unquote(urlparse(source_uri).path) if "://" in source_uri else source_uri
    parts = path.split("#", 1)[0].replace("\\", "/").rstrip("/").split("/")
    return "/".join(parts[-2:])


def load_predictions(db_path: Path) -> list[PredictedParagraph]:
    """All rows of `paragraph_dedup`, read-only."""
    import duckdb

    with duckdb.connect(str(db_path), read_only=True) as con:
        rows = con.execute(f"SELECT {VIEW_COLUMNS} FROM paragraph_dedup ORDER BY source_uri, position").fetchall()
    return [
        PredictedParagraph(file_key(uri), position, text, pid, canonical, method, similarity)
        for uri, position, text, pid, canonical, method, similarity in rows
    ]


def loose_key(text: str) -> str:
    """Fallback join key: NFKC, whitespace collapsed (survives trimming and invisible-mark cleanup)."""
    text = unicodedata.normalize("NFKC", text)
    text = "".join(ch for ch in text if unicodedata.category(ch) != "Cf")
    return " ".join(text.split())


@dataclass
class Alignment:
    predicted: list[PredictedParagraph | None]  # one per gold row, None when the line is not in the view
    exact: int = 0
    loose: int = 0
    unmatched_rows: list[PredictedParagraph] = field(default_factory=list)

    @property
    def missing(self) -> int:
        return sum(p is None for p in self.predicted)

    def labels(self) -> list[str]:
        """Predicted cluster of each gold row; a missing row is its own singleton."""
        return [p.canonical_id if p else f"missing:{i}" for i, p in enumerate(self.predicted)]


def align(gold: Sequence[corpus.GoldParagraph], predicted: Sequence[PredictedParagraph]) -> Alignment:
    """Pair each gold line with a view row of the same file and text (exact, then loosely normalised)."""
    by_file: dict[str, list[PredictedParagraph]] = defaultdict(list)
    for row in predicted:
        by_file[row.file_key].append(row)
    for rows in by_file.values():
        rows.sort(key=lambda r: r.position)
    used: set[int] = set()
    result = Alignment(predicted=[None] * len(gold))
    pending: list[int] = []
    for i, g in enumerate(gold):
        match = next((r for r in by_file.get(g.file_key, []) if id(r) not in used and r.text == g.text), None)
        if match is None:
            pending.append(i)
            continue
        used.add(id(match))
        result.predicted[i] = match
        result.exact += 1
    for i in pending:
        g = gold[i]
        key = loose_key(g.text)
        match = next((r for r in by_file.get(g.file_key, []) if id(r) not in used and loose_key(r.text) == key), None)
        if match is not None:
            used.add(id(match))
            result.predicted[i] = match
            result.loose += 1
    result.unmatched_rows = [r for r in predicted if id(r) not in used]
    return result


# ---------------------------------------------------------------------------------------------- report


@dataclass
class Recall:
    total: int = 0
    recalled: int = 0

    @property
    def value(self) -> float:
        return self.recalled / self.total if self.total else 1.0

    def add(self, hit: bool) -> None:
        self.total += 1
        self.recalled += hit


@dataclass
class Share:
    """How many of `total` lines are `hits` (recalled copies, or DISTINCT lines merged with their source)."""

    total: int = 0
    hits: int = 0

    @property
    def value(self) -> float:
        return self.hits / self.total if self.total else 0.0

    def add(self, hit: bool) -> None:
        self.total += 1
        self.hits += hit


@dataclass
class QualityReport:
    paragraphs: int
    gold_clusters: int
    predicted_clusters: int
    found_exact: int
    found_loose: int
    missing: int
    unmatched_rows: int
    pairwise: PairScores
    ari: float
    by_language: dict[str, PairScores]
    kind_recall: dict[str, dict[str, Recall]]  # kind → lang|"all" → Recall
    detail_recall: dict[str, Recall]  # "kind:detail" → Recall
    small_edit_recall: Recall
    containment_recall: Recall
    containment_by_length: dict[str, Recall]
    hard_negative_merges: int
    other_merges: int
    hard_cases: dict[str, dict[str, Share]]  # HARD_ROWS key or "key detail" → lang|"all" → Share
    hard_case_merges: int  # gold cluster pairs merged where one is a template, excerpt or chain break
    methods: dict[str, dict[str, int]]  # kind → method of the recalled copies → count
    missed_examples: dict[str, list[tuple[str, str]]]  # kind → [(copy, original)]
    merge_examples: list[tuple[str, str]]

    def hard_case(self, row: str, lang: str = "all") -> Share:
        return self.hard_cases.get(row, {}).get(lang, Share())

    def checks(self) -> list[tuple[str, float, str, float, bool]]:
        """(name, value, comparison, target, passed) of every target; a hard-case row absent from the corpus
        is not checked."""
        values = {
            "precision": self.pairwise.precision,
            "recall": self.pairwise.recall,
            "small_edit_recall": self.small_edit_recall.value,
            "containment_recall": self.containment_recall.value,
            "hard_negative_merges": self.hard_negative_merges,
            "template_false_merges": self.hard_case("template"),
            "excerpt_false_merges": self.hard_case("excerpt"),
            "title_recall": self.hard_case("title_edit"),
        }
        out = []
        for name, (op, target) in TARGETS.items():
            value = values[name]
            if isinstance(value, Share):
                if not value.total:
                    continue
                value = value.value
            ok = value >= target if op == ">=" else value <= target if op == "<=" else value == target
            out.append((name, value, op, target, ok))
        return out

    @property
    def passed(self) -> bool:
        return all(check[-1] for check in self.checks())

    def to_json(self) -> dict[str, object]:
        data = asdict(self)
        for name in ("small_edit_recall", "containment_recall"):
            data[name]["value"] = getattr(self, name).value
        for row, cells in self.hard_cases.items():
            for lang, share in cells.items():
                data["hard_cases"][row][lang]["value"] = share.value
        data["checks"] = [
            {"name": n, "value": v, "op": op, "target": t, "pass": ok} for n, v, op, t, ok in self.checks()
        ]
        return data


def _detail_keys(g: corpus.GoldParagraph) -> list[str]:
    """Breakdown rows a copy counts in: each orthographic change, word edits by count, truncation mode."""
    prefix = f"{g.lang} {g.kind}"
    if g.kind == "orthographic":
        return [f"{prefix} {change}" for change in g.detail.split("+")]
    if g.kind == "word_edit":
        return [f"{prefix} {g.edit_words} word(s)"]
    if g.kind == "mixed":
        edit = g.detail.partition("/")[2]
        edit_kind = "attribution" if edit.startswith(("prefix", "suffix")) else "word_edit"
        return [f"{prefix} orthographic+{edit_kind}"]
    return [f"{prefix} {g.detail or 'copy'}"]


def _length_bucket(words: int) -> str:
    return "10-14 words" if words < 15 else "15-24 words" if words < 25 else "25+ words"


def score(
    gold: Sequence[corpus.GoldParagraph], predicted: Sequence[PredictedParagraph], examples: int = 3
) -> QualityReport:
    """Compare predicted clusters with gold clusters (see module docstring)."""
    alignment = align(gold, predicted)
    gold_labels = [g.cluster for g in gold]
    labels = alignment.labels()
    pairwise = pairwise_scores(gold_labels, labels)
    by_language = {}
    for lang in sorted({g.lang for g in gold}):
        idx = [i for i, g in enumerate(gold) if g.lang == lang]
        by_language[lang] = pairwise_scores([gold_labels[i] for i in idx], [labels[i] for i in idx])

    anchors = _anchor_labels(gold, labels)
    originals = {g.cluster: g.text for g in gold if g.kind == corpus.ORIGINAL}
    kind_recall: dict[str, dict[str, Recall]] = defaultdict(lambda: defaultdict(Recall))
    detail_recall: dict[str, Recall] = defaultdict(Recall)
    containment_by_length: dict[str, Recall] = defaultdict(Recall)
    small, containment = Recall(), Recall()
    methods: dict[str, Counter[str]] = defaultdict(Counter)
    missed: dict[str, list[tuple[str, str]]] = defaultdict(list)
    for i, g in enumerate(gold):
        if g.kind == corpus.ORIGINAL or g.kind in corpus.HARD_KINDS:
            continue
        hit = labels[i] == anchors[g.cluster]
        kind_recall[g.kind][g.lang].add(hit)
        kind_recall[g.kind]["all"].add(hit)
        for key in _detail_keys(g):
            detail_recall[key].add(hit)
        if corpus.is_small_edit(g):
            small.add(hit)
        if g.kind == "containment":
            containment.add(hit)
            containment_by_length[_length_bucket(g.words)].add(hit)
        row = alignment.predicted[i]
        if hit:
            methods[g.kind][(row.method if row else None) or "canonical"] += 1
        elif len(missed[g.kind]) < examples:
            reason = "not in paragraph_dedup" if row is None else f"method={row.method}"
            missed[g.kind].append((f"[{g.lang} {g.detail or '-'}; {reason}] {g.text}", originals.get(g.cluster, "")))

    hard_cases = _hard_cases(gold, labels, anchors, alignment, originals, missed, examples)
    topic_of = {g.cluster: (g.lang, g.topic) for g in gold}
    own = {g.cluster for g in gold if g.own_cluster}
    merges = merged_cluster_pairs(gold_labels, labels)
    case_merges = {(a, b) for a, b in merges if a in own or b in own}
    hard = sorted((a, b) for a, b in merges - case_merges if topic_of[a] == topic_of[b] and topic_of[a][1] != "titles")
    return QualityReport(
        paragraphs=len(gold),
        gold_clusters=len(set(gold_labels)),
        predicted_clusters=len(set(labels)),
        found_exact=alignment.exact,
        found_loose=alignment.loose,
        missing=alignment.missing,
        unmatched_rows=len(alignment.unmatched_rows),
        pairwise=pairwise,
        ari=adjusted_rand_index(gold_labels, labels),
        by_language=by_language,
        kind_recall={k: dict(v) for k, v in kind_recall.items()},
        detail_recall=dict(sorted(detail_recall.items())),
        small_edit_recall=small,
        containment_recall=containment,
        containment_by_length=dict(sorted(containment_by_length.items())),
        hard_negative_merges=len(hard),
        other_merges=len(merges) - len(hard) - len(case_merges),
        hard_cases=hard_cases,
        hard_case_merges=len(case_merges),
        methods={k: dict(v.most_common()) for k, v in methods.items()},
        missed_examples=dict(missed),
        merge_examples=[(originals.get(a, a), originals.get(b, b)) for a, b in hard[:examples]],
    )


def hard_case_row(g: corpus.GoldParagraph) -> tuple[str, str] | None:
    """(row, breakdown) of a hard-case line in the report, None for other lines."""
    if g.kind == "template":
        return "template", g.detail  # the changed fact
    if g.kind == "excerpt":
        share = int(g.detail.rstrip("%"))  # of the source's words
        return "excerpt", "0-19 % of the source" if share < 20 else "20-29 %" if share < 30 else "30-35 %"
    if g.kind == "title_edit":
        return "title_edit", g.detail  # typo | orthographic | function-word
    if g.kind == "chain":
        return ("chain break" if g.own_cluster else "chain"), f"{g.hops} hops"
    return None


def _hard_cases(
    gold: Sequence[corpus.GoldParagraph],
    labels: Sequence[str],
    anchors: dict[str, str],
    alignment: Alignment,
    originals: dict[str, str],
    missed: dict[str, list[tuple[str, str]]],
    examples: int,
) -> dict[str, dict[str, Share]]:
    """Per hard-case row: lines predicted in their source's cluster (recall for duplicates, false merges for
    DISTINCT lines), by language and in total, plus one row per breakdown ("template number", ...)."""
    rows: dict[str, dict[str, Share]] = defaultdict(lambda: defaultdict(Share))
    for i, g in enumerate(gold):
        found = hard_case_row(g)
        if found is None:
            continue
        row, breakdown = found
        together = labels[i] == anchors[g.derived_from]
        for key in (row, f"{row} {breakdown}"):
            rows[key][g.lang].add(together)
            rows[key]["all"].add(together)
        distinct = g.own_cluster
        if together == distinct and len(missed[f"{row} merged" if distinct else row]) < examples:
            predicted = alignment.predicted[i]
            method = "not in paragraph_dedup" if predicted is None else f"method={predicted.method}"
            missed[f"{row} merged" if distinct else row].append(
                (f"[{g.lang} {g.detail}; {method}] {g.text}", originals.get(g.derived_from, ""))
            )
    order = {row: n for n, row in enumerate(HARD_ROWS)}
    return {key: dict(rows[key]) for key in sorted(rows, key=lambda k: (order[_row_of(k)], k != _row_of(k), k))}


def _row_of(key: str) -> str:
    return "chain break" if key.startswith("chain break") else key.split(" ", 1)[0]


def _anchor_labels(gold: Sequence[corpus.GoldParagraph], labels: Sequence[str]) -> dict[str, str]:
    """Predicted cluster of each gold cluster's original (its most common one when the original is missing)."""
    anchors: dict[str, str] = {}
    members: dict[str, Counter[str]] = defaultdict(Counter)
    for g, label in zip(gold, labels, strict=True):
        if not label.startswith("missing:"):
            members[g.cluster][label] += 1
        if g.kind == corpus.ORIGINAL and not label.startswith("missing:"):
            anchors.setdefault(g.cluster, label)
    for cluster, counts in members.items():
        anchors.setdefault(cluster, counts.most_common(1)[0][0])
    for g in gold:
        anchors.setdefault(g.cluster, f"absent:{g.cluster}")
    return anchors


def _cell(r: Recall | Share) -> str:
    hits = r.recalled if isinstance(r, Recall) else r.hits
    return f"{r.value:>8.4f} {f'({hits}/{r.total})':>11}" if r.total else f"{'-':>20}"


def _clip(text: str, width: int = 110) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def format_report(report: QualityReport, details: bool = False) -> str:
    """Human-readable report with PASS/FAIL against the targets."""
    p = report.pairwise
    lines = [
        f"paragraphs {report.paragraphs:,}  gold clusters {report.gold_clusters:,}  "
        f"predicted clusters {report.predicted_clusters:,}",
        f"joined to paragraph_dedup: {report.found_exact + report.found_loose:,}/{report.paragraphs:,} "
        f"(exact text {report.found_exact:,}, loose {report.found_loose:,}); missing {report.missing:,}; "
        f"view rows not in gold {report.unmatched_rows:,}",
        "",
        f"pairwise   precision {p.precision:.4f}  recall {p.recall:.4f}  F1 {p.f1:.4f}  ARI {report.ari:.4f}"
        f"   (pairs: true {p.true_pairs:,} / predicted {p.predicted_pairs:,} / gold {p.gold_pairs:,})",
    ]
    for lang, s in report.by_language.items():
        lines.append(f"  {lang:<8} precision {s.precision:.4f}  recall {s.recall:.4f}  F1 {s.f1:.4f}")
    lines += ["", f"{'recall by edit kind':<22}{'ar':>20}{'en':>20}{'all':>20}"]
    for kind in corpus.EDIT_KINDS:
        cells = report.kind_recall.get(kind, {})
        lines.append(f"  {kind:<20}" + "".join(_cell(cells.get(col, Recall())) for col in ("ar", "en", "all")))
        if kind == "containment":
            for bucket, r in report.containment_by_length.items():
                lines.append(f"    ⤷ {bucket:<16}{'':>40}{_cell(r)}")
    if report.hard_cases:
        lines += ["", f"{'hard cases (gold by the duplicate definition)':<62}{'ar':>20}{'en':>20}{'all':>20}"]
        for key, cells in report.hard_cases.items():
            row = _row_of(key)
            label = f"  {HARD_ROWS[row]}" if key == row else f"    ⤷ {key.removeprefix(row).strip()}"
            lines.append(f"{label:<62}" + "".join(_cell(cells.get(col, Share())) for col in ("ar", "en", "all")))
    lines += [
        "",
        f"false merges of distinct gold clusters: {report.hard_negative_merges} same-topic (hard negatives), "
        f"{report.hard_case_merges} involving a hard case (rows above), {report.other_merges} other",
    ]
    lines += ["", f"{'target':<44}{'value':>10}{'target':>12}   result"]
    names = {
        "precision": "pairwise precision",
        "recall": "pairwise recall",
        "template_false_merges": f"template false merges (n={report.hard_case('template').total})",
        "excerpt_false_merges": f"excerpt false merges (n={report.hard_case('excerpt').total})",
        "title_recall": f"short-title recall (n={report.hard_case('title_edit').total})",
        "small_edit_recall": f"recall, ≤3-word edits, ≥20 words (n={report.small_edit_recall.total})",
        "containment_recall": f"containment recall (n={report.containment_recall.total})",
        "hard_negative_merges": "hard-negative merges",
    }
    for name, value, op, target, ok in report.checks():
        shown = f"{value:.4f}" if isinstance(value, float) else str(value)
        shown_target = op.replace(">=", "≥ ").replace("<=", "≤ ").replace("==", "= ") + str(target)
        lines.append(f"  {names[name]:<42}{shown:>10}{shown_target:>12}   {'PASS' if ok else 'FAIL'}")
    lines.append(f"overall: {'PASS' if report.passed else 'FAIL'}")
    if details:
        lines += ["", "recall by edit detail:"]
        for key, r in report.detail_recall.items():
            lines.append(f"  {key:<52}{r.value:.4f} ({r.recalled}/{r.total})")
        lines += ["", "method of recalled copies:"]
        for kind, counts in report.methods.items():
            lines.append(f"  {kind:<20}" + ", ".join(f"{m} {n}" for m, n in counts.items()))
    if any(report.missed_examples.values()) or report.merge_examples:
        lines += ["", "examples:"]
        for kind, pairs in report.missed_examples.items():
            verb, kind = ("merged", kind.removesuffix(" merged")) if kind.endswith(" merged") else ("missed", kind)
            for copy, original in pairs:
                lines += [f"  {verb} {kind}: {_clip(copy)}", f"      source: {_clip(original)}"]
        for a, b in report.merge_examples:
            lines += [f"  merged: {_clip(a)}", f"     and: {_clip(b)}"]
    return "\n".join(lines)


# ---------------------------------------------------------------------------------------------- runner


def wirecopy_command() -> list[str]:
    """The `wirecopy` console script of the running interpreter's environment."""
    script = Path(sys.executable).parent / "wirecopy"
    if not script.exists():
        raise SystemExit(f"cannot find {script}; install the project into this environment first")
    return [str(script)]


def ingest_env(prefect_home: Path, overrides: dict[str, str]) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        PREFECT_HOME=str(prefect_home),
        PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS="90",
        PREFECT_SERVER_ANALYTICS_ENABLED="false",
    )
    env.update(overrides)
    return env


def run_ingest(source_dir: Path, db_path: Path, work_dir: Path, overrides: dict[str, str]) -> float:
    """Run `wirecopy ingest` as a subprocess in `work_dir` (so no stray ./wirecopy.toml applies).

    Returns wall seconds; exits with the tail of its output on failure.
    """
    prefect_home = work_dir / "prefect-home"
    prefect_home.mkdir(parents=True, exist_ok=True)
    command = [*wirecopy_command(), "ingest", str(source_dir), "--db", str(db_path)]
    started = time.perf_counter()
    env = ingest_env(prefect_home, overrides)
    done = subprocess.run(command, env=env, cwd=work_dir, capture_output=True, text=True, check=False)
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        tail = "\n".join((done.stdout + "\n" + done.stderr).strip().splitlines()[-40:])
        raise SystemExit(f"{' '.join(command)} failed with exit code {done.returncode}:\n{tail}")
    return seconds


def parse_env(pairs: Sequence[str]) -> dict[str, str]:
    out = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise SystemExit(f"--env expects KEY=VALUE, got {pair!r}")
        out[key] = value
    return out


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    corpus.add_config_arguments(parser)
    parser.add_argument("--keep", type=Path, help="write the corpus and database here instead of a temp dir")
    parser.add_argument("--env", action="append", default=[], metavar="KEY=VALUE", help="extra ingest env (repeat)")
    parser.add_argument("--db", type=Path, help="score this existing database (with --corpus) without ingesting")
    parser.add_argument("--corpus", type=Path, help="corpus directory (contains gold.jsonl) of --db")
    parser.add_argument("--json", type=Path, help="also write the report as JSON here")
    parser.add_argument("--examples", type=int, default=3, help="missed / merged examples to print per kind")
    parser.add_argument("--details", action="store_true", help="recall per edit detail and matching method")
    parser.add_argument("--strict", action="store_true", help="exit 1 when a target fails")
    args = parser.parse_args(argv)
    if (args.db is None) != (args.corpus is None):
        parser.error("--db and --corpus go together")

    if args.db is not None:
        report = score(corpus.read_gold(args.corpus), load_predictions(args.db), args.examples)
        print(f"corpus {args.corpus}  db {args.db}")
    else:
        overrides = parse_env(args.env)
        with tempfile.TemporaryDirectory(prefix="wirecopy-dedup-bench-") as tmp:
            work = (args.keep or Path(tmp)).resolve()
            work.mkdir(parents=True, exist_ok=True)
            config = corpus.config_from_args(args)
            stats = corpus.write_corpus(work / "corpus", config)
            db_path = work / "bench.duckdb"
            db_path.unlink(missing_ok=True)
            seconds = run_ingest(corpus.articles_dir(work / "corpus"), db_path, work, overrides)
            report = score(corpus.read_gold(work / "corpus"), load_predictions(db_path), args.examples)
            print(
                f"corpus seed={config.seed} outlets={config.outlets} articles/outlet={config.articles}: "
                f"{stats['articles']} articles, {stats['paragraphs']} paragraphs; ingest {seconds:.1f}s"
                + (f"; env {' '.join(args.env)}" if args.env else "")
                + (f"; kept in {work}" if args.keep else "")
            )
    print(format_report(report, details=args.details))
    if args.json:
        args.json.write_text(json.dumps(report.to_json(), indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return 1 if args.strict and not report.passed else 0


if __name__ == "__main__":
    raise SystemExit(main())
