"""The cleaning fast paths decide exactly as the slow ones: one alternation per outlet, language on a sample."""

from __future__ import annotations

import random
import re

import pytest

from tests.conftest import ROOT
from wirecopy.cleaning.language import SAMPLE_CHARS, detect_language
from wirecopy.cleaning.paragraphs import numbered_lines
from wirecopy.cleaning.rules import (
    CompiledRules,
    LineRule,
    RuleSet,
    case_folded,
    load_rules,
    max_width,
    normalize,
    required_literals,
    undecorated,
)

CORPUS = ROOT / "bench" / "cleaning_corpus" / "docs"


def _corpus_lines() -> list[str]:
    files = sorted(CORPUS.glob("*.txt")) + sorted((ROOT / "seeds").glob("*.txt"))
    return [line for path in files for _number, line in numbered_lines(path.read_text(encoding="utf-8"))]


def _rule_by_rule(rules: RuleSet, outlet: str | None, norm: str, core: str) -> str | None:
    return next((rule.name for rule in rules.rules_for(outlet) if rule.matches(norm, core)), None)


@pytest.mark.parametrize("outlet", [None, "example-outlet", " Example-Outlet ", "unknown outlet"])
def test_one_alternation_finds_the_same_first_rule_as_the_loop(outlet: str | None) -> None:
    rules = load_rules()
    compiled = rules.compiled_for(outlet)
    lines = _corpus_lines()
    rng = random.Random(7)
    # long lines made of corpus lines: the length tiers leave bounded rules out of these
    lines += [" ".join(rng.sample(lines, 6)) for _ in range(200)]
    # first characters in another case, or spelled with a character IGNORECASE matches with an ASCII letter
    twins = {"s": "ſ", "k": "\u212a", "i": "ı"}
    removable = [line for line in lines if _rule_by_rule(rules, outlet, normalize(line), undecorated(normalize(line)))]
    lines += [line.upper() for line in removable] + [twins.get(line[:1].lower(), "") + line[1:] for line in removable]
    removed = 0
    for line in lines:
        norm = normalize(line)
        core = undecorated(norm)
        found = compiled.first_rule(norm, core)
        assert (found.name if found else None) == _rule_by_rule(rules, outlet, norm, core), line
        removed += found is not None
    assert len(lines) > 1000 and removed > 100  # the corpus exercises many rules, not only misses


def _normalize_by_definition(line: str) -> str:
    line = re.sub("[\u00ad\u0640\u061c\u200b-\u200f\u202a-\u202e\u2060-\u2069\ufeff]", "", line)
    line = re.sub("[\u0610-\u061a\u064b-\u065f\u0670\u06d6-\u06ed]", "", line)
    folds = {"أ": "ا", "إ": "ا", "آ": "ا", "ٱ": "ا", "ى": "ي", "ة": "ه", "：": ":"}
    folds |= {chr(0x0660 + d): str(d) for d in range(10)} | {chr(0x06F0 + d): str(d) for d in range(10)}
    return re.sub(r"\s+", " ", line.translate(str.maketrans(folds))).strip()


def _undecorated_by_definition(norm: str) -> str:
    core = re.sub(r"^[\s\-–—•·*_~=|►▶◀»«>]+|[\s\-–—•·*_~=|◄◀▶«»<]+$", "", norm)
    if core.startswith(("(", "[")) and core.endswith((")", "]")) and "(" not in core[1:-1] and ")" not in core[1:-1]:
        core = core[1:-1].strip()
    return core


def test_line_forms_equal_their_regular_expression_definitions() -> None:
    spaces = "".join(chr(c) for c in range(0x110000) if re.fullmatch(r"\s", chr(c)))
    assert spaces == "".join(chr(c) for c in range(0x110000) if chr(c).isspace())
    edges = [spaces, f"{spaces}- إعلانٌ -{spaces}", "—— ►(وكالات)◄ ——", "-•-", "", "()", "[ ]", "«مصدر»",
             "أَحْمَدُ\u200f  ٢٠٢٣\u0640 ：", "٠١٢٣٤٥٦٧٨٩ ۰۱۲۳۴۵۶۷۸۹", "x\x1cy\u3000z", " ( a ) ", "> - <"]  # fmt: skip
    for line in _corpus_lines() + edges:
        norm = normalize(line)
        assert norm == _normalize_by_definition(line), line
        assert undecorated(norm) == _undecorated_by_definition(norm), line
        assert undecorated(line) == _undecorated_by_definition(line), line  # also on lines not normalized


def test_outlet_alternation_is_built_once_and_puts_outlet_rules_first() -> None:
    rules = load_rules()
    assert rules.compiled_for("Example-Outlet") is rules.compiled_for("example-outlet")
    assert rules.compiled_for("nobody") is rules.compiled_for(None)
    rule = rules.compiled_for("example-outlet").first_rule(normalize("اضغط هنا لمتابعة قناتنا على يوتيوب"))
    assert rule is not None and rule.name == "share:outlet/example-outlet"


def test_prefilters_leave_out_rules_that_cannot_match_a_long_line() -> None:
    rules = load_rules()
    compiled = rules.compiled_for(None)
    body = "word " * 80
    kept = compiled.kept(compiled.candidates(body))
    assert kept and len(kept) < len(rules.line_rules) // 2
    widths = [max_width(rules.line_rules[i].pattern) for i in kept]
    assert all(width is None or width >= 320 for width in widths)
    twitter = next(i for i, rule in enumerate(rules.line_rules) if "pic\\.twitter" in rule.pattern.pattern)
    assert twitter not in kept and twitter in compiled.kept(compiled.candidates(body + "pic.twitter.com/abc"))
    assert compiled.first_rule(normalize(body + " pic.twitter.com/abc")).rule_class == "social"


@pytest.mark.parametrize(
    ("pattern", "literals"),
    [
        (r".*(?:https?://)?\bt\.co/\w+.*", ("t.co/",)),
        (r".{5,300}\s(?:photograph|photo|picture)\s*:", ("photo", "photograph", "picture")),
        (r".{5,300}\b(?:reuters|afp|ap)/[\w .]{1,60}", ("afp/", "ap/", "reuters/")),
        (r"(Read) More.*", (" more",)),  # a group breaks the run: the longer part
        (r".*(?-i:AFP).*", None),  # inline flags: no literal is trusted
        (r".*\d+.*", None),
        (r"ab.*", None),  # too short to be worth a test
    ],
)
def test_required_literals(pattern: str, literals: tuple[str, ...] | None) -> None:
    import re

    assert required_literals(re.compile(pattern, re.IGNORECASE)) == literals


def test_case_twins_are_every_non_ascii_char_that_ignorecase_matches_with_an_ascii_letter() -> None:
    import re
    import string

    found = {}
    for code in range(0x80, 0x10000):
        char = chr(code)
        forms = char.lower() + char.upper() + char.casefold()
        for letter in string.ascii_lowercase:
            if letter in forms.lower() and re.fullmatch(letter, char, re.IGNORECASE) and char.lower() != letter:
                found[char] = letter
    assert found  # İ, ı, ſ
    assert all(case_folded(char) == letter for char, letter in found.items())


def test_a_backreference_rule_falls_back_to_rule_by_rule_matching() -> None:
    import re

    rules = (
        LineRule("a:x", "ad", re.compile(r"(\w+) \1", re.IGNORECASE)),
        LineRule("b:x", "ad", re.compile(r"ab+", re.IGNORECASE)),
    )
    compiled = CompiledRules.of(rules)
    assert compiled.fallback
    assert compiled.first("go go") == 0 and compiled.first("abbb") == 1 and compiled.first("go went") is None


def test_arabic_is_decided_by_script_without_the_model(monkeypatch: pytest.MonkeyPatch) -> None:
    import py3langid

    from wirecopy.cleaning import langid_batch

    def refuse(texts):
        raise AssertionError("py3langid called")

    monkeypatch.setattr(langid_batch, "classify_batch", refuse)
    monkeypatch.setattr(py3langid, "classify", refuse)
    assert detect_language("قالت وزارة الدفاع في أرمينيا إن القتال استمر طوال الليل، بحسب رويترز (AFP).") == "ar"


def test_persian_and_latin_go_to_the_model_on_a_sample(monkeypatch: pytest.MonkeyPatch) -> None:
    import py3langid

    seen: list[str] = []
    original = py3langid.classify
    monkeypatch.setattr(py3langid, "classify", lambda text: seen.append(text) or original(text))
    assert detect_language("این یک متن فارسی است که برای آزمایش تشخیص زبان نوشته شده است و کمی طولانی‌تر است.") == "fa"
    english = "The Federal Reserve left its benchmark interest rate unchanged on Wednesday. " * 40
    assert detect_language(english) == "en"
    assert len(seen) == 2 and len(seen[1]) == SAMPLE_CHARS


def test_too_few_letters_is_no_language() -> None:
    assert detect_language("12 34 -- 56 " * 200) is None
    assert detect_language("ok 12") is None


def test_seed_languages_unchanged(seed_documents) -> None:
    assert sorted(doc.language for _raw, doc in seed_documents) == ["ar", "ar", "ar", "ar", "ar"]
