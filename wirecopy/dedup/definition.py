"""The duplicate definition (../shared/eval/README.md) as code: verification of one candidate pair.

Two paragraphs are DUPLICATE when their shared text is copied and their net difference is small:
- words are compared as light stems of the matching form (leading و/ب/ل/ف/ال and a final ه off, digits kept as
  digits), with attribution phrases, agency names and honorifics discounted (dropped from both sides; the
  dateline or byline was already cut by `normalize.strip_frame`);
- a word is *covered* when it sits in a run of `run_words` consecutive words (2 for short paragraphs) that the
  other paragraph also contains, in any order (sentences may be reordered);
- B1: ≥ `b1_shorter` of the shorter paragraph is covered and that is ≥ `b1_longer` of the longer one (edits,
  truncation, pull-quotes); B2: ≥ `b2_each` of each is covered (one wire text cut at different points);
- and the words that differ must not report different facts: a substitution in the copied frame (one side's
  words replaced by the other's, found by aligning the two word sequences) that changes a number, a date, a
  compass direction, an event (arrived/left, won/lost), a place or nationality, or a person's name is a
  *template* (the same formula for another event), not a copy. A fact word counts when one side has it more often
  than the other (a place swapped for one named elsewhere in the paragraph). Between two short paragraphs
  (titles, captions) any substitution that is not a spelling variant changes what they say;
- a pair that is no duplicate but shares a frame with a clause replaced inside it is a conflict too, so that no
  third text puts the two in one cluster.

B1 with the longer paragraph clearly longer is a `containment` link (pull-quote, cut sentence, added
attribution); anything else that passes is `near`. Pure functions; the word lists live in data/*.
"""

from __future__ import annotations

import difflib
import itertools
import re
import tomllib
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache, lru_cache
from importlib import resources

from wirecopy.dedup.normalize import normalize_batch
from wirecopy.models import DedupMethod

_PREFIX = re.compile(r"^(?:وبال|وال|بال|لل|كال|فال|ال|و|ب|ل|ف)(?=...)")
_DIGIT = re.compile(r"\d")
_DEFINITE = re.compile(r"^(?:و|ف)?(?:ب|ك)?ال|^(?:و|ف)?لل")  # الدولة (the state) is no place marker, دولة قطر is
_NOT_NUMBER = re.compile(r"[^\d.]")
_PLACE_PREFIXES = ("وال", "بال", "لل", "ال", "و", "ب", "ل")
_MAX_SUBSTITUTION = 4
"""Words per side of an aligned substitution checked for a changed fact; a longer one is a rewrite of a clause."""


@dataclass(frozen=True)
class Rules:
    """Thresholds of the definition: the README's approximate figures, measured on our discounted stems."""

    run_words: int = 3
    short_run_words: int = 2
    short_paragraph: int = 10  # words after discounting
    b1_shorter: float = 0.75
    b1_longer: float = 0.38
    b2_each: float = 0.65
    containment_ratio: float = 0.8  # shorter/longer words at most this for a B1 match to be `containment`
    rewrites: bool = True  # whether a rewrite (below B1/B2) can pass at all
    rewrite_shorter: float = 0.8  # rewrite: share of the shorter's distinct words found in the longer …
    rewrite_longer: float = 0.6  # … and of the longer's found in the shorter (not an excerpt) …
    rewrite_runs: float = 0.5  # … with copied runs covering at least this much of the shorter (same origin)
    partial_frame: float = 0.5  # a non-duplicate pair with this much of each copied and a clause replaced conflicts


@dataclass(frozen=True)
class Verdict:
    """A pair judged DUPLICATE: method, similarity (coverage of the shorter paragraph, or the lower of the
    two), a Jaccard of covered words, and the covered share of the shorter paragraph."""

    method: DedupMethod
    similarity: float
    jaccard: float
    containment: float


@dataclass(frozen=True)
class Conflict:
    """A pair that overlaps like a copy but reports a different fact: a template, DISTINCT."""

    kind: str  # number | date | direction | event | place | name | wording | clause


@dataclass(frozen=True)
class Form:
    """A paragraph prepared for comparison: discounted stems, with the matching word each came from and
    whether it follows a name marker."""

    stems: tuple[str, ...]
    words: tuple[str, ...]
    names: tuple[bool, ...]
    counts: Counter[str] = field(default_factory=Counter, compare=False)  # of `stems`, set by `prepare`


@dataclass(frozen=True)
class _Lexicon:
    discounted: frozenset[str]
    name_markers: frozenset[str]
    place_markers: frozenset[str]  # stems
    facts: dict[str, str]  # stem → fact value (a number, a month, a direction), for number/date/direction words
    dates: frozenset[str]
    events: tuple[frozenset[str], ...]
    places: frozenset[str]
    people: frozenset[str]
    ordinals: frozenset[str]
    event_words: frozenset[str]  # every word of `events`
    direction_words: frozenset[str]  # the words `facts` maps to a direction
    signal_words: frozenset[str]  # event, direction and ordinal words: checked wherever they sit
    word_by_word: frozenset[str] = frozenset()  # `discounted` and عبد: a text with one is prepared word by word


@lru_cache(maxsize=1 << 18)
def stem(word: str) -> str:
    """Light stem of a normalised word: digits only for numbers, else one clitic prefix (leaving at least three
    letters) and a final ه off. Cached: news vocabulary repeats."""
    if _DIGIT.search(word):
        return _NOT_NUMBER.sub("", word).strip(".") or word
    word = _PREFIX.sub("", word, count=1)
    return word[:-1] if len(word) > 3 and word.endswith("ه") else word


def _words(text: str) -> list[str]:
    return [w for w in normalize_batch([text])[0].split() if w]


def _word_list(name: str) -> str:
    """The words of a data/*.txt list, comments left out."""
    text = resources.files("wirecopy.dedup").joinpath(f"data/{name}").read_text("utf-8")
    return " ".join(line for line in text.splitlines() if not line.startswith("#"))


@cache
def lexicon() -> _Lexicon:
    data = tomllib.loads(resources.files("wirecopy.dedup").joinpath("data/lexicon.toml").read_text("utf-8"))
    facts: dict[str, str] = {}
    for groups in (data["numbers"], data["numbers_en"]):
        for value, group in enumerate(groups):
            facts.update({stem(w): str(value) for w in _words(group)})
    months = set()
    for group in data["months"]:
        words = [stem(w) for w in _words(" ".join(g for g in group.split() if "_" not in g))]
        facts.update({w: f"month:{words[0]}" for w in words})
        months.update(words)
    for word in _words(data["directions"]):
        facts[word] = facts[stem(word + "ي")] = f"direction:{word}"
    for word in _words(data["directions_en"]):
        facts[word] = facts[word + "ern"] = facts[word + "erly"] = f"direction:{word}"
    places = set()
    for word in _words(_word_list("places.txt")):
        base = word[2:] if word.startswith("ال") else word
        places.add(base)
        if base.endswith("ي"):
            places.update((base + "ه", base + "ين", base + "ون"))
    events = tuple(frozenset(stem(w) for w in _words(group)) for group in data["events"])
    people = set()
    for word in _words(_word_list("people.txt")):
        people.add(word[2:] if word.startswith("ال") and len(word) > 4 else word)
    discounted = frozenset(_words(data["attribution"]) + _words(data["honorifics"]))
    return _Lexicon(
        discounted=discounted,
        name_markers=frozenset(_words(data["name_markers"])),
        place_markers=frozenset(stem(w) for w in _words(data["place_markers"])),
        facts=facts,
        dates=frozenset(months | {stem(w) for w in _words(data["date_words"])}),
        events=events,
        places=frozenset(places),
        people=frozenset(people),
        ordinals=frozenset(stem(w) for w in _words(data["ordinals"])),
        event_words=frozenset().union(*events),
        direction_words=frozenset(w for w, value in facts.items() if value.startswith("direction:")),
        word_by_word=discounted | {"عبد"},
        signal_words=frozenset().union(*events)
        | {w for w, value in facts.items() if value.startswith("direction:")}
        | {stem(w) for w in _words(data["ordinals"])},
    )


def prepare(normalized: str) -> Form:
    """Comparison form of a matching-form text (see module docstring)."""
    lex = lexicon()
    tokens = normalized.split()
    if not lex.word_by_word.isdisjoint(tokens):
        return _prepare_word_by_word(tokens, lex)
    stems = tuple(map(stem, tokens))  # the common case: no word joined, none discounted
    if lex.name_markers.isdisjoint(tokens) and lex.place_markers.isdisjoint(stems):
        return Form(stems, tuple(tokens), (False,) * len(stems), Counter(stems))  # no marker: no name follows one
    markers = [
        word in lex.name_markers or (stemmed in lex.place_markers and not _DEFINITE.match(word))
        for word, stemmed in zip(tokens, stems, strict=True)
    ]
    return Form(stems, tuple(tokens), (False, *markers[:-1]) if markers else (), Counter(stems))


def _prepare_word_by_word(tokens: list[str], lex: _Lexicon) -> Form:
    """`prepare` of a text with a split name (عبد العزيز) or a discounted word."""
    stems, words, names = [], [], []
    after_marker = False
    i = 0
    while i < len(tokens):
        word = tokens[i]
        if word == "عبد" and i + 1 < len(tokens):  # عبد العزيز / عبدالعزيز
            word, i = word + tokens[i + 1], i + 1
        i += 1
        if word in lex.discounted:  # honorifics: الأمير, الشيخ … still mark the next word as a name
            after_marker = word in lex.name_markers
            continue
        stemmed = stem(word)
        stems.append(stemmed)
        words.append(word)
        names.append(after_marker)
        after_marker = word in lex.name_markers or (stemmed in lex.place_markers and not _DEFINITE.match(word))
    return Form(tuple(stems), tuple(words), tuple(names), Counter(stems))


def covered(a: Sequence[str], b: Sequence[str], run: int) -> list[bool]:
    """For each word of `a`, whether it sits in a run of `run` words that `b` also contains."""
    run = max(1, min(run, len(a), len(b)))
    runs_b = {tuple(b[i : i + run]) for i in range(len(b) - run + 1)}
    out = [False] * len(a)
    for i in range(len(a) - run + 1):
        if tuple(a[i : i + run]) in runs_b:
            out[i : i + run] = [True] * run
    return out


def covered_counts(a: Sequence[str], b: Sequence[str], run: int) -> tuple[int, int]:
    """(`sum(covered(a, b, run))`, `sum(covered(b, a, run))`) without a Python step per word: each run of one side
    found in the other is a byte of 1, spread over the bytes of the next `run - 1` words by shifts of one integer,
    then the set bits are counted; each side's runs are made once for both."""
    run = max(1, min(run, len(a), len(b)))
    runs_a = list(zip(*(a[i:] for i in range(run)), strict=False))  # each word with the run - 1 after it
    runs_b = list(zip(*(b[i:] for i in range(run)), strict=False))
    return _spread(map(set(runs_b).__contains__, runs_a), run), _spread(map(set(runs_a).__contains__, runs_b), run)


def _spread(found: Iterable[bool], run: int) -> int:
    """The words covered by the runs found (one flag per run start), counted on the bits of one integer."""
    starts = int.from_bytes(bytes(found), "little")
    spread = starts
    for shift in range(1, run):
        spread |= starts << (8 * shift)
    return spread.bit_count()


def judge(a: Form, b: Form, rules: Rules = Rules()) -> Verdict | None:
    """The definition's verdict on one pair: a `Verdict` when DUPLICATE, else None."""
    verdict = compare(a, b, rules)
    return verdict if isinstance(verdict, Verdict) else None


def compare(a: Form, b: Form, rules: Rules = Rules()) -> Verdict | Conflict | None:
    """A `Verdict` when DUPLICATE; a `Conflict` when the overlap passes B1/B2 but a fact changed, or when a shared
    frame has a clause replaced (`_replaced_clause`); else None."""
    if not a.stems or not b.stems:
        return None
    if a.stems == b.stems:
        return Verdict(DedupMethod.NEAR, 1.0, 1.0, 1.0)
    shorter, longer = (a, b) if len(a.stems) <= len(b.stems) else (b, a)
    short = len(shorter.stems) <= rules.short_paragraph
    run = rules.short_run_words if short else rules.run_words
    compared = (_spelled_like(longer.stems, shorter.stems) if short else None) or longer.stems
    covered_shorter, covered_longer = covered_counts(shorter.stems, compared, run)
    in_shorter, in_longer = covered_shorter / len(shorter.stems), covered_longer / len(longer.stems)
    b1 = in_shorter >= rules.b1_shorter and in_longer >= rules.b1_longer
    b2 = in_shorter >= rules.b2_each and in_longer >= rules.b2_each
    if not (b1 or b2 or (rules.rewrites and _rewrite(shorter.stems, longer.stems, in_shorter, rules))):
        return Conflict("clause") if _replaced_clause(a, b, in_shorter, in_longer, rules) else None
    changed = different_facts(a, b, short=len(longer.stems) <= rules.short_paragraph)
    if changed:
        return Conflict(changed)
    shared = (in_shorter * len(shorter.stems) + in_longer * len(longer.stems)) / 2
    jaccard = shared / (len(shorter.stems) + len(longer.stems) - shared)
    if b1 and len(shorter.stems) <= rules.containment_ratio * len(longer.stems):
        return Verdict(DedupMethod.CONTAINMENT, round(in_shorter, 6), round(jaccard, 6), round(in_shorter, 6))
    return Verdict(DedupMethod.NEAR, round(min(in_shorter, in_longer), 6), round(jaccard, 6), round(in_shorter, 6))


_VARIANT_MIN_LETTERS = 3
_VARIANT_RATIO = 0.75


def _spelled_like(words: Sequence[str], reference: Sequence[str]) -> list[str] | None:
    """`words` with each word that `reference` lacks replaced by its closest spelling or transliteration variant
    in `reference` (a typo in a title, تشونج/تشونغ); None when there is none. Numbers are never variants. Used for
    short paragraphs only, where one misspelt word would otherwise break every copied run."""
    own, other = set(words), set(reference)
    missing = [w for w in own - other if len(w) >= _VARIANT_MIN_LETTERS and not w[0].isdigit()]
    offered = sorted(w for w in other - own if len(w) >= _VARIANT_MIN_LETTERS and not w[0].isdigit())
    best: dict[str, tuple[float, str]] = {}
    matcher = difflib.SequenceMatcher(autojunk=False)
    for o in offered:  # the offered words are few (the short paragraph's): index each once, as difflib's `b`
        matcher.set_seq2(o)
        for word in missing:
            matcher.set_seq1(word)
            if matcher.real_quick_ratio() < _VARIANT_RATIO or matcher.quick_ratio() < _VARIANT_RATIO:
                continue  # upper bounds of ratio() (lengths, shared letters): most pairs stop here
            found = (matcher.ratio(), o)
            if found[0] >= _VARIANT_RATIO and found > best.get(word, (0.0, "")):
                best[word] = found
    replace = {word: o for word, (_, o) in best.items()}
    return [replace.get(w, w) for w in words] if replace else None


def _rewrite(shorter: Sequence[str], longer: Sequence[str], in_shorter: float, rules: Rules) -> bool:
    """The same facts condensed or reordered: copied runs cover part of the shorter paragraph (same origin), and
    nearly all of its words, in whatever order, are in the longer one, which is not much longer."""
    if in_shorter < rules.rewrite_runs:
        return False
    words_s, words_l = set(shorter), set(longer)
    if _longest_run_absent(shorter, words_l) > _MAX_SUBSTITUTION:
        return False  # a clause the longer paragraph lacks altogether: new content, not the same facts rewritten
    shared = len(words_s & words_l)
    return shared >= rules.rewrite_shorter * len(words_s) and shared >= rules.rewrite_longer * len(words_l)


def _replaced_clause(a: Form, b: Form, in_shorter: float, in_longer: float, rules: Rules) -> bool:
    """Whether two paragraphs that are not duplicates share one frame (copied runs cover `partial_frame` of each)
    with a clause inside it replaced by another: between two aligned copied runs, more than `_MAX_SUBSTITUTION`
    words on each side (a word or two both clauses happen to share does not split it). The same formula for another
    event, such as a relief-flight notice with other supplies: such a pair is a conflict, so a shorter text that
    both contain cannot put them in one cluster."""
    if min(in_shorter, in_longer) < rules.partial_frame:
        return False
    run = rules.run_words
    blocks = [
        m for m in difflib.SequenceMatcher(a=a.stems, b=b.stems, autojunk=False).get_matching_blocks() if m.size >= run
    ]
    return any(
        min(after.a - (before.a + before.size), after.b - (before.b + before.size)) > _MAX_SUBSTITUTION
        for before, after in itertools.pairwise(blocks)
    )


def _longest_run_absent(words: Sequence[str], other: set[str]) -> int:
    """The most consecutive `words` that `other` lacks."""
    longest = run = 0
    for word in words:
        run = run + 1 if word not in other else 0
        longest = max(longest, run)
    return longest


def different_facts(a: Form, b: Form, *, short: bool = False) -> str | None:
    """The kind of fact that an aligned substitution between `a` and `b` changes, or None (see module docstring)."""
    whole = _changed_event_or_direction(a, b)
    if whole:
        return whole
    count_a, count_b = _counts(a), _counts(b)
    if not short and not (_may_hold_fact(a, count_a, count_b) and _may_hold_fact(b, count_b, count_a)):
        return None  # a changed fact needs a fact word on each side that the other has fewer of; no alignment needed
    matcher = difflib.SequenceMatcher(a=a.stems, b=b.stems, autojunk=False)
    for op, i1, i2, j1, j2 in matcher.get_opcodes():
        if op != "replace" or i2 - i1 > _MAX_SUBSTITUTION or j2 - j1 > _MAX_SUBSTITUTION:
            continue
        kind = _changed_fact(a, b, range(i1, i2), range(j1, j2), short)
        if kind:
            return kind
    return None


def _may_hold_fact(form: Form, own: Counter[str], other: Counter[str]) -> bool:
    """Whether `form` has a word that could carry a fact (number, date, direction, event, place, name) more often
    than `other` has it: a place swapped for one named elsewhere in the paragraph (`reliance on Russia` →
    `reliance on Armenia` in a paragraph about Armenia) is still a changed place."""
    more = {stemmed for stemmed, count in own.items() if count > other[stemmed]}  # per distinct stem, not per word
    return bool(more) and any(
        stemmed in more and (named or _may_carry_fact(stemmed, word))
        for stemmed, word, named in zip(form.stems, form.words, form.names, strict=True)
    )


@lru_cache(maxsize=1 << 18)
def _may_carry_fact(stemmed: str, word: str) -> bool:
    lex = lexicon()
    return _fact_word(stemmed, lex) or _named(word, lex)


def _named(word: str, lex: _Lexicon) -> bool:
    """A place, a nationality or a person."""
    return _place(word, lex) is not None or _person(word, lex)


def _fact_word(stemmed: str, lex: _Lexicon) -> bool:
    return stemmed[:1].isdigit() or stemmed in lex.facts or stemmed in lex.dates or stemmed in lex.event_words


def _changed_event_or_direction(a: Form, b: Form) -> str | None:
    """An event, a direction or an ordinal that each paragraph names more often than the other: arrived in one, left
    in the other, the fourth flight in one and the second in the other, wherever the words sit (a reordered
    sentence is no alignment substitution). Counted, not just present: `the second deputy … the second flight`
    against `the second deputy … the fourth flight` names another flight though both say `second`."""
    lex = lexicon()
    count_a, count_b = _counts(a), _counts(b)
    found_a, found_b = lex.signal_words.intersection(count_a), lex.signal_words.intersection(count_b)
    if not found_a or not found_b:
        return None  # each side must name one the other names less often
    found = found_a | found_b
    for group in lex.events:
        words = group & found
        if words and _both_ways({w: count_a[w] for w in words}, {w: count_b[w] for w in words}):
            return "event"
    directions = lex.direction_words & found
    if directions and _both_ways(_directions(a.stems, lex), _directions(b.stems, lex)):
        return "direction"
    ordinals = lex.ordinals & found
    if ordinals and _both_ways({w: count_a[w] for w in ordinals}, {w: count_b[w] for w in ordinals}):
        return "number"
    return None


def _counts(form: Form) -> Counter[str]:
    return form.counts or Counter(form.stems)


def _both_ways(xs: Mapping[str, int], ys: Mapping[str, int]) -> bool:
    """Whether each count has some key the other has fewer of."""
    return any(n > ys.get(k, 0) for k, n in xs.items()) and any(n > xs.get(k, 0) for k, n in ys.items())


def _changed_fact(a: Form, b: Form, span_a: range, span_b: range, short: bool) -> str | None:
    lex = lexicon()
    stems_a, stems_b = [a.stems[i] for i in span_a], [b.stems[j] for j in span_b]
    for kind, values in (("number", _numbers), ("date", _dates), ("direction", _directions)):
        va, vb = values(stems_a, lex), values(stems_b, lex)
        if va - vb and vb - va:
            return kind
    for group in lex.events:
        ea, eb = group.intersection(stems_a), group.intersection(stems_b)
        if ea and eb and ea != eb:
            return "event"
    places_a = {p for p in (_place(a.words[i], lex) for i in span_a) if p}
    places_b = {p for p in (_place(b.words[j], lex) for j in span_b) if p}
    if places_a and places_b and not _any_variant(places_a, places_b):
        return "place"
    names_a = {a.stems[i] for i in span_a if a.names[i] or _person(a.words[i], lex)}
    names_b = {b.stems[j] for j in span_b if b.names[j] or _person(b.words[j], lex)}
    if names_a and names_b and not _any_variant(names_a, names_b):
        return "name"
    if short and not all(_any_variant({x}, set(stems_b)) for x in stems_a):
        return "wording"
    return None


def _numbers(stems: list[str], lex: _Lexicon) -> set[str]:
    values = (s if s[0].isdigit() else lex.facts.get(s, "") for s in stems)
    return {v for v in values if v[:1].isdigit()}


def _dates(stems: list[str], lex: _Lexicon) -> set[str]:
    return {lex.facts.get(s, s) for s in stems if s in lex.dates}


def _directions(stems: Iterable[str], lex: _Lexicon) -> Counter[str]:
    """How often each compass direction is named (شمال and شمالية are one direction)."""
    return Counter(lex.facts[s] for s in stems if s in lex.direction_words)


def _person(word: str, lex: _Lexicon) -> bool:
    return _without_clitic(word, lex.people) is not None


def _place(word: str, lex: _Lexicon) -> str | None:
    return _without_clitic(word, lex.places)


def _without_clitic(word: str, names: frozenset[str]) -> str | None:
    """`word`, or `word` without one clitic prefix, when it is in `names`."""
    if word in names:
        return word
    for prefix in _PLACE_PREFIXES:
        if word.startswith(prefix) and word[len(prefix) :] in names:
            return word[len(prefix) :]
    return None


def _any_variant(xs: set[str], ys: set[str]) -> bool:
    """Whether some word of `xs` is a spelling or transliteration variant of some word of `ys` (سوانسي/سوانزي)."""
    return any(difflib.SequenceMatcher(a=x, b=y).ratio() >= 0.7 for x in xs for y in ys)
