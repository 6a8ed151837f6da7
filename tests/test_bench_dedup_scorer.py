"""The dedup quality harness: metric functions on hand-computed cases, the scorer on a hand-built warehouse
table, and the corpus generator (deterministic, every edit kind present, gold consistent with the files)."""

from __future__ import annotations

import itertools
import random
import sys
from collections import Counter
from fractions import Fraction
from pathlib import Path

import duckdb
import pyarrow as pa
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))

import dedup_corpus as corpus  # bench/ is a script directory, not a package
import dedup_quality as quality

SMALL = corpus.CorpusConfig(outlets=4, articles=8, seed=7)


def brute_force_pairs(gold: list, predicted: list) -> tuple[int, int, int]:
    together = same_gold = same_predicted = 0
    for i, j in itertools.combinations(range(len(gold)), 2):
        g, p = gold[i] == gold[j], predicted[i] == predicted[j]
        together += g and p
        same_gold += g
        same_predicted += p
    return together, same_gold, same_predicted


# ------------------------------------------------------------------------------------------- metrics


def test_pairwise_scores_on_a_hand_computed_case():
    # gold {0,1,2} {3,4,5}; predicted {0,1} {2,3} {4,5}: 2 true pairs (0-1, 4-5) of 3 predicted and 6 gold.
    scores = quality.pairwise_scores([0, 0, 0, 1, 1, 1], [0, 0, 1, 1, 2, 2])
    assert (scores.true_pairs, scores.predicted_pairs, scores.gold_pairs) == (2, 3, 6)
    assert scores.precision == pytest.approx(2 / 3)
    assert scores.recall == pytest.approx(1 / 3)
    assert scores.f1 == pytest.approx(4 / 9)


def test_pairwise_scores_edge_cases():
    singletons = quality.pairwise_scores(["a", "b", "c"], ["x", "y", "z"])
    assert (singletons.precision, singletons.recall) == (1.0, 1.0)
    lumped = quality.pairwise_scores(["a", "b", "c"], ["x", "x", "x"])
    assert (lumped.precision, lumped.recall, lumped.f1) == (0.0, 1.0, 0.0)
    with pytest.raises(ValueError):
        quality.pairwise_scores([1, 2], [1])


def test_adjusted_rand_index_on_hand_computed_cases():
    # gold {0,1} {2,3}; predicted {0,1} {2} {3}: Σ C(n_ij,2) = 1, Σ C(a,2) = 2, Σ C(b,2) = 1, C(4,2) = 6.
    # E = 2·1/6 = 1/3, max = 3/2, ARI = (1 − 1/3) / (3/2 − 1/3) = 4/7.
    assert quality.adjusted_rand_index([0, 0, 1, 1], [0, 0, 1, 2]) == pytest.approx(4 / 7)
    # The pairwise example above: Σ n_ij = 2, Σ a = 6, Σ b = 3, C(6,2) = 15 → E = 1.2, max = 4.5 → 0.8/3.3.
    assert quality.adjusted_rand_index([0, 0, 0, 1, 1, 1], [0, 0, 1, 1, 2, 2]) == pytest.approx(8 / 33)
    # Crossed partitions score below chance: E = 2·2/6, max = 2 → (0 − 2/3) / (2 − 2/3) = −1/2.
    assert quality.adjusted_rand_index([0, 0, 1, 1], [0, 1, 0, 1]) == pytest.approx(-0.5)
    assert quality.adjusted_rand_index(["a", "a", "b"], [7, 7, 9]) == 1.0  # renamed labels
    assert quality.adjusted_rand_index([1, 2, 3], [4, 5, 6]) == 1.0  # degenerate: all singletons


def test_contingency_counts_match_brute_force_pair_counting():
    rng = random.Random(3)
    for _ in range(20):
        n = rng.randint(2, 40)
        gold = [rng.randint(0, 6) for _ in range(n)]
        predicted = [rng.randint(0, 6) for _ in range(n)]
        together, same_gold, same_predicted = brute_force_pairs(gold, predicted)
        scores = quality.pairwise_scores(gold, predicted)
        assert (scores.true_pairs, scores.gold_pairs, scores.predicted_pairs) == (together, same_gold, same_predicted)
        total = n * (n - 1) // 2
        expected = Fraction(same_gold * same_predicted, total)
        maximum = Fraction(same_gold + same_predicted, 2)
        if maximum != expected:
            ari = (together - expected) / (maximum - expected)
            assert quality.adjusted_rand_index(gold, predicted) == pytest.approx(float(ari))


def test_merged_cluster_pairs_lists_each_wrongly_joined_gold_pair_once():
    gold = ["a", "a", "b", "c", "c", "d"]
    predicted = ["x", "x", "x", "y", "x", "z"]
    assert quality.merged_cluster_pairs(gold, predicted) == {("a", "b"), ("a", "c"), ("b", "c")}


def test_file_key_takes_outlet_and_file_from_any_uri_form():
    assert quality.file_key("/tmp/c/articles/capital-wire/003.txt") == "capital-wire/003.txt"
    assert quality.file_key("file:///tmp/c/articles/sada-alsharq/0%2001.txt") == "sada-alsharq/0 01.txt"
    assert quality.file_key("/data/feeds/wire/all.jsonl#12") == "wire/all.jsonl"


# -------------------------------------------------------------------------------------------- scorer


def build_view(path: Path, root: Path, rows: list[tuple[corpus.GoldParagraph, str]]) -> None:
    """A table with the columns of `paragraph_dedup`, one row per (gold line, predicted canonical id)."""
    table = pa.table(
        {
            "source_uri": [str(root / "articles" / g.file_key) for g, _ in rows],
            "outlet": [g.outlet for g, _ in rows],
            "doc_id": [g.file_key for g, _ in rows],
            "position": pa.array([g.position for g, _ in rows], pa.int32()),
            "text": [g.text for g, _ in rows],
            "paragraph_id": [f"p{i}" for i in range(len(rows))],
            "canonical_id": [canonical for _, canonical in rows],
            "cluster_id": [canonical for _, canonical in rows],
            "method": [None if canonical == f"p{i}" else "near" for i, (_, canonical) in enumerate(rows)],
            "similarity": [0.9] * len(rows),
        }
    )
    with duckdb.connect(str(path)) as con:
        con.register("rows", table)
        con.execute("CREATE TABLE paragraph_dedup AS SELECT * FROM rows")


def perfect_canonicals(gold: list[corpus.GoldParagraph]) -> list[str]:
    first: dict[str, str] = {}
    return [first.setdefault(g.cluster, f"p{i}") for i, g in enumerate(gold)]


@pytest.fixture(scope="module")
def small_corpus(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[corpus.GoldParagraph]]:
    root = tmp_path_factory.mktemp("dedup-corpus")
    corpus.write_corpus(root, SMALL)
    return root, corpus.read_gold(root)


def test_scorer_gives_perfect_marks_to_the_gold_clustering(small_corpus, tmp_path):
    root, gold = small_corpus
    db = tmp_path / "perfect.duckdb"
    build_view(db, root, list(zip(gold, perfect_canonicals(gold), strict=True)))
    report = quality.score(gold, quality.load_predictions(db))
    assert (report.found_exact, report.missing, report.unmatched_rows) == (len(gold), 0, 0)
    assert report.pairwise.precision == report.pairwise.recall == report.ari == 1.0
    assert report.hard_negative_merges == report.other_merges == 0
    assert all(r.value == 1.0 for cells in report.kind_recall.values() for r in cells.values())
    assert report.hard_case("template").total == sum(g.kind == "template" for g in gold) > 0
    assert report.hard_case("template").value == report.hard_case("excerpt").value == 0.0
    assert report.hard_case("chain").value == report.hard_case("title_edit").value == 1.0
    assert report.hard_case_merges == 0
    assert report.passed


def test_scorer_counts_a_hard_negative_merge_and_a_dropped_copy(small_corpus, tmp_path):
    root, gold = small_corpus
    canonicals = perfect_canonicals(gold)
    sizes = Counter(g.cluster for g in gold)
    # Two distinct same-topic clusters of the same language: fold every row of the second into the first.
    topic = {g.cluster: (g.lang, g.topic) for g in gold}
    first, second = next((a, b) for a, b in itertools.combinations(sorted(sizes), 2) if topic[a] == topic[b])
    head = canonicals[next(i for i, g in enumerate(gold) if g.cluster == first)]
    canonicals = [head if g.cluster == second else c for g, c in zip(gold, canonicals, strict=True)]
    dropped = next(i for i, g in enumerate(gold) if g.kind == "containment" and g.cluster not in (first, second))
    rows = [(g, c) for i, (g, c) in enumerate(zip(gold, canonicals, strict=True)) if i != dropped]
    db = tmp_path / "merged.duckdb"
    build_view(db, root, rows)

    report = quality.score(gold, quality.load_predictions(db))
    assert report.missing == 1
    assert report.hard_negative_merges == 1 and report.other_merges == 0
    wrong_pairs = sizes[first] * sizes[second]
    assert report.pairwise.predicted_pairs - report.pairwise.true_pairs == wrong_pairs
    assert report.pairwise.precision < 1.0
    n_containment = sum(g.kind == "containment" for g in gold)
    assert report.containment_recall.total == n_containment
    assert report.containment_recall.recalled == n_containment - 1
    checks = {name: ok for name, _, _, _, ok in report.checks()}
    assert checks["hard_negative_merges"] is False and not report.passed


def test_alignment_falls_back_to_loosely_normalised_text(small_corpus, tmp_path):
    root, gold = small_corpus
    db = tmp_path / "trimmed.duckdb"
    build_view(db, root, list(zip(gold, perfect_canonicals(gold), strict=True)))
    with duckdb.connect(str(db)) as con:
        con.execute("UPDATE paragraph_dedup SET text = text || ' ' WHERE position = 0")
    report = quality.score(gold, quality.load_predictions(db))
    assert report.missing == 0 and report.found_loose == sum(g.position == 0 for g in gold)


def test_main_scores_an_existing_database(small_corpus, tmp_path, capsys):
    root, gold = small_corpus
    db = tmp_path / "existing.duckdb"
    build_view(db, root, list(zip(gold, perfect_canonicals(gold), strict=True)))
    report_path = tmp_path / "report.json"
    assert quality.main(["--db", str(db), "--corpus", str(root), "--json", str(report_path), "--strict"]) == 0
    out = capsys.readouterr().out
    assert "overall: PASS" in out and "hard-negative merges" in out
    assert '"precision": 1.0' in report_path.read_text(encoding="utf-8")


def test_runner_environment_and_env_parsing(tmp_path):
    env = quality.ingest_env(tmp_path, {"WIRECOPY_DEDUP__SHINGLE": "char:5"})
    assert env["PREFECT_HOME"] == str(tmp_path)
    assert env["PREFECT_SERVER_ANALYTICS_ENABLED"] == "false"
    assert env["WIRECOPY_DEDUP__SHINGLE"] == "char:5"
    assert quality.parse_env(["A=1", "B=x=y"]) == {"A": "1", "B": "x=y"}
    with pytest.raises(SystemExit):
        quality.parse_env(["no-equals"])


# ----------------------------------------------------------------------------------------- generator


def test_generator_is_deterministic_for_a_seed(tmp_path):
    one, two, other = tmp_path / "one", tmp_path / "two", tmp_path / "other"
    for out, seed in ((one, 7), (two, 7), (other, 8)):
        corpus.write_corpus(out, corpus.CorpusConfig(outlets=4, articles=8, seed=seed))
    files = sorted(p.relative_to(one) for p in one.rglob("*") if p.is_file())
    assert files == sorted(p.relative_to(two) for p in two.rglob("*") if p.is_file())
    assert all((one / f).read_bytes() == (two / f).read_bytes() for f in files)
    assert (one / "gold.jsonl").read_bytes() != (other / "gold.jsonl").read_bytes()


def test_default_corpus_has_every_edit_kind_in_both_languages():
    paragraphs = corpus.generate_corpus(corpus.CorpusConfig()).paragraphs
    kinds = Counter((p.lang, p.kind) for p in paragraphs)
    for lang in corpus.LANGUAGES:
        for kind in (corpus.ORIGINAL, *corpus.EDIT_KINDS):
            assert kinds[(lang, kind)] >= 20, (lang, kind)
    assert any(p.detail.startswith("pullquote") for p in paragraphs)
    stats = corpus.corpus_stats(paragraphs)
    assert 1500 <= stats["paragraphs"] <= 5000 and stats["outlets"] == 6


def test_gold_matches_the_written_files_and_is_consistent(small_corpus):
    root, gold = small_corpus
    lines_by_file: dict[str, list[str]] = {}
    for path in sorted((root / "articles").rglob("*.txt")):
        lines_by_file[f"{path.parent.name}/{path.name}"] = path.read_text(encoding="utf-8").splitlines()
    assert sum(map(len, lines_by_file.values())) == len(gold)
    for g in gold:
        assert lines_by_file[g.file_key][g.position] == g.text
    owner: dict[str, str] = {}
    for g in gold:  # the gold label is a function of the text
        assert owner.setdefault(g.text, g.cluster) == g.cluster
    originals = Counter(g.cluster for g in gold if g.kind == corpus.ORIGINAL)
    own = {g.cluster for g in gold if g.own_cluster}  # templates, excerpts, chain breaks: DISTINCT from the source
    assert set(originals) | own == {g.cluster for g in gold} and set(originals.values()) == {1}
    assert not set(originals) & own
    first_seen = {}
    for g in gold:
        first_seen.setdefault(g.cluster, g)
    assert all(first.kind == corpus.ORIGINAL or first.own_cluster for first in first_seen.values())
    assert all(first_seen[g.derived_from].kind == corpus.ORIGINAL for g in gold)  # a source comes first
    pool = {p.cluster: p for lang in corpus.LANGUAGES for p in corpus.load_pool(lang)}
    titles = {g.cluster for g in gold if g.kind == corpus.ORIGINAL and g.detail == "title"}
    assert set(originals) == set(pool) | titles  # every source paragraph, hence every hard negative, is used
    for g in gold:
        if g.derived_from in titles:
            assert g.kind in (corpus.ORIGINAL, "title_edit") and 3 <= g.words <= 8
            continue
        source = pool[g.derived_from].text
        assert g.lang == pool[g.derived_from].lang and g.topic == pool[g.derived_from].topic
        assert g.own_cluster == (g.kind in ("template", "excerpt") or g.detail.endswith(":break"))
        if g.kind in (corpus.ORIGINAL, "exact"):
            assert g.text == source
        elif g.kind == "orthographic":
            assert g.text != source and g.edit_words == 0
        elif g.kind == "word_edit":
            assert 1 <= g.edit_words <= 3
        elif g.kind == "attribution":
            assert g.text != source and g.edit_words >= 1
        elif g.kind == "containment":
            assert g.text in source and corpus.MIN_COPY_WORDS <= g.words <= 0.75 * g.source_words


def test_source_pools_are_distinct_same_topic_paragraphs():
    for lang in corpus.LANGUAGES:
        pool = corpus.load_pool(lang)
        assert len(pool) >= 120 and len({p.text for p in pool}) == len(pool)
        assert all(20 <= len(p.text.split()) <= 60 for p in pool)
        topics = Counter(p.topic for p in pool)
        assert len(topics) >= 5 and min(topics.values()) >= 10
        grams = [corpus.word_shingles(p.text, lang) for p in pool]
        worst = max(len(a & b) / min(len(a), len(b)) for a, b in itertools.combinations(grams, 2))
        assert worst < 0.6  # hard negatives share phrases, never most of a paragraph


@pytest.mark.parametrize("lang", corpus.LANGUAGES)
def test_orthographic_variants_only_change_spelling(lang):
    rng = random.Random(5)
    for source in corpus.load_pool(lang)[:40]:
        text, detail = corpus.orthographic_variant(source.text, lang, rng)
        assert detail and text != source.text
        assert corpus.word_tokens(text, lang) == corpus.word_tokens(source.text, lang)


# ------------------------------------------------------------------------------------------ hard cases


def test_hard_case_rows_count_false_merges_and_missed_duplicates(small_corpus, tmp_path):
    root, gold = small_corpus
    canonicals = perfect_canonicals(gold)
    source_head = {g.cluster: canonicals[i] for i, g in enumerate(gold) if g.kind == corpus.ORIGINAL}
    templates = [i for i, g in enumerate(gold) if g.kind == "template"]
    excerpts = [i for i, g in enumerate(gold) if g.kind == "excerpt"]
    chains = [i for i, g in enumerate(gold) if g.kind == "chain" and not g.own_cluster]
    assert len(templates) >= 4 and excerpts and len(chains) >= 2
    for i in templates[::2]:  # every other template negative merged with its source
        canonicals[i] = source_head[gold[i].derived_from]
    canonicals[excerpts[0]] = source_head[gold[excerpts[0]].derived_from]
    canonicals[chains[0]] = "lost"  # a chain hop split off its source
    db = tmp_path / "hard.duckdb"
    build_view(db, root, list(zip(gold, canonicals, strict=True)))

    report = quality.score(gold, quality.load_predictions(db), examples=5)
    merged_templates = len(templates[::2])
    assert (report.hard_case("template").hits, report.hard_case("template").total) == (merged_templates, len(templates))
    assert (report.hard_case("excerpt").hits, report.hard_case("excerpt").total) == (1, len(excerpts))
    assert report.hard_case("chain").hits == len(chains) - 1
    by_fact = Counter(gold[i].detail for i in templates[::2])
    for fact, n in by_fact.items():
        assert report.hard_case(f"template {fact}").hits == n
    lang = gold[excerpts[0]].lang
    assert report.hard_case("excerpt", lang).hits == 1
    assert report.hard_case_merges == merged_templates + 1 and report.hard_negative_merges == 0
    assert len(report.missed_examples["template merged"]) == min(5, merged_templates)
    assert report.missed_examples["chain"][0][0].endswith(gold[chains[0]].text)
    checks = {name: ok for name, _, _, _, ok in report.checks()}
    assert checks["template_false_merges"] is False and checks["hard_negative_merges"] is True
    text = quality.format_report(report)
    assert "merged template:" in text and "missed chain:" in text and "template negatives merged" in text


def test_hard_case_row_names_each_kind_and_its_breakdown():
    def line(kind: str, detail: str, cluster: str = "ar-001", words: int = 5) -> corpus.GoldParagraph:
        return corpus.GoldParagraph("o", "f.txt", 0, "t", cluster, kind, detail, "ar", "x", words, 30, 1, "ar-001", 2)

    assert quality.hard_case_row(line("template", "date", "ar-001/template-1")) == ("template", "date")
    assert quality.hard_case_row(line("excerpt", "15%", "ar-001/excerpt-1")) == ("excerpt", "0-19 % of the source")
    assert quality.hard_case_row(line("excerpt", "33%", "ar-001/excerpt-2"))[1] == "30-35 %"
    assert quality.hard_case_row(line("title_edit", "typo")) == ("title_edit", "typo")
    assert quality.hard_case_row(line("chain", "hop2:word_edit")) == ("chain", "2 hops")
    assert quality.hard_case_row(line("chain", "hop2:clause_drop:break", "ar-001/chain-1")) == ("chain break", "2 hops")
    assert quality.hard_case_row(line("word_edit", "sub")) is None


def test_share_and_checks_skip_absent_hard_case_rows():
    share = quality.Share()
    assert share.value == 0.0
    share.add(True)
    share.add(False)
    assert (share.total, share.hits, share.value) == (2, 1, 0.5)
    gold = ["a", "a", "b"]
    report = quality.score(
        [
            corpus.GoldParagraph(
                "o", "f.txt", i, f"t{i}", g, corpus.ORIGINAL if i != 1 else "exact", "", "en", "x", 3, 3, 0, g
            )
            for i, g in enumerate(gold)
        ],
        [
            quality.PredictedParagraph("o/f.txt", i, f"t{i}", f"p{i}", "p0" if i < 2 else "p2", None, None)
            for i in range(3)
        ],
    )
    names = [name for name, *_ in report.checks()]
    assert "template_false_merges" not in names and "title_recall" not in names and report.passed
