"""Each matching-normalisation rule, one at a time. The stored text is never changed by these."""

from __future__ import annotations

import pytest

from wirecopy.dedup.normalize import normalize_batch, normalize_for_matching, strip_frame


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("مَرْحَبًا بِكُمْ", "مرحبا بكم"),  # tashkeel removed
        ("أرمينيـــا", "ارمينيا"),  # tatweel removed, hamza alef folded
        ("إيران آسيا ٱلله", "ايران اسيا الله"),  # alef forms → ا
        ("مستشفى على", "مستشفي علي"),  # alef maqsura → ي
        ("الحكومة الأرمينية", "الحكومه الارمينيه"),  # taa marbuta → ه
        ("عام ٢٠٢٠ و۱۴۰۲", "عام 2020 و1402"),  # Arabic-Indic and Persian digits → ASCII
        ("قالت، إن؛ هل؟ «نعم»", "قالت ان هل نعم"),  # Arabic punctuation → space
        ("ﻻ ﺍﻟﺴﻼﻡ", "لا السلام"),  # presentation forms folded by NFKC
        ("Hello, WORLD! (Reuters)", "hello world"),  # Latin lower-case, punctuation → space, agency tag cut
        ("Hello (5) world", "hello 5 world"),  # a bracketed number is text
        ("ＡＢＣ１２３", "abc123"),  # full-width folded by NFKC
        ("  many    spaces\n\tand\ttabs  ", "many spaces and tabs"),  # whitespace collapsed and trimmed
        ("نيم\u200cفاصله\u200f", "نيمفاصله"),  # invisible format marks dropped
    ],
)
def test_rule(raw: str, expected: str) -> None:
    assert normalize_for_matching(raw) == expected


def test_cyrillic_and_latin_letters_survive() -> None:
    text = "В Ереване протестующие — Café Zürich ŁÓDŹ"
    assert normalize_for_matching(text) == "в ереване протестующие café zürich łódź"


def test_supplementary_plane_text_takes_the_wide_path() -> None:
    assert normalize_for_matching("نص 😀 مع 𝒳 رمز") == "نص مع x رمز"


def test_batch_equals_one_by_one_and_keeps_empty_texts() -> None:
    texts = ["أ ب", "", "  ", "Hello  World", "٣ أيام"]
    assert (
        normalize_batch(texts) == [normalize_for_matching(t) for t in texts] == ["ا ب", "", "", "hello world", "3 ايام"]
    )


def test_spelling_variants_of_a_seed_sentence_normalise_alike() -> None:
    a = "واستعادت أذربيجان في 2020 أجزاءً من أراضي الإقليم"
    b = "واستعادت اذربيجان في ٢٠٢٠ اجزاء من اراضي الاقليم"
    assert normalize_for_matching(a) == normalize_for_matching(b)


def test_grouped_normalisation_equals_one_pass(monkeypatch) -> None:
    from wirecopy.dedup import normalize

    texts = [f"أَهلاً  بالعالم، Привет {i}! " * (i % 7 + 1) for i in range(300)] + [""]
    one_pass = normalize.normalize_batch(texts)
    monkeypatch.setattr(normalize, "_GROUP_CHARACTERS", 64)  # many groups, some a single long text
    assert normalize.normalize_batch(texts) == one_pass
    assert len(one_pass) == len(texts) and one_pass[-1] == ""


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("الرياض - واس: قال الوزير", "قال الوزير"),  # dateline with a dash
        ("سبق- وكالات: نص الخبر", "نص الخبر"),
        ("الرياض: نص", "نص"),  # a one-word dateline
        ("* سفر مرضى القلب: وتشمل العوامل", "* سفر مرضى القلب: وتشمل العوامل"),  # a heading, not a dateline
        ("أعلن (واس) أن", "أعلن   أن"),  # agency tag
        ("تبدأ بالرمز (5) ثم", "تبدأ بالرمز (5) ثم"),  # a number in brackets is text
        ("وصف (الحدث الكبير جدا في المدينة) بأنه", "وصف (الحدث الكبير جدا في المدينة) بأنه"),  # long aside kept
    ],
)
def test_strip_frame(raw: str, expected: str) -> None:
    assert strip_frame(raw) == expected
