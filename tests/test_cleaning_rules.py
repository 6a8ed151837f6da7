"""Rule-set loading, extension per outlet, normalisation, language and paragraph helpers."""

from __future__ import annotations

from pathlib import Path

import pytest

from wirecopy.cleaning.language import detect_language, dominant_script
from wirecopy.cleaning.paragraphs import numbered_lines, split_paragraphs
from wirecopy.cleaning.plaintext import clean_plaintext
from wirecopy.cleaning.rules import PATTERN_CLASSES, load_rules, normalize, undecorated

BODY = "قالت وزارة الدفاع في أرمينيا، الاثنين، إن القتال مع القوات الأذرية استمر طوال الليل واستؤنف في الصباح."


def test_default_rules_are_cached_and_named_by_class_and_scope() -> None:
    rules = load_rules()
    assert rules is load_rules()
    assert {"ad:any", "source:ar", "source:en", "read_also:ar", "share:en", "caption:ar"} <= set(rules.rule_names)
    assert all(name.split(":")[0] in PATTERN_CLASSES for name in rules.rule_names)


def test_a_custom_rules_file_with_an_outlet_section(tmp_path: Path) -> None:
    path = tmp_path / "rules.toml"
    path.write_text(
        """
[settings]
zone_max_lines = 3
[lang.ar]
source = ['المصدر\\s*:?.{0,40}']
months = ['سبتمبر']
[outlet."Al Watan"]
ad = ['محتوى مدعوم من شركائنا']
""",
        encoding="utf-8",
    )
    rules = load_rules(path)
    assert rules.settings.zone_max_lines == 3
    text = f"{BODY}\nمحتوى مدعوم من شركائنا\nالمصدر: الوطن"
    with_outlet = clean_plaintext(text, outlet="al watan", rules=rules)
    assert [s.rule for s in with_outlet.removed] == ["ad:outlet/Al Watan", "source:ar"]
    assert clean_plaintext(text, outlet="other", rules=rules).paragraphs == [BODY, "محتوى مدعوم من شركائنا"]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("[lang.ar]\nsource = ['(unclosed']\n", "bad pattern"),
        ("[lang.ar]\nsauce = ['x']\n", "unknown keys"),
        ("[settings]\nzone = 1\n", "unknown settings"),
    ],
)
def test_invalid_rules_are_rejected(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "bad.toml"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(ValueError, match=message):
        load_rules(path)


def test_normalize_unifies_arabic_forms_digits_and_invisible_marks() -> None:
    assert normalize("  إقرأ\u200f أيضاً  ") == normalize("اقرأ ايضا") == "اقرا ايضا"
    assert normalize("٨ أكتوبر ٢٠٢٣") == "8 اكتوبر 2023"
    assert undecorated("- إعلان -") == "إعلان"
    assert undecorated("(وكالات)") == "وكالات"


def test_split_paragraphs_every_non_empty_line() -> None:
    text = "first line\r\n\r\n  second line  \n\u00a0\nthird\u2029fourth"
    assert split_paragraphs(text) == ["first line", "second line", "third", "fourth"]
    assert numbered_lines("a\n\nb") == [(1, "a"), (3, "b")]


def test_detect_language_and_scripts() -> None:
    assert detect_language(BODY) == "ar"
    assert detect_language("The Federal Reserve left its benchmark interest rate unchanged on Wednesday.") == "en"
    assert detect_language("Люди скандируют и подходят все ближе ко входу в здание правительства.") == "ru"
    assert detect_language("ok 12") is None
    assert dominant_script(BODY + " SOTA") == "arabic"
    assert dominant_script("12 34", min_letters=1) is None
