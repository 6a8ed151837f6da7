"""The hard cases of the synthetic dedup corpus (bench/dedup_hard_cases.py): each edit on hand-made and pool
texts, the overlap measure that labels chains on hand-computed cases, and the labels of a generated corpus
checked against the duplicate definition (../shared/eval/README.md)."""

from __future__ import annotations

import difflib
import random
import sys
from collections import Counter
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))

import dedup_corpus as corpus  # bench/ is a script directory, not a package
import dedup_hard_cases as hard


def changed_words(a: str, b: str) -> list[tuple[str, str]]:
    """(old, new) of each differing position of two texts with the same number of words."""
    wa, wb = a.split(" "), b.split(" ")
    assert len(wa) == len(wb)
    return [(x, y) for x, y in zip(wa, wb, strict=True) if x != y]


def fact_cores(text: str, lang: str) -> Counter[str]:
    """The fact words of a text, orthographically folded (so ٢٠٢٠ = 2020)."""
    return Counter(corpus.fold(hard._split(w)[1], lang) for w in text.split(" ") if hard.is_fact_word(w, lang))


@pytest.fixture(scope="module")
def default_corpus() -> list[corpus.GoldParagraph]:
    return corpus.generate_corpus(corpus.CorpusConfig()).paragraphs


# ------------------------------------------------------------------------------------ copy edits


def test_copy_edit_tables_hold_no_fact_word():
    for lang in corpus.LANGUAGES:
        words = set(corpus.SYNONYMS[lang]) | {w for values in corpus.SYNONYMS[lang].values() for w in values}
        words |= {w for inserted, _, _ in corpus.INSERTIONS[lang] for w in inserted.split()}
        assert not {w for w in words if hard.is_fact_word(w, lang)}, lang


@pytest.mark.parametrize("lang", corpus.LANGUAGES)
def test_word_edits_never_add_or_change_a_fact(lang):
    rng = random.Random(11)
    for source in corpus.load_pool(lang):
        for _ in range(3):
            text, _ = corpus.word_edit_variant(source.text, lang, rng)
            added = fact_cores(text, lang) - fact_cores(source.text, lang)
            assert not added, (source.text, text)


def test_weekday_swap_is_no_longer_a_copy_edit():
    rng = random.Random(2)
    texts = {
        corpus.word_edit_variant("Officials said on Tuesday that talks would resume.", "en", rng)[0] for _ in range(200)
    }
    assert all("Tuesday" in t and "Wednesday" not in t for t in texts)
    texts = {
        corpus.word_edit_variant("وقال مسؤولون يوم الثلاثاء إن المحادثات ستستأنف", "ar", rng)[0] for _ in range(200)
    }
    assert all("الثلاثاء" in t and "الأربعاء" not in t for t in texts)


# ------------------------------------------------------------------------------------------ templates


def test_is_fact_word_recognises_each_kind_with_clitics_and_punctuation():
    assert hard.is_fact_word("2020،", "ar") and hard.is_fact_word("١٢", "ar") and hard.is_fact_word("60", "en")
    assert hard.is_fact_word("الثلاثاء،", "ar") and hard.is_fact_word("Tuesday,", "en")
    assert hard.is_fact_word("وباكو", "ar") and hard.is_fact_word("لأرمينيا", "ar")
    assert not hard.is_fact_word("Baku's", "en")  # a possessive is another word form, left alone
    assert hard.is_fact_word("Pashinyan", "en") and hard.is_fact_word("باشينيان،", "ar")
    assert not hard.is_fact_word("وقالت", "ar") and not hard.is_fact_word("ministry", "en")


@pytest.mark.parametrize("lang", corpus.LANGUAGES)
def test_template_variant_changes_exactly_one_fact(lang):
    rng = random.Random(4)
    kinds = Counter()
    for source in corpus.load_pool(lang):
        variant = hard.template_variant(source.text, lang, rng)
        if variant is None:
            assert not any(hard.is_fact_word(w, lang) for w in source.text.split(" "))
            continue
        text, kind = variant
        kinds[kind] += 1
        [(old, new)] = changed_words(source.text, text)
        old_core, new_core = hard._split(old)[1], hard._split(new)[1]
        assert hard._split(old)[0::2] == hard._split(new)[0::2]  # punctuation kept
        if kind == "number":
            assert hard._DIGITS.search(old_core).group() != hard._DIGITS.search(new_core).group()
        else:
            clitic_old, group_old = hard._fact_group(old_core, lang, kind)
            clitic_new, group_new = hard._fact_group(new_core, lang, kind)
            assert group_old is group_new and clitic_old == clitic_new and old_core != new_core
    assert set(kinds) == set(hard.FACT_KINDS) and sum(kinds.values()) >= 100


def test_template_variant_keeps_digit_style_and_moves_years_a_little():
    rng = random.Random(0)
    for _ in range(30):
        text, kind = hard.template_variant("قتل ١٥ شخصا", "ar", rng)
        assert kind == "number" and text.split()[1] != "١٥" and all(c in "٠١٢٣٤٥٦٧٨٩" for c in text.split()[1])
        text, _ = hard.template_variant("the 2020 war", "en", rng)
        assert 2021 <= int(text.split()[1]) <= 2023
    assert hard.template_variant("no facts in these words at all", "en", rng) is None


# ------------------------------------------------------------------------------------------- excerpts


def test_excerpt_is_a_contiguous_piece_below_the_definition_share():
    rng = random.Random(9)
    for lang in corpus.LANGUAGES:
        for source in corpus.load_pool(lang):
            piece = hard.excerpt_span(source.text, rng)
            assert piece is not None and piece in source.text
            words = len(piece.split())
            assert (
                hard.EXCERPT_MIN_WORDS
                <= words
                <= hard.EXCERPT_MAX_SHARE * len(source.text.split())
                < 0.4 * (len(source.text.split()))
            )
    assert hard.excerpt_span("one two three four five six seven eight nine ten", rng) is None  # 35 % < 4 words


# --------------------------------------------------------------------------------------------- titles


def test_titles_are_short_distinct_and_flip_one_function_word():
    for titles in hard.TITLES.values():
        assert len(titles) >= 20 and len(set(titles)) == len(titles)
        for template in titles:
            fewest, most = hard.title_words(template)
            assert fewest >= 3 and most <= 8 and most == fewest + 1, template
            with_word, without = hard.title_text(template, True), hard.title_text(template, False)
            assert "[" not in with_word + without
            assert [w for w in with_word.split() if w not in without.split()] == [template.split("[")[1].split("]")[0]]
        lead = [hard.title_text(t, False).split()[:2] for t in titles]
        assert len({tuple(w) for w in lead}) == len(titles)  # no two titles are one formula


def test_typo_changes_one_letter_of_one_long_word():
    rng = random.Random(3)
    for lang in corpus.LANGUAGES:
        for template in hard.TITLES[lang]:
            title = hard.title_text(template, True)
            typo = hard.typo_variant(title, rng)
            assert typo is not None and typo != title
            [(old, new)] = changed_words(title, typo)
            assert len(old) >= 5 and abs(len(old) - len(new)) <= 1
            assert difflib.SequenceMatcher(a=old, b=new).ratio() >= 0.8  # a spelling slip, not another word
    assert hard.typo_variant("a an the of", rng) is None


# --------------------------------------------------------------------------------------------- chains


def test_copied_share_and_overlap_margin_on_hand_computed_cases():
    five = ["a", "b", "c", "d", "e"]
    assert hard.copied_share(five, ["x", "b", "c", "d", "y"]) == pytest.approx(3 / 5)
    assert hard.copied_share(five, ["c", "d", "e", "a", "b"]) == pytest.approx(3 / 5)  # reordered
    assert hard.copied_share([], ["a"]) == 0.0
    same = [f"w{i}" for i in range(10)]
    assert hard.overlap_margin(same, same) == pytest.approx(0.4)  # B2: 1.0 − 0.6
    twenty = [f"w{i}" for i in range(20)]
    # An excerpt of 4 of 20 words: B1 fails on the longer side (0.2 < 0.4) by 0.2.
    assert hard.overlap_margin(twenty[3:7], twenty) == pytest.approx(-0.2)
    # A truncation to 10 of 20 words: B1 holds, the longer side 0.5 clears 0.4 by 0.1.
    assert hard.overlap_margin(twenty, twenty[:10]) == pytest.approx(0.1)
    # Every fourth word replaced: only runs of 3 around the gaps survive.
    edited = [w if i % 4 else "x" for i, w in enumerate(twenty)]
    assert hard.overlap_margin(twenty, edited) == pytest.approx(15 / 20 - 0.6)


@pytest.mark.parametrize("lang", corpus.LANGUAGES)
def test_strip_attribution_undoes_stacked_attribution_edits(lang):
    rng = random.Random(8)
    for source in corpus.load_pool(lang)[:60]:
        text = source.text
        for _ in range(3):
            text = corpus.attribution_variant(text, lang, rng)[0]
        stripped = corpus.word_tokens(corpus.strip_attribution(text, lang), lang)
        # What is left is the source, up to the conjunction or capital a prefix takes off its first word.
        assert corpus.word_edit_distance(stripped, corpus.word_tokens(source.text, lang)) <= 1, text


def test_clause_drop_cuts_one_end():
    rng = random.Random(5)
    text = " ".join(f"w{i}" for i in range(30))
    for _ in range(50):
        cut = hard.clause_drop(text, rng)
        assert cut is not None and (text.startswith(cut) or text.endswith(cut))
        assert 19 <= len(cut.split()) <= 26  # 15–35 % of 30 words dropped
        truncated = hard.clause_drop(text, rng, (0.4, 0.5))
        assert 15 <= len(truncated.split()) <= 18 and truncated in text
    assert hard.clause_drop("w1 w2 w3 w4 w5 w6 w7 w8", rng) is None


# ------------------------------------------------------------------------------------- generated labels


def test_default_corpus_has_every_hard_case_in_both_languages(default_corpus):
    kinds = Counter((p.lang, p.kind, p.own_cluster) for p in default_corpus)
    for lang in corpus.LANGUAGES:
        assert kinds[(lang, "template", True)] >= 40
        assert kinds[(lang, "excerpt", True)] >= 30
        assert kinds[(lang, "title_edit", False)] >= 20
        assert kinds[(lang, "chain", False)] >= 40
    assert sum(n for (_, kind, own), n in kinds.items() if kind == "chain" and own) >= 1
    facts = Counter(p.detail for p in default_corpus if p.kind == "template")
    assert set(facts) == set(hard.FACT_KINDS)
    assert set(Counter(p.detail for p in default_corpus if p.kind == "title_edit")) == set(hard.TITLE_EDITS)
    assert {p.hops for p in default_corpus if p.kind == "chain"} == {2, 3}


def test_hard_case_labels_follow_the_definition(default_corpus):
    sources = {p.cluster: p.text for p in default_corpus if p.kind == corpus.ORIGINAL}
    for p in default_corpus:
        source = sources[p.derived_from]
        if p.kind == "template":  # one fact changed: DISTINCT
            [(old, new)] = changed_words(source, p.text)
            assert hard.is_fact_word(old, p.lang) and hard.is_fact_word(new, p.lang)
            assert p.own_cluster and p.cluster.startswith(f"{p.derived_from}/template-")
        elif p.kind == "excerpt":  # a contained excerpt below 40 %: DISTINCT
            assert p.text in source and p.own_cluster
            assert hard.EXCERPT_MIN_WORDS <= p.words <= hard.EXCERPT_MAX_SHARE * p.source_words
        elif p.kind == "title_edit":  # one edit that changes no fact: DUPLICATE
            assert p.cluster == p.derived_from and p.edit_words <= 1 and 3 <= p.words <= 8
            assert fact_cores(p.text, p.lang) == fact_cores(source, p.lang) or p.detail in ("typo", "orthographic")
        elif p.kind == "chain":  # gold follows B1/B2 against the source, clear of the thresholds
            margin = hard.overlap_margin(corpus.measured_words(source, p.lang), corpus.measured_words(p.text, p.lang))
            if p.own_cluster:
                assert margin <= -hard.BREAK_CLEARANCE and p.detail.endswith(":break")
            else:
                assert margin >= hard.CLEARANCE and p.cluster == p.derived_from
            assert not fact_cores(p.text, p.lang) - fact_cores(source, p.lang)  # no fact added or changed


def test_chain_hops_descend_from_earlier_copies_not_the_source(default_corpus):
    seen: dict[str, set[str]] = {}
    for p in default_corpus:
        if p.kind == "chain":
            # At least one earlier line of the same source is a copy it could have been made from.
            copies = seen.get(p.derived_from, set())
            assert copies, p.text
        if p.cluster == p.derived_from and p.kind != corpus.ORIGINAL:
            seen.setdefault(p.derived_from, set()).add(p.text)
