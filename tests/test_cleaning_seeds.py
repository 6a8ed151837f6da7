"""The five real seed articles: exactly the boilerplate goes, every other line survives verbatim."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from wirecopy.cleaning.paragraphs import split_paragraphs
from wirecopy.cleaning.plaintext import clean_plaintext

SEEDS = Path(__file__).resolve().parents[1] / "seeds"

# seed file prefix -> {line number: rule class} of the lines that must be removed
EXPECTED_REMOVED = {
    "000": {8: "social", 9: "social", 10: "social", 11: "social"},
    "001": {1: "ad", 18: "caption", 32: "ad", 33: "source"},
    "002": {},
    "003": {},
    "004": {1: "date", 2: "tag"},
}
EXPECTED_PARAGRAPHS = {"000": 15, "001": 29, "002": 16, "003": 22, "004": 15}


def _seed(prefix: str) -> str:
    (path,) = SEEDS.glob(f"{prefix}_*.txt")
    return path.read_text(encoding="utf-8")


@pytest.mark.parametrize("prefix", sorted(EXPECTED_REMOVED))
def test_seed_removes_exactly_the_boilerplate(prefix: str) -> None:
    text = _seed(prefix)
    result = clean_plaintext(text)
    removed = {segment.line_no: segment.rule.split(":")[0] for segment in result.removed}
    assert removed == EXPECTED_REMOVED[prefix]
    assert len(result.paragraphs) == EXPECTED_PARAGRAPHS[prefix]
    lines = text.splitlines()
    for segment in result.removed:
        assert segment.text == lines[segment.line_no - 1].strip()


@pytest.mark.parametrize("prefix", sorted(EXPECTED_REMOVED))
def test_seed_every_other_line_survives_verbatim(prefix: str) -> None:
    text = _seed(prefix)
    result = clean_plaintext(text)
    removed_lines = {segment.line_no for segment in result.removed}
    expected = [
        line.strip()
        for number, line in enumerate(text.splitlines(), start=1)
        if line.strip() and number not in removed_lines
    ]
    assert result.paragraphs == expected
    assert len(result.paragraphs) + len(result.removed) == len(split_paragraphs(text))


@pytest.mark.parametrize("prefix", sorted(EXPECTED_REMOVED))
def test_seed_output_has_no_boilerplate_left(prefix: str) -> None:
    paragraphs = clean_plaintext(_seed(prefix)).paragraphs
    joined = "\n".join(paragraphs)
    assert "[ad_" not in joined
    assert "pic.twitter.com" not in joined
    assert "@Sota_Vision" not in joined
    assert not re.search("[\u0400-\u04ff]", joined), "Cyrillic tweet text survived"
    assert "المصدر" not in paragraphs
    assert "19-سبتمبر-2023" not in paragraphs
    assert "أذربيجان وأرمينيا" not in paragraphs
    assert "وكالة الصحافة الفرنسية" not in joined


def test_seed_subheadings_stay() -> None:
    kept = set(clean_plaintext(_seed("000")).paragraphs) | set(clean_plaintext(_seed("003")).paragraphs)
    for subheading in (
        "اقتحام مبنى البرلمان الأرميني",
        "باشينيان يتصل بماكرون وبلينكن",
        "حرب الأسابيع الـ6 في 2020",
        "صراع على أنقاض الاتحاد السوفيتي",
        "ألمانيا تطالب بوقف فوري للقصف",
        "أمريكا استخدام القوة غير مقبول",
        "تركيا تدعم أذربيجان",
        "إيران تعرض الوساطة",
    ):
        assert subheading in kept
