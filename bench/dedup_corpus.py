"""Generate a labelled Arabic + English syndication corpus for the dedup quality harness.

Source paragraphs are the hand-written pools in `bench/dedup_texts/{ar,en}.txt` (one per line, grouped
by `@topic`). Outlets are alternately Arabic and English; each article picks a topic and mixes first
appearances of source paragraphs (kind ``original``) with re-published copies of paragraphs that some
outlet already ran, each copy carrying one labelled edit:

==============  ==========================================================================
exact           unchanged copy (also in-article repeats)
orthographic    ar: hamza/alef, ى/ي, ة/ه, tashkeel added/removed, tatweel, ٠-٩ digits;
                en: UK→US spelling, case, curly quotes
word_edit       1–3 word substitutions / insertions / deletions
attribution     agency prefix or suffix («بحسب رويترز»، "AP reported that")
containment     40–70 % of the words (cut sentence, pull-quote inside the same article)
mixed           house style on top of an edit: orthographic + (word_edit | attribution)
==============  ==========================================================================

Output (deterministic for a seed)::

    OUT/articles/<outlet>/<article>.txt   one paragraph per line  (ingest OUT/articles)
    OUT/gold.jsonl                        one row per paragraph line (see `GoldParagraph`)
    OUT/manifest.json                     config + corpus statistics

Gold clusters are the source paragraphs; every cluster's first occurrence is its ``original``. Distinct
source paragraphs of one topic are hard negatives: they must never be merged.

    .venv/bin/python bench/dedup_corpus.py OUT [--seed 1] [--outlets 6] [--articles 40]
"""

from __future__ import annotations

import argparse
import json
import math
import random
import re
import shutil
import unicodedata
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path

import dedup_hard_cases as hard  # bench/ is a script directory, not a package

TEXTS_DIR = Path(__file__).resolve().parent / "dedup_texts"
LANGUAGES = ("ar", "en")
ORIGINAL = "original"
EDIT_KINDS = ("exact", "orthographic", "word_edit", "attribution", "containment", "mixed")
COPY_WEIGHTS = {
    "exact": 0.13,
    "orthographic": 0.22,
    "word_edit": 0.24,
    "attribution": 0.15,
    "containment": 0.18,
    "mixed": 0.08,
}
HARD_KINDS = ("template", "excerpt", "title_edit", "chain")  # see dedup_hard_cases.py
SMALL_EDIT_KINDS = ("exact", "orthographic", "word_edit", "attribution", "mixed")
OUTLET_NAMES = {
    "ar": ["sada-alsharq", "alwadi-news", "nahar-alkhaleej", "almanara-post", "alraed-daily", "bawabat-alyawm"],
    "en": ["capital-wire", "harbour-ledger", "northern-dispatch", "evening-courier", "plains-tribune", "metro-post"],
}
MIN_COPY_WORDS = 10  # truncations never go below this many words
MAX_FOREIGN_CONTAINMENT = 0.5  # a truncation may share at most this share of its word 3-grams with another source


@dataclass(frozen=True)
class SourceParagraph:
    """One hand-written original paragraph: the identity of a gold cluster."""

    cluster: str
    lang: str
    topic: str
    text: str


@dataclass(frozen=True)
class GoldParagraph:
    """One line of one generated article with its gold label (a row of gold.jsonl)."""

    outlet: str
    file: str
    position: int  # 0-based line number in the article file
    text: str
    cluster: str
    kind: str  # original | exact | orthographic | word_edit | attribution | containment | mixed | HARD_KINDS
    detail: str  # what was done: "alef+digits", "sub+del", "prefix", "pullquote-prefix", "alef/sub+ins"
    lang: str
    topic: str
    words: int  # whitespace words of this text
    source_words: int  # whitespace words of the source paragraph it was made from
    edit_words: int  # word-level edit distance to that source after orthographic folding
    derived_from: str = ""  # cluster of the source it was made from (≠ cluster: a DISTINCT hard case)
    hops: int = 0  # copies between the source and this line (0 for the source, 2–3 for a chain)

    @property
    def own_cluster(self) -> bool:
        """A hard case DISTINCT from the source it was made from (template, excerpt, chain break)."""
        return bool(self.derived_from) and self.cluster != self.derived_from

    @property
    def file_key(self) -> str:
        return f"{self.outlet}/{self.file}"

    @classmethod
    def from_json(cls, line: str) -> GoldParagraph:
        return cls(**json.loads(line))


@dataclass(frozen=True)
class CorpusConfig:
    outlets: int = 6
    articles: int = 40  # per outlet
    seed: int = 1
    min_paragraphs: int = 7
    max_paragraphs: int = 13
    fresh_probability: float = 0.3  # chance a slot takes a not-yet-published source paragraph
    pull_quote_probability: float = 0.3  # chance an article repeats one of its paragraphs later on
    hard_case_probability: float = 0.2  # chance a copy slot takes a template, an excerpt or a chain hop instead
    title_probability: float = 0.4  # chance an article opens with a short title line
    fresh_title_probability: float = 0.3  # chance a title line is a not-yet-published title


@dataclass
class Corpus:
    config: CorpusConfig
    articles: dict[str, list[GoldParagraph]] = field(default_factory=dict)  # file_key → lines

    @property
    def paragraphs(self) -> list[GoldParagraph]:
        return [line for lines in self.articles.values() for line in lines]


# ---------------------------------------------------------------------------------------------- pools


def load_pool(lang: str, texts_dir: Path = TEXTS_DIR) -> list[SourceParagraph]:
    """The source paragraphs of one language, in file order."""
    pool: list[SourceParagraph] = []
    topic = "untitled"
    for raw in (texts_dir / f"{lang}.txt").read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("@topic"):
            topic = line.removeprefix("@topic").strip()
            continue
        pool.append(SourceParagraph(f"{lang}-{len(pool):03d}", lang, topic, line))
    return pool


# --------------------------------------------------------------------------------- matching helpers

_TASHKEEL = re.compile("[\u064b-\u0652\u0670]")
_ARABIC_FOLD = str.maketrans({"أ": "ا", "إ": "ا", "آ": "ا", "ٱ": "ا", "ى": "ي", "ة": "ه", "\u0640": None})
_ARABIC_DIGITS = "٠١٢٣٤٥٦٧٨٩"
_TO_ASCII_DIGITS = str.maketrans({d: str(i) for i, d in enumerate(_ARABIC_DIGITS)})
_QUOTES = str.maketrans({"“": '"', "”": '"', "‘": "'", "’": "'"})
UK_TO_US = {
    "defence": "defense",
    "armoured": "armored",
    "neutralise": "neutralize",
    "localised": "localized",
    "recognised": "recognized",
    "apologised": "apologized",
    "organisations": "organizations",
    "organisation": "organization",
    "organise": "organize",
    "programme": "program",
    "labour": "labor",
    "criticised": "criticized",
    "unfavourable": "unfavorable",
    "specialised": "specialized",
    "familiarise": "familiarize",
    "travelling": "traveling",
    "scepticism": "skepticism",
    "anaesthetic": "anesthetic",
    "harbour": "harbor",
    "lorries": "trucks",
}


def fold(text: str, lang: str) -> str:
    """Orthographic folding used to measure edits: what an 'orthographic' variant must not change."""
    text = unicodedata.normalize("NFKC", text)
    if lang == "ar":
        text = _TASHKEEL.sub("", text).translate(_ARABIC_FOLD).translate(_TO_ASCII_DIGITS)
    else:
        text = text.translate(_QUOTES).lower()
    return text


def word_tokens(text: str, lang: str) -> list[str]:
    """Folded word tokens without punctuation (the unit of `edit_words`)."""
    out = []
    for token in fold(text, lang).split():
        token = "".join(ch for ch in token if ch.isalnum())
        if token:
            out.append(UK_TO_US.get(token, token) if lang == "en" else token)
    return out


def word_shingles(text: str, lang: str, size: int = 3) -> set[tuple[str, ...]]:
    """Folded word n-grams (used to keep truncations unambiguous)."""
    words = word_tokens(text, lang)
    return {tuple(words[i : i + size]) for i in range(max(1, len(words) - size + 1))}


def word_edit_distance(a: list[str], b: list[str]) -> int:
    """Levenshtein distance over token sequences."""
    previous = list(range(len(b) + 1))
    for i, token_a in enumerate(a, 1):
        current = [i]
        for j, token_b in enumerate(b, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (token_a != token_b)))
        previous = current
    return previous[-1]


# ------------------------------------------------------------------------------------ edit functions

_SHADDA = "\u0651"
_NON_JOINING = set("ادذرزوةىءأإآؤ")
_VOWEL_LETTERS = set("اأإآوىيةءؤئ")
_ARABIC_WORD = re.compile("^[\u0621-\u064a]{3,}$")


def _tanween(word: str) -> str | None:
    """عسكريا → عسكريًا: the diacritic news sites add most often."""
    if len(word) >= 4 and word.endswith("ا") and word[-2] not in (_VOWEL_LETTERS - {"ي"}) | {"ه", "ن"}:
        return word[:-1] + "\u064b" + "ا"
    return None


def _shadda(word: str) -> str | None:
    """مسيرة → مسيّرة: a shadda on an inner consonant of the stem."""
    start = 1 if word.startswith("و") and len(word) > 5 else 0
    start += 2 if word[start:].startswith("ال") else 0
    inner = [i for i in range(start + 1, len(word) - 1) if word[i] not in _VOWEL_LETTERS]
    return word[: inner[0] + 1] + _SHADDA + word[inner[0] + 1 :] if inner else None


def _ar_tashkeel_add(text: str, rng: random.Random) -> str:
    words = text.split(" ")
    tanween = [i for i, w in enumerate(words) if _ARABIC_WORD.match(w) and _tanween(w)]
    shadda = [i for i, w in enumerate(words) if len(w) >= 5 and _ARABIC_WORD.match(w) and _shadda(w)]
    for i in rng.sample(tanween, min(len(tanween), rng.randint(1, 3))):
        words[i] = _tanween(words[i]) or words[i]
    for i in rng.sample(shadda, min(len(shadda), rng.randint(0 if tanween else 1, 2))):
        words[i] = _shadda(words[i]) or words[i]
    return " ".join(words)


def _tatweel_points(word: str) -> list[int]:
    """Where a kashida can stretch `word`: after a joining letter, before a letter that is not an alef."""
    if not _ARABIC_WORD.match(word):
        return []
    return [i for i in range(1, len(word) - 1) if word[i - 1] not in _NON_JOINING and word[i] not in "اأإآ"]


def _ar_tatweel(text: str, rng: random.Random) -> str:
    words = text.split(" ")
    candidates = [i for i, w in enumerate(words) if len(w) >= 4 and _tatweel_points(w)]
    for i in rng.sample(candidates, min(len(candidates), rng.randint(1, 3))):
        at = rng.choice(_tatweel_points(words[i]))
        words[i] = words[i][:at] + "\u0640" * rng.randint(1, 2) + words[i][at:]
    return " ".join(words)


_WORD_END = "(?![\u0621-\u064a\u064b-\u0652\u0670\u0640])"  # no letter, diacritic or tatweel follows


def _ar_final_ya(text: str, rng: random.Random) -> str:
    if re.search("ى" + _WORD_END, text) and (rng.random() < 0.5 or not re.search("ي" + _WORD_END, text)):
        return re.sub("ى" + _WORD_END, "ي", text)
    return re.sub("ي" + _WORD_END, "ى", text)  # Egyptian style: في → فى


AR_ORTHOGRAPHY = {
    "alef": lambda t, rng: re.sub("[أإآ]", "ا", t),
    "ya": _ar_final_ya,
    "ta-marbuta": lambda t, rng: re.sub("ة" + _WORD_END, "ه", t),
    "tashkeel-strip": lambda t, rng: _TASHKEEL.sub("", t),
    "tashkeel-add": _ar_tashkeel_add,
    "tatweel": _ar_tatweel,
    "digits": lambda t, rng: t.translate(str.maketrans("0123456789", _ARABIC_DIGITS)),
}
# Relative chance of each change when it applies (rarely applicable ones are favoured).
ORTHOGRAPHY_WEIGHTS = {"digits": 3.0, "tashkeel-strip": 3.0, "us-spelling": 4.0, "curly-quotes": 3.0, "case": 1.0}


def _en_us_spelling(text: str, rng: random.Random) -> str:
    def swap(match: re.Match[str]) -> str:
        word = match.group(0)
        us = UK_TO_US[word.lower()]
        return us.capitalize() if word[0].isupper() else us

    return re.sub(r"\b(" + "|".join(UK_TO_US) + r")\b", swap, text, flags=re.IGNORECASE)


def _en_case(text: str, rng: random.Random) -> str:
    if rng.random() < 0.5:
        return text.lower()
    words = text.split(" ")
    n = rng.randint(2, 4)
    return " ".join([w.upper() for w in words[:n]] + words[n:])


def _en_curly_quotes(text: str, rng: random.Random) -> str:
    out, open_quote = [], True
    for ch in text:
        if ch == '"':
            out.append("“" if open_quote else "”")
            open_quote = not open_quote
        else:
            out.append("’" if ch == "'" else ch)
    return "".join(out)


EN_ORTHOGRAPHY = {"us-spelling": _en_us_spelling, "case": _en_case, "curly-quotes": _en_curly_quotes}


def orthographic_variant(text: str, lang: str, rng: random.Random) -> tuple[str, str]:
    """Apply 1–3 (ar) or 1–2 (en) orthographic changes that actually change the text."""
    table = AR_ORTHOGRAPHY if lang == "ar" else EN_ORTHOGRAPHY
    applicable = [name for name, edit in table.items() if edit(text, random.Random(0)) != text]
    if not applicable:
        return text, ""
    chosen: list[str] = []
    for _ in range(min(len(applicable), rng.randint(1, 3 if lang == "ar" else 2))):
        left = [name for name in applicable if name not in chosen]
        chosen += rng.choices(left, [ORTHOGRAPHY_WEIGHTS.get(name, 1.0) for name in left])
    chosen.sort(key=list(table).index)
    for name in chosen:
        text = table[name](text, rng)
    return text, "+".join(chosen)


SYNONYMS = {
    "en": {
        "said": ["stated", "added"],
        "region": ["area", "enclave"],
        "fighting": ["clashes", "hostilities"],
        "offensive": ["assault", "operation"],
        "officials": ["authorities"],
        "residents": ["inhabitants", "locals"],
        "troops": ["soldiers", "forces"],
        "forces": ["troops"],
        "government": ["administration"],
        "several": ["some", "numerous"],
        "many": ["numerous"],
        "town": ["city"],
        "attack": ["assault"],
        "help": ["assist"],
        "road": ["highway"],
        "families": ["households"],
        "warned": ["cautioned"],
        "later": ["subsequently"],
        "detained": ["arrested"],
        "blast": ["explosion"],
        "explosion": ["blast"],
        "killed": ["slain"],
        "large": ["vast"],
        "immediately": ["promptly"],
        "talks": ["negotiations"],
        "urged": ["called on"],
    },
    "ar": {
        "وقال": ["وأكد", "وذكر"],
        "وقالت": ["وأكدت", "وذكرت"],
        "قال": ["أكد"],
        "الإقليم": ["المنطقة"],
        "القتال": ["المعارك"],
        "السكان": ["الأهالي"],
        "القوات": ["الوحدات"],
        "الجرحى": ["المصابين"],
        "المدينة": ["البلدة"],
        "عنيفة": ["كثيفة"],
        "عنيف": ["كثيف"],
        "نحو": ["حوالي"],
        "لاحقا": ["فيما بعد"],
        "مقتل": ["سقوط"],
        "الهجوم": ["العملية"],
        "كثيرا": ["عددا كبيرا"],
        "أكثر": ["ما يزيد على"],
    },
}
INSERTIONS = {  # (words, where, anchor words): "after"/"before" an anchor, or after the "first" word
    "en": [
        ("also", "after", {"had", "has", "was", "were", "would", "have"}),
        ("later", "before", {"said"}),
        ("reportedly", "after", {"had", "was", "were"}),
        ("publicly", "after", {"said"}),
        ("now", "after", {"was", "were", "had", "has"}),
        ("officially", "before", {"said", "announced"}),
        ("very", "before", {"few", "large", "serious", "dire"}),
    ],
    "ar": [
        ("أيضا", "first", set()),
        ("كذلك", "first", set()),
        ("اليوم", "first", set()),
        ("مجددا", "first", set()),
        ("رسميا", "before", {"إن", "إنها", "إنه", "أن"}),
        ("علنا", "after", {"وقالت", "وقال"}),
    ],
}
DELETABLE = {
    "en": {
        "also",
        "largely",
        "heavy",
        "several",
        "still",
        "only",
        "already",
        "entirely",
        "immediately",
        "deeply",
        "sharply",
        "openly",
        "gradually",
        "well",
        "local",
        "new",
        "later",
        "first",
    },
    "ar": {"أيضا", "بالفعل", "تماما", "لاحقا", "فعليا", "تدريجيا", "علنا", "فقط", "بشدة", "الجديدة", "الجدد"},
}


def _strip(token: str) -> tuple[str, str, str]:
    """Split a token into leading punctuation, core, trailing punctuation."""
    match = re.match(r"^(\W*)(.*?)(\W*)$", token)
    assert match
    return match.group(1), match.group(2), match.group(3)


def _substitute(words: list[str], lang: str, rng: random.Random) -> bool:
    options = [i for i, w in enumerate(words) if _strip(w)[1] in SYNONYMS[lang]]
    if not options:
        return False
    i = rng.choice(options)
    lead, core, trail = _strip(words[i])
    words[i] = lead + rng.choice(SYNONYMS[lang][core]) + trail
    return True


def _insert(words: list[str], lang: str, rng: random.Random) -> bool:
    rules = list(INSERTIONS[lang])
    rng.shuffle(rules)
    for inserted, where, anchors in rules:
        if where == "first":
            at = 1
        else:
            hits = [i for i, w in enumerate(words) if _strip(w)[1] in anchors and not _strip(w)[2]]
            if not hits:
                continue
            at = rng.choice(hits) + (1 if where == "after" else 0)
        words[at:at] = inserted.split()
        return True
    return False


def _delete(words: list[str], lang: str, rng: random.Random) -> bool:
    options = [i for i, w in enumerate(words) if _strip(w)[1] in DELETABLE[lang] and not _strip(w)[2]]
    if not options:
        options = [
            i
            for i in range(1, len(words) - 1)
            if not _strip(words[i])[2] and not _strip(words[i])[0] and not hard.is_fact_word(words[i], lang)
        ]
    if not options:
        return False
    del words[rng.choice(options)]
    return True


def word_edit_variant(text: str, lang: str, rng: random.Random) -> tuple[str, str]:
    """1–3 word substitutions / insertions / deletions."""
    words = text.split(" ")
    done: list[str] = []
    operations = {"sub": _substitute, "ins": _insert, "del": _delete}
    for _ in range(rng.choice([1, 1, 2, 2, 3])):
        for name in rng.sample(list(operations), 3):
            if operations[name](words, lang, rng):
                done.append(name)
                break
    return " ".join(words), "+".join(done)


# Arabic pool paragraphs open with a verb, so Arabic prefixes are the comma kind («بحسب رويترز، قالت ...»);
# «وقالت وكالة الأنباء إن» needs a nominal sentence and is used as a suffix («..., وفق ما قالته وكالة الأنباء»).
ATTRIBUTION_PREFIXES = {
    "en": [
        "According to Reuters, ",
        "AP reported that ",
        "Reuters reported that ",
        "According to local media, ",
        "The Associated Press reported that ",
        "According to Agence France-Presse, ",
    ],
    "ar": [
        "بحسب رويترز، ",
        "وفقا لوكالة أسوشيتد برس، ",
        "ونقلا عن وكالة الأناضول، ",
        "وحسب وسائل إعلام محلية، ",
        "وبحسب ما أوردته وكالة فرانس برس، ",
    ],
}
ATTRIBUTION_SUFFIXES = {
    "en": ["according to Reuters", "AP reported", "the agency said", "Reuters reported", "according to news agencies"],
    "ar": [
        "بحسب رويترز",
        "وفق ما نقلته وكالة الأناضول",
        "بحسب وسائل إعلام محلية",
        "حسبما أفادت وكالة فرانس برس",
        "وفق ما قالته وكالة الأنباء",
    ],
}
_EN_LOWERABLE = {
    "The",
    "A",
    "An",
    "In",
    "On",
    "At",
    "Its",
    "Under",
    "Among",
    "Some",
    "Many",
    "Several",
    "Long",
    "Local",
    "Hospitals",
    "Residents",
    "Police",
    "Witnesses",
    "Doctors",
    "Dozens",
    "More",
    "About",
    "By",
    "Videos",
    "Relatives",
    "Lawyers",
    "Demonstrators",
    "Protesters",
    "Opposition",
    "Government",
    "Former",
    "Investigators",
    "Forensic",
    "Aid",
    "Military",
    "Analysts",
    "Officials",
    "Thousands",
}
_AR_CONJUNCTION = re.compile("^و(?=[^ ]{3})(?!زار|صف|قع|ج|حد|ضع|صل|فق|ثق|اف)")  # «وقالت» → «قالت», not «وزارة»


def attribution_variant(text: str, lang: str, rng: random.Random) -> tuple[str, str]:
    """Add an agency attribution before or after the paragraph."""
    if rng.random() < 0.55:
        prefix = rng.choice(ATTRIBUTION_PREFIXES[lang])
        body = text
        if lang == "en" and body.split(" ", 1)[0] in _EN_LOWERABLE:
            body = body[0].lower() + body[1:]
        if lang == "ar":
            body = _AR_CONJUNCTION.sub("", body)
        return prefix + body, "prefix"
    suffix = rng.choice(ATTRIBUTION_SUFFIXES[lang])
    stripped = text.rstrip()
    if stripped.endswith("."):
        return stripped[:-1] + ("، " if lang == "ar" else ", ") + suffix + ".", "suffix"
    if lang == "en":
        return f"{stripped} {suffix[0].upper()}{suffix[1:]}.", "suffix"
    return f"{stripped}، {suffix}.", "suffix"


def strip_attribution(text: str, lang: str) -> str:
    """`text` without the attribution prefixes and suffixes `attribution_variant` adds (the definition ignores
    attribution phrases), however many hops stacked them."""
    while True:
        stripped = text
        for prefix in ATTRIBUTION_PREFIXES[lang]:
            # a later prefix takes the conjunction off an Arabic one and lower-cases an English one
            for form in dict.fromkeys((prefix, prefix[0].lower() + prefix[1:], _AR_CONJUNCTION.sub("", prefix))):
                if stripped.startswith(form):
                    stripped = stripped[len(form) :]
                    break
        for suffix in ATTRIBUTION_SUFFIXES[lang]:
            for form in (f"، {suffix}.", f", {suffix}.", f" {suffix[0].upper()}{suffix[1:]}."):
                if stripped.endswith(form):
                    stripped = stripped[: -len(form)] + "."
        if stripped == text:
            return text
        text = stripped


def measured_words(text: str, lang: str) -> list[str]:
    """The words B1/B2 are measured on for chain gold: folded, attribution phrases out."""
    return word_tokens(strip_attribution(text, lang), lang)


def truncated_variant(text: str, rng: random.Random, mode: str | None = None) -> tuple[str, str]:
    """Keep 40–70 % of the words: a prefix (cut paragraph), suffix (dropped lead-in) or middle (pull-quote)."""
    words = text.split(" ")
    keep = max(MIN_COPY_WORDS, round(len(words) * rng.uniform(0.4, 0.7)))
    keep = min(keep, len(words) - 2)
    mode = mode or rng.choices(["prefix", "suffix", "middle"], [0.6, 0.2, 0.2])[0]
    start = {"prefix": 0, "suffix": len(words) - keep}.get(mode, rng.randint(1, max(1, len(words) - keep - 1)))
    piece = " ".join(words[start : start + keep]).strip(" ،,؛;:")
    return piece, mode


# ------------------------------------------------------------------------------------------ generator


@dataclass(frozen=True)
class _Line:
    """One drafted article line: its text, the source it was made from, and its gold cluster."""

    text: str
    source: SourceParagraph
    kind: str
    detail: str
    cluster: str  # the source's cluster, or a cluster of its own (template, excerpt, chain break)
    hops: int = 0  # copies between the source and this line (1 for a copy of the source itself)


@dataclass
class _State:
    pools: dict[str, list[SourceParagraph]]
    popularity: dict[str, float]
    published: dict[str, list[str]]  # lang → clusters already published, in order of first appearance
    titles: dict[str, list[SourceParagraph]] = field(default_factory=dict)
    title_templates: dict[str, str] = field(default_factory=dict)  # title cluster → template with "[word]"
    owner: dict[str, str] = field(default_factory=dict)  # text → cluster (gold must be a function of text)
    chain_bases: dict[str, list[_Line]] = field(default_factory=dict)  # source cluster → copies to copy again
    own_clusters: Counter[str] = field(default_factory=Counter)  # source cluster → hard-case clusters made

    def __post_init__(self) -> None:
        self.sources = {p.cluster: p for pool in self.pools.values() for p in pool}
        self.topics = {lang: list(dict.fromkeys(p.topic for p in pool)) for lang, pool in self.pools.items()}
        self.published_set: set[str] = set()
        self.published_titles: dict[str, list[str]] = {lang: [] for lang in self.pools}
        self.shingles = {cluster: word_shingles(p.text, p.lang) for cluster, p in self.sources.items()}

    def ambiguous(self, piece: str, source: SourceParagraph) -> bool:
        """True when a truncated piece of `source` is largely contained in another source paragraph too."""
        grams = word_shingles(piece, source.lang)
        return any(
            len(grams & self.shingles[other.cluster]) > MAX_FOREIGN_CONTAINMENT * len(grams)
            for other in self.pools[source.lang]
            if other.cluster != source.cluster
        )

    def new_cluster(self, source: SourceParagraph, kind: str, text: str) -> str | None:
        """The gold cluster of a hard case that is DISTINCT from `source`: the owner of an identical earlier text
        of the same kind, else a fresh one; None when the text already belongs to another kind of cluster."""
        owner = self.owner.get(text)
        if owner is not None:
            return owner if owner.startswith(f"{source.cluster}/{kind}-") else None
        self.own_clusters[source.cluster] += 1
        return f"{source.cluster}/{kind}-{self.own_clusters[source.cluster]}"


def outlet_names(count: int) -> list[tuple[str, str]]:
    """(name, lang) of each outlet, alternating Arabic and English."""
    out = []
    for i in range(count):
        lang = LANGUAGES[i % 2]
        names = OUTLET_NAMES[lang]
        base = names[(i // 2) % len(names)]
        out.append((base if i // 2 < len(names) else f"{base}-{i // 2 // len(names) + 1}", lang))
    return out


def _make_copy(source: SourceParagraph, kind: str, rng: random.Random, state: _State) -> _Line | None:
    """A re-published copy of `source` with one edit of `kind`, or None when no valid variant came out."""
    for _ in range(6):
        max_word_edits = 3 if kind == "word_edit" else None
        if kind == "exact":
            text, detail = source.text, ""
        elif kind == "orthographic":
            text, detail = orthographic_variant(source.text, source.lang, rng)
        elif kind == "word_edit":
            text, detail = word_edit_variant(source.text, source.lang, rng)
        elif kind == "attribution":
            text, detail = attribution_variant(source.text, source.lang, rng)
        elif kind == "mixed":
            edit = word_edit_variant if rng.random() < 0.6 else attribution_variant
            edited, edit_detail = edit(source.text, source.lang, rng)
            text, style = orthographic_variant(edited, source.lang, rng)
            detail = f"{style}/{edit_detail}"
            max_word_edits = 3 if edit is word_edit_variant else None
        else:
            text, detail = truncated_variant(source.text, rng)
        changed = text != source.text or kind == "exact"
        if kind == "containment" and state.ambiguous(text, source):
            continue
        if not (changed and text.strip() and state.owner.get(text, source.cluster) == source.cluster):
            continue
        if max_word_edits is not None:
            distance = word_edit_distance(word_tokens(source.text, source.lang), word_tokens(text, source.lang))
            if not 1 <= distance <= max_word_edits:
                continue
        return _Line(text, source, kind, detail, source.cluster, hops=1)
    return None


def _template(source: SourceParagraph, rng: random.Random, state: _State) -> _Line | None:
    """The source with one fact changed: DISTINCT, a cluster of its own."""
    variant = hard.template_variant(source.text, source.lang, rng)
    if variant is None:
        return None
    cluster = state.new_cluster(source, "template", variant[0])
    return _Line(variant[0], source, "template", variant[1], cluster) if cluster else None


def _excerpt(source: SourceParagraph, rng: random.Random, state: _State) -> _Line | None:
    """A piece below 40 % of the source: DISTINCT (contained-excerpt), a cluster of its own."""
    piece = hard.excerpt_span(source.text, rng)
    if piece is None or len(piece.split()) < hard.EXCERPT_MIN_WORDS or state.ambiguous(piece, source):
        return None
    cluster = state.new_cluster(source, "excerpt", piece)
    detail = f"{round(100 * len(piece.split()) / len(source.text.split()))}%"
    return _Line(piece, source, "excerpt", detail, cluster) if cluster else None


_HOP_EDITS = {"word_edit": 0.35, "clause_drop": 0.35, "attribution": 0.15, "truncation": 0.15}


def _chain_hop(source: SourceParagraph, rng: random.Random, state: _State) -> _Line | None:
    """A small edit of an earlier copy of `source` (see `dedup_hard_cases`): in the source's cluster while it is
    a DUPLICATE of the source, else a chain break with a cluster of its own."""
    bases = state.chain_bases.get(source.cluster)
    if not bases:
        return None
    lang = source.lang
    source_words = measured_words(source.text, lang)
    deeper = [line for line in bases if line.hops > 1]
    for _ in range(6):
        base = rng.choice(deeper if deeper and rng.random() < 0.5 else bases)
        edit = rng.choices(list(_HOP_EDITS), list(_HOP_EDITS.values()))[0]
        if edit == "word_edit":
            text: str | None = word_edit_variant(base.text, lang, rng)[0]
        elif edit == "attribution":
            text = attribution_variant(base.text, lang, rng)[0]
        elif edit == "clause_drop":
            text = hard.clause_drop(base.text, rng)
        else:  # a truncation of the copy to 50–60 % of it: still B1 against the copy, maybe not against the source
            text = hard.clause_drop(base.text, rng, (0.4, 0.5))
        if not text or text == base.text:
            continue
        words, base_words = measured_words(text, lang), measured_words(base.text, lang)
        if edit == "word_edit" and not 1 <= word_edit_distance(base_words, words) <= 3:
            continue
        if hard.overlap_margin(base_words, words) < hard.CLEARANCE or state.ambiguous(text, source):
            continue  # every hop is a clear DUPLICATE of the copy it was made from
        margin = hard.overlap_margin(source_words, words)
        detail = f"hop{base.hops + 1}:{edit}"
        if margin >= hard.CLEARANCE:
            if state.owner.get(text, source.cluster) == source.cluster:
                return _Line(text, source, "chain", detail, source.cluster, base.hops + 1)
        elif margin <= -hard.BREAK_CLEARANCE:
            cluster = state.new_cluster(source, "chain", text)
            if cluster:
                return _Line(text, source, "chain", f"{detail}:break", cluster, base.hops + 1)
    return None


_HARD_CASES = {"template": (0.35, _template), "excerpt": (0.2, _excerpt), "chain": (0.45, _chain_hop)}


def _hard_case(source: SourceParagraph, rng: random.Random, state: _State) -> _Line | None:
    """One hard case made from `source`: the drawn kind first, the others when it does not apply."""
    kinds = list(_HARD_CASES)
    first = rng.choices(kinds, [weight for weight, _ in _HARD_CASES.values()])[0]
    for kind in [first, *(k for k in kinds if k != first)]:
        line = _HARD_CASES[kind][1](source, rng, state)
        if line is not None:
            return line
    return None


def load_titles(lang: str, rng: random.Random) -> tuple[list[SourceParagraph], dict[str, str]]:
    """The title sources of one language (each published with or without its optional word) and templates."""
    sources, templates = [], {}
    for i, template in enumerate(hard.TITLES[lang]):
        cluster = f"{lang}-t{i:02d}"
        sources.append(SourceParagraph(cluster, lang, "titles", hard.title_text(template, rng.random() < 0.5)))
        templates[cluster] = template
    return sources, templates


_TITLE_EDIT_WEIGHTS = {"typo": 0.4, "orthographic": 0.2, "function-word": 0.4}


def _title_edit(source: SourceParagraph, rng: random.Random, state: _State) -> _Line | None:
    """The title with one edit that changes no fact: a DUPLICATE of it."""
    for _ in range(4):
        edit = rng.choices(list(_TITLE_EDIT_WEIGHTS), list(_TITLE_EDIT_WEIGHTS.values()))[0]
        if edit == "typo":
            text = hard.typo_variant(source.text, rng)
        elif edit == "orthographic":
            text = orthographic_variant(source.text, source.lang, rng)[0]
        else:
            template = state.title_templates[source.cluster]
            text = hard.title_text(template, source.text != hard.title_text(template, True))
        if text and text != source.text and state.owner.get(text, source.cluster) == source.cluster:
            return _Line(text, source, "title_edit", edit, source.cluster, hops=1)
    return None


def _title(lang: str, rng: random.Random, state: _State, config: CorpusConfig) -> _Line | None:
    """An article's title line: a new title, or an edited copy of one another outlet ran."""
    fresh = [t for t in state.titles[lang] if t.cluster not in state.published_set]
    published = state.published_titles[lang]
    if fresh and (not published or rng.random() < config.fresh_title_probability):
        source = rng.choice(fresh)
        return _Line(source.text, source, ORIGINAL, "title", source.cluster)
    if not published:
        return None
    titles = {t.cluster: t for t in state.titles[lang]}
    return _title_edit(titles[rng.choice(published)], rng, state)


def _gold(outlet: str, file: str, position: int, line: _Line) -> GoldParagraph:
    source = line.source
    return GoldParagraph(
        outlet=outlet,
        file=file,
        position=position,
        text=line.text,
        cluster=line.cluster,
        kind=line.kind,
        detail=line.detail,
        lang=source.lang,
        topic=source.topic,
        words=len(line.text.split()),
        source_words=len(source.text.split()),
        edit_words=word_edit_distance(word_tokens(source.text, source.lang), word_tokens(line.text, source.lang)),
        derived_from=source.cluster,
        hops=line.hops,
    )


def _article(lang: str, rng: random.Random, state: _State, config: CorpusConfig) -> list[_Line]:
    pool = state.pools[lang]
    by_cluster = state.sources
    topic = rng.choice(state.topics[lang])
    lines: list[_Line] = []
    if rng.random() < config.title_probability:
        title = _title(lang, rng, state, config)
        if title is not None:
            lines.append(title)
            _register(title, state)
    used: set[str] = set()
    for _ in range(rng.randint(config.min_paragraphs, config.max_paragraphs)):
        fresh = [p for p in pool if p.topic == topic and p.cluster not in state.published_set]
        published = [c for c in state.published[lang] if c not in used]
        if fresh and (not published or rng.random() < config.fresh_probability):
            source = rng.choice(fresh)
            line: _Line | None = _Line(source.text, source, ORIGINAL, "", source.cluster)
        else:
            if not published:
                continue
            on_topic = [c for c in published if by_cluster[c].topic == topic]
            candidates = on_topic if on_topic and rng.random() < 0.75 else published
            cluster = rng.choices(candidates, [state.popularity[c] for c in candidates])[0]
            source = by_cluster[cluster]
            if rng.random() < config.hard_case_probability:
                line = _hard_case(source, rng, state)
            else:
                kind = rng.choices(list(COPY_WEIGHTS), list(COPY_WEIGHTS.values()))[0]
                line = _make_copy(source, kind, rng, state)
        if line is None:
            continue
        lines.append(line)
        used.add(source.cluster)
        _register(line, state)
    if lines and rng.random() < config.pull_quote_probability:
        _add_pull_quote(lines, rng, state)
    return lines


_CHAIN_BASE_KINDS = {"orthographic", "word_edit", "attribution", "mixed", "containment", "chain"}


def _register(line: _Line, state: _State) -> None:
    state.owner.setdefault(line.text, line.cluster)
    if line.kind == ORIGINAL and line.detail == "title":
        state.published_titles[line.source.lang].append(line.cluster)
        state.published_set.add(line.cluster)
    elif line.kind == ORIGINAL:
        state.published[line.source.lang].append(line.cluster)
        state.published_set.add(line.cluster)
    elif line.kind in _CHAIN_BASE_KINDS and line.cluster == line.source.cluster and line.hops < 3:
        state.chain_bases.setdefault(line.cluster, []).append(line)


def _add_pull_quote(lines: list[_Line], rng: random.Random, state: _State) -> None:
    """Repeat part of an earlier paragraph further down the same article (a pull-quote)."""
    bases = [i for i, line in enumerate(lines[:-1]) if line.kind in (ORIGINAL, "exact")]
    bases = [i for i in bases if len(lines[i].text.split()) >= 2 * MIN_COPY_WORDS]
    if not bases:
        return
    base = rng.choice(bases)
    text, source = lines[base].text, lines[base].source
    if rng.random() < 0.2:
        quote, kind, detail = text, "exact", "pullquote"
    else:
        quote, mode = truncated_variant(text, rng, rng.choice(["prefix", "middle"]))
        kind, detail = "containment", f"pullquote-{mode}"
    if state.owner.get(quote, source.cluster) != source.cluster or state.ambiguous(quote, source):
        return
    line = _Line(quote, source, kind, detail, source.cluster, hops=1)
    lines.insert(rng.randint(base + 2, len(lines)), line)
    _register(line, state)


def generate_corpus(config: CorpusConfig, texts_dir: Path = TEXTS_DIR) -> Corpus:
    """Build the corpus in memory; identical for identical config and pools."""
    rng = random.Random(config.seed)
    pools = {lang: load_pool(lang, texts_dir) for lang in LANGUAGES}
    popularity = {p.cluster: min(8.0, rng.lognormvariate(0.0, 0.9)) for lang in LANGUAGES for p in pools[lang]}
    state = _State(pools=pools, popularity=popularity, published={lang: [] for lang in LANGUAGES})
    for lang in LANGUAGES:
        state.titles[lang], templates = load_titles(lang, rng)
        state.title_templates.update(templates)
    outlets = outlet_names(config.outlets)
    drafts: dict[tuple[str, str], list[_Line]] = {}
    for article in range(config.articles):
        for outlet, lang in outlets:
            file = f"{article + 1:03d}.txt"
            drafts[(outlet, file)] = _article(lang, rng, state, config)
    # Every source paragraph appears at least once, so every hard negative is in the corpus.
    for lang in LANGUAGES:
        keys = [key for key in drafts if dict(outlets)[key[0]] == lang]
        for source in pools[lang]:
            if source.cluster not in state.published_set and keys:
                line = _Line(source.text, source, ORIGINAL, "", source.cluster)
                drafts[rng.choice(keys)].append(line)
                _register(line, state)
    corpus = Corpus(config=config)
    for (outlet, file), lines in drafts.items():
        if lines:
            corpus.articles[f"{outlet}/{file}"] = [_gold(outlet, file, i, line) for i, line in enumerate(lines)]
    return corpus


# ----------------------------------------------------------------------------------------- statistics


def corpus_stats(paragraphs: list[GoldParagraph]) -> dict[str, object]:
    """Sizes, kinds and cluster shape of a generated corpus."""
    sizes = Counter(p.cluster for p in paragraphs)
    articles = {p.file_key for p in paragraphs}
    small = [p for p in paragraphs if is_small_edit(p)]
    return {
        "outlets": len({p.outlet for p in paragraphs}),
        "articles": len(articles),
        "paragraphs": len(paragraphs),
        "by_language": dict(sorted(Counter(p.lang for p in paragraphs).items())),
        "by_kind": {kind: sum(p.kind == kind for p in paragraphs) for kind in (ORIGINAL, *EDIT_KINDS, *HARD_KINDS)},
        "titles": sum(p.kind == ORIGINAL and p.detail == "title" for p in paragraphs),
        "templates_by_fact": dict(sorted(Counter(p.detail for p in paragraphs if p.kind == "template").items())),
        "title_edits": dict(sorted(Counter(p.detail for p in paragraphs if p.kind == "title_edit").items())),
        "chain_hops": dict(
            sorted(
                Counter(
                    f"{p.hops} hops{' (break)' if p.own_cluster else ''}" for p in paragraphs if p.kind == "chain"
                ).items()
            )
        ),
        "clusters": len(sizes),
        "singleton_clusters": sum(size == 1 for size in sizes.values()),
        "largest_cluster": max(sizes.values(), default=0),
        "mean_cluster_size": round(len(paragraphs) / max(1, len(sizes)), 2),
        "gold_pairs": sum(math.comb(size, 2) for size in sizes.values()),
        "small_edit_copies": len(small),
        "in_article_repeats": sum(p.detail.startswith("pullquote") for p in paragraphs),
    }


def is_small_edit(p: GoldParagraph) -> bool:
    """A copy with at most 3 word edits (after orthographic folding) of a source of at least 20 words."""
    return p.kind in SMALL_EDIT_KINDS and p.edit_words <= 3 and p.source_words >= 20


# ---------------------------------------------------------------------------------------------- output


def write_corpus(out_dir: Path, config: CorpusConfig, texts_dir: Path = TEXTS_DIR) -> dict[str, object]:
    """Generate and write articles, gold.jsonl and manifest.json under `out_dir`; returns the stats.

    A corpus written there before (it has a manifest.json) is replaced; other existing articles are an error.
    """
    corpus = generate_corpus(config, texts_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    articles_dir = out_dir / "articles"
    if (out_dir / "manifest.json").exists():
        shutil.rmtree(articles_dir, ignore_errors=True)
    elif articles_dir.exists() and any(articles_dir.iterdir()):
        raise FileExistsError(f"{articles_dir} already has files that are not from this generator")
    for key, lines in corpus.articles.items():
        path = articles_dir / key
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("".join(line.text + "\n" for line in lines), encoding="utf-8")
    paragraphs = corpus.paragraphs
    with (out_dir / "gold.jsonl").open("w", encoding="utf-8") as handle:
        for line in paragraphs:
            handle.write(json.dumps(asdict(line), ensure_ascii=False) + "\n")
    stats = corpus_stats(paragraphs)
    manifest = {"config": asdict(config), "stats": stats}
    (out_dir / "manifest.json").write_text(json.dumps(manifest, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return stats


def read_gold(corpus_dir: Path) -> list[GoldParagraph]:
    """The gold rows of a written corpus."""
    with (corpus_dir / "gold.jsonl").open(encoding="utf-8") as handle:
        return [GoldParagraph.from_json(line) for line in handle if line.strip()]


def articles_dir(corpus_dir: Path) -> Path:
    """The directory to ingest."""
    return corpus_dir / "articles"


def add_config_arguments(parser: argparse.ArgumentParser) -> None:
    defaults = CorpusConfig()
    parser.add_argument("--seed", type=int, default=defaults.seed)
    parser.add_argument("--outlets", type=int, default=defaults.outlets, help="alternately Arabic and English")
    parser.add_argument("--articles", type=int, default=defaults.articles, help="articles per outlet")


def config_from_args(args: argparse.Namespace) -> CorpusConfig:
    return CorpusConfig(outlets=args.outlets, articles=args.articles, seed=args.seed)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("out", type=Path, help="output directory (created)")
    add_config_arguments(parser)
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    stats = write_corpus(args.out, config_from_args(args))
    print(json.dumps(stats, indent=2, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
