"""The hard cases of the synthetic dedup corpus, labelled by the duplicate definition (../shared/eval/README.md).

Pure text edits used by `dedup_corpus.py`; nothing here looks at wirecopy's engine, so the gold cannot follow it.

==============  ================================================================================  =========
template        a source paragraph with one fact changed: a number, a weekday or month, a country     DISTINCT
                or city, or a person's name ("a changed number, date, name or country is a
                different fact", however near-identical the wording)
excerpt         a contiguous piece of 4 words up to 35 % of the source (the definition's              DISTINCT
                contained-excerpt is < 40 %; 35 % keeps the label clear of that "~40 %")
title_edit      a short title (3–8 words) with one edit that changes no fact: a typo, an              DUPLICATE
                orthographic variant, or an optional function word dropped or added
chain           a copy of an earlier copy (not of the source), 2–3 hops, each hop a small edit        see below
==============  ================================================================================  =========

Chains: every hop is a DUPLICATE of the copy it was made from. Its gold cluster is the source's when the hop is
also a DUPLICATE of the source by B1/B2 measured against the source (`overlap_margin` ≥ `CLEARANCE`); when it is
clearly not (margin ≤ −`BREAK_CLEARANCE`) it starts a cluster of its own (a *chain break*): the definition is
not transitive, and a reader comparing it with the source would call it DISTINCT. Overlap is measured on folded
words with the attribution phrases the generator adds taken out (the definition ignores them). Hops between the
two margins are not generated, so no gold label rests on a borderline call (the definition's figures are
approximate: "~80 %", "~40 %").
"""

from __future__ import annotations

import random
import re
from collections.abc import Sequence

FACT_KINDS = ("number", "date", "place", "name")
TITLE_EDITS = ("typo", "orthographic", "function-word")
EXCERPT_MIN_WORDS = 4
EXCERPT_MAX_SHARE = 0.35  # of the source's words
CLEARANCE = 0.05  # a chain hop in the source's cluster clears B1 or B2 by at least this much
BREAK_CLEARANCE = 0.1  # a chain break is below both rules by at least this much
B1_SHORTER, B1_LONGER, B2_EACH = 0.8, 0.4, 0.6  # the definition's figures
RUN_WORDS = 3  # "long identical word runs": a word is copied when it sits in a shared run of 3

# Fact words of the source pools, in groups: a template swaps a word for another of its group.
FACT_WORDS: dict[str, dict[str, list[list[str]]]] = {
    "ar": {
        "date": [
            ["الاثنين", "الثلاثاء", "الأربعاء", "الخميس", "الجمعة", "السبت", "الأحد"],
            [
                "يناير",
                "فبراير",
                "مارس",
                "أبريل",
                "مايو",
                "يونيو",
                "يوليو",
                "أغسطس",
                "سبتمبر",
                "أكتوبر",
                "نوفمبر",
                "ديسمبر",
            ],
        ],
        "place": [
            ["أذربيجان", "أرمينيا", "روسيا", "تركيا", "فرنسا", "إيران", "جورجيا", "ألمانيا"],
            ["باكو", "يريفان", "موسكو", "تبليسي", "أنقرة", "طهران"],
            ["ستيباناكيرت", "لاتشين", "غوريس", "شوشا", "أسكيران", "يفلاخ", "مارتاكيرت"],
        ],
        "name": [["علييف", "باشينيان", "بوتين", "أردوغان", "بلينكن", "شولتس", "فاردانيان", "ماكرون"]],
    },
    "en": {
        "date": [
            ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"],
            [
                "January",
                "February",
                "March",
                "April",
                "May",
                "June",
                "July",
                "August",
                "September",
                "October",
                "November",
                "December",
            ],
        ],
        "place": [
            ["Azerbaijan", "Armenia", "Russia", "Turkey", "France", "Iran", "Georgia", "Germany"],
            ["Baku", "Yerevan", "Moscow", "Tbilisi", "Ankara", "Tehran"],
            ["Stepanakert", "Lachin", "Goris", "Shusha", "Askeran", "Yevlakh", "Martakert"],
        ],
        "name": [["Aliyev", "Pashinyan", "Putin", "Erdogan", "Blinken", "Scholz", "Vardanyan", "Macron"]],
    },
}
_AR_CLITICS = ("وب", "ول", "و", "ب", "ل", "ف")  # a place or name may carry one: «وباكو», «لأرمينيا»
_DIGITS = re.compile("[0-9٠-٩]+")
_AR_INDIC = "٠١٢٣٤٥٦٧٨٩"

# Titles written for this benchmark (3–8 words). "[w]" is an optional function word: a title is published with
# or without it, and the function-word edit drops or adds it.
TITLES: dict[str, list[str]] = {
    "ar": [
        "أذربيجان تعلن [عن] بدء عملية عسكرية في كاراباخ",
        "باشينيان يتهم باكو بالتطهير العرقي [في] كاراباخ",
        "انفجار [في] مستودع للوقود قرب ستيباناكيرت",
        "آلاف اللاجئين يصلون [إلى] غوريس",
        "وقف إطلاق النار [في] كاراباخ بوساطة روسية",
        "احتجاجات غاضبة [في] شوارع يريفان",
        "اعتقال رجل الأعمال روبن فاردانيان [على] الحدود",
        "قوات حفظ السلام الروسية تنسحب [من] الإقليم",
        "الاتحاد الأوروبي يدعو [إلى] حماية المدنيين",
        "واشنطن تحذر [من] أزمة إنسانية في كاراباخ",
        "المستشفيات تعاني [من] نقص حاد في الأدوية",
        "الانفصاليون يوافقون [على] تسليم أسلحتهم",
        "طوابير طويلة [أمام] محطات الوقود",
        "سلطات الإقليم تعلن [عن] حل مؤسساتها",
        "باكو تنفي [أي] استهداف للمدنيين",
        "الكرملين يدافع [عن] دور قواته في الإقليم",
        "نزوح جماعي [من] ناغورنو كاراباخ",
        "أرمينيا تطلب [من] مجلس الأمن عقد جلسة طارئة",
        "أردوغان يجري اتصالا هاتفيا [مع] علييف",
        "اشتباكات متقطعة [على] طريق لاتشين",
        "الصليب الأحمر ينقل الجرحى [إلى] أرمينيا",
        "مقتل جنديين [في] انفجار لغم أرضي",
        "المعارضة الأرمنية تدعو [إلى] استقالة الحكومة",
        "عائلات تبحث [عن] مفقودين بعد الانفجار",
    ],
    "en": [
        "Azerbaijan launches [a] military offensive in Karabakh",
        "Pashinyan says [the] exodus amounts to ethnic cleansing",
        "[A] fuel depot blast near Stepanakert kills dozens",
        "Thousands of refugees arrive [in] Goris",
        "Russia brokers [a] ceasefire in Karabakh",
        "Angry protests spread [across] Yerevan",
        "Ruben Vardanyan detained at [the] border",
        "Russian peacekeepers [will] withdraw from Karabakh",
        "EU calls for [the] protection of civilians",
        "Washington warns of [a] humanitarian crisis",
        "Hospitals [are] running short of medicine",
        "Separatists agree to hand over [their] weapons",
        "Long queues form at [the] petrol stations",
        "Karabakh authorities [will] dissolve their institutions",
        "Baku denies [any] attacks on civilians",
        "Kremlin defends [the] role of its peacekeepers",
        "Mass exodus [from] Nagorno-Karabakh continues",
        "Armenia asks [the] Security Council to meet",
        "Erdogan holds [a] phone call with Aliyev",
        "Sporadic clashes along [the] Lachin road",
        "Red Cross evacuates [the] wounded to Armenia",
        "Two soldiers killed in [a] mine blast",
        "Armenian opposition calls for [the] government to resign",
        "Families search for [the] missing after blast",
    ],
}
_OPTIONAL = re.compile(r"\[([^\]]+)\] ?")


def _split(token: str) -> tuple[str, str, str]:
    """Leading punctuation, core, trailing punctuation of a whitespace token."""
    match = re.match(r"^(\W*)(.*?)(\W*)$", token)
    assert match
    return match.group(1), match.group(2), match.group(3)


def _fact_group(core: str, lang: str, kind: str) -> tuple[str, list[str]] | None:
    """(clitic prefix, group) when `core` is a fact word of `kind`, else None."""
    for group in FACT_WORDS[lang][kind]:
        if core in group:
            return "", group
        if lang == "ar" and kind != "date":
            for clitic in _AR_CLITICS:
                if core.startswith(clitic) and core[len(clitic) :] in group:
                    return clitic, group
    return None


def _fact_sites(words: Sequence[str], lang: str) -> dict[str, list[int]]:
    """Word positions of each fact kind in a text split on spaces."""
    sites: dict[str, list[int]] = {kind: [] for kind in FACT_KINDS}
    for i, token in enumerate(words):
        core = _split(token)[1]
        if _DIGITS.search(core):
            sites["number"].append(i)
            continue
        for kind in ("date", "place", "name"):
            if _fact_group(core, lang, kind):
                sites[kind].append(i)
                break
    return sites


def is_fact_word(token: str, lang: str) -> bool:
    """Whether a token holds a number, date, place or person's name (what a copy edit must not touch)."""
    return any(_fact_sites([token], lang).values())


def _changed_number(core: str, rng: random.Random) -> str:
    match = _DIGITS.search(core)
    assert match
    digits = match.group(0)
    arabic_indic = digits[0] in _AR_INDIC
    value = int(digits.translate(str.maketrans(_AR_INDIC, "0123456789")))
    value += rng.randint(1, 3) if 1900 <= value <= 2100 else rng.randint(1, 9)
    new = str(value).translate(str.maketrans("0123456789", _AR_INDIC)) if arabic_indic else str(value)
    return core[: match.start()] + new + core[match.end() :]


def template_variant(text: str, lang: str, rng: random.Random) -> tuple[str, str] | None:
    """`text` with one fact changed (number, date, place or name): (new text, fact kind), or None without facts."""
    words = text.split(" ")
    sites = {kind: at for kind, at in _fact_sites(words, lang).items() if at}
    if not sites:
        return None
    kind = rng.choice(sorted(sites))
    i = rng.choice(sites[kind])
    lead, core, trail = _split(words[i])
    if kind == "number":
        new = _changed_number(core, rng)
    else:
        found = _fact_group(core, lang, kind)
        assert found
        clitic, group = found
        new = clitic + rng.choice([w for w in group if w != core[len(clitic) :]])
    words[i] = lead + new + trail
    return " ".join(words), kind


def excerpt_span(text: str, rng: random.Random) -> str | None:
    """A contiguous piece of `EXCERPT_MIN_WORDS` words up to `EXCERPT_MAX_SHARE` of `text`, or None if too short."""
    words = text.split(" ")
    longest = int(EXCERPT_MAX_SHARE * len(words))
    if longest < EXCERPT_MIN_WORDS:
        return None
    size = rng.randint(EXCERPT_MIN_WORDS, longest)
    start = rng.randint(0, len(words) - size)
    return " ".join(words[start : start + size]).strip(" ،,؛;:.")


# ------------------------------------------------------------------------------------------------ titles


def title_text(template: str, with_optional: bool) -> str:
    """A title template with its optional word kept or dropped."""
    return _OPTIONAL.sub(lambda m: m.group(1) + " " if with_optional else "", template).strip()


def title_words(template: str) -> tuple[int, int]:
    """(fewest, most) words of a title template."""
    return len(title_text(template, False).split()), len(title_text(template, True).split())


def typo_variant(text: str, rng: random.Random) -> str | None:
    """One typo in one word of at least 5 letters (an inner letter dropped, doubled, or swapped with the next)."""
    words = text.split(" ")
    options = [i for i, w in enumerate(words) if len(_split(w)[1]) >= 5 and _split(w)[1].isalpha()]
    rng.shuffle(options)
    for i in options:
        lead, core, trail = _split(words[i])
        at = rng.randint(1, len(core) - 3)
        edits = {
            "drop": core[:at] + core[at + 1 :],
            "double": core[: at + 1] + core[at:],
            "swap": core[:at] + core[at + 1] + core[at] + core[at + 2 :],
        }
        new = edits[rng.choice(sorted(edits))]
        if new != core:
            words[i] = lead + new + trail
            return " ".join(words)
    return None


# ------------------------------------------------------------------------------------------------ chains


def copied_share(a: Sequence[str], b: Sequence[str], run: int = RUN_WORDS) -> float:
    """Share of the words of `a` that sit in a run of `run` consecutive words also found in `b` (any order)."""
    if not a:
        return 0.0
    run = max(1, min(run, len(a), len(b)))
    runs_b = {tuple(b[i : i + run]) for i in range(len(b) - run + 1)}
    covered = [False] * len(a)
    for i in range(len(a) - run + 1):
        if tuple(a[i : i + run]) in runs_b:
            covered[i : i + run] = [True] * run
    return sum(covered) / len(a)


def overlap_margin(a: Sequence[str], b: Sequence[str]) -> float:
    """How far a pair of word sequences clears B1 or B2 (≥ 0: duplicate overlap; < 0: below both rules).

    B1: ≥ 80 % of the shorter copied and that ≥ 40 % of the longer; B2: ≥ 60 % of each copied.
    """
    shorter, longer = (a, b) if len(a) <= len(b) else (b, a)
    in_shorter, in_longer = copied_share(shorter, longer), copied_share(longer, shorter)
    b1 = min(in_shorter - B1_SHORTER, in_longer - B1_LONGER)
    b2 = min(in_shorter - B2_EACH, in_longer - B2_EACH)
    return max(b1, b2)


def clause_drop(text: str, rng: random.Random, share: tuple[float, float] = (0.15, 0.35)) -> str | None:
    """Drop a `share` of the words (15–35 %: a lead-in or a closing clause) at the start or the end."""
    words = text.split(" ")
    cut = max(1, round(len(words) * rng.uniform(*share)))
    if len(words) - cut < 8:
        return None
    kept = words[cut:] if rng.random() < 0.4 else words[:-cut]
    return " ".join(kept).strip(" ،,؛;:")
