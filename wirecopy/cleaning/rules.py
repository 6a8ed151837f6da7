"""Load the boilerplate rule set from `rules.toml` into compiled, immutable objects."""

from __future__ import annotations

import re
import re._constants as regex_constants
import re._parser as regex_parser
import tomllib
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

DEFAULT_RULES_PATH = Path(__file__).with_name("rules.toml")

PATTERN_CLASSES = ("ad", "source", "read_also", "social", "share", "caption", "chrome")
"""Keys of a `[lang.*]` / `[outlet.*]` section holding whole-line regular expressions."""

_INVISIBLE = "\u00ad\u0640\u061c\u200b-\u200f\u202a-\u202e\u2060-\u2069\ufeff"
_ARABIC_MARKS = "\u0610-\u061a\u064b-\u065f\u0670\u06d6-\u06ed"
_DROPPED = re.compile(f"[{_INVISIBLE}{_ARABIC_MARKS}]")
"""Invisible marks and Arabic diacritics: dropped in one pass."""
_CHAR_FOLD: tuple[tuple[str, str], ...] = (
    ("أ", "ا"), ("إ", "ا"), ("آ", "ا"), ("ٱ", "ا"), ("ى", "ي"), ("ة", "ه"),
    *((chr(0x0660 + d), str(d)) for d in range(10)),
    *((chr(0x06F0 + d), str(d)) for d in range(10)),
    ("：", ":"),
)  # fmt: skip
"""Character folds, applied one `str.replace` each (only when present): 3× faster than `str.translate` with a
dict, which looks every character of a line up (bench: 0.33 vs 1.03 s for 125k lines)."""


def fold(text: str) -> str:
    """Character-level folding shared by lines and patterns (invisible marks, diacritics, alef forms)."""
    text = _DROPPED.sub("", text)
    for char, folded in _CHAR_FOLD:
        if char in text:
            text = text.replace(char, folded)
    return text


def normalize(line: str) -> str:
    """The form of a line that patterns are matched against: folded, whitespace collapsed, trimmed."""
    return " ".join(fold(line).split())  # str.split's whitespace is exactly re's \s (Py_UNICODE_ISSPACE)


_WHITESPACE = (
    "\t\n\x0b\x0c\r\x1c\x1d\x1e\x1f \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009"
    "\u200a\u2028\u2029\u202f\u205f\u3000"
)
"""Every character `str.isspace` (and re's \\s) accepts (a test checks the list)."""
_LEFT_DECORATION = _WHITESPACE + "-–—•·*_~=|►▶◀»«>"
_RIGHT_DECORATION = _WHITESPACE + "-–—•·*_~=|◄◀▶«»<"


def undecorated(normalized_line: str) -> str:
    """A normalized line without decorative dashes/bullets around it and without wrapping parentheses."""
    core = normalized_line.lstrip(_LEFT_DECORATION).rstrip(_RIGHT_DECORATION)
    if core.startswith(("(", "[")) and core.endswith((")", "]")) and "(" not in core[1:-1] and ")" not in core[1:-1]:
        core = core[1:-1].strip()
    return core


def _words(entries: list[str]) -> frozenset[str]:
    """Lower-cased, folded single words from lexicon entries (multi-word entries contribute each word)."""
    return frozenset(word for entry in entries for word in normalize(entry).lower().split())


def _phrases(entries: list[str]) -> tuple[str, ...]:
    return tuple(normalize(entry).lower() for entry in entries)


@dataclass(frozen=True)
class LineRule:
    """A named whole-line pattern; `name` is stored with every segment it removes."""

    name: str
    rule_class: str
    pattern: re.Pattern[str]

    def matches(self, normalized_line: str, core: str | None = None) -> bool:
        """Whole-line match of the normalized line or of its undecorated `core`."""
        if self.pattern.fullmatch(normalized_line):
            return True
        return core is not None and core != normalized_line and self.pattern.fullmatch(core) is not None


_GROUP = "wirecopy_rule_"
_BACKREFERENCE = re.compile(r"\\[1-9]|\(\?P=")
_WIDTH_TIERS = (0, 40, 80, 160, 320)
"""Line lengths from which the rules that cannot match lines that long are left out of the alternation."""


def max_width(pattern: re.Pattern[str]) -> int | None:
    """Longest string (in characters) the pattern can match, None when unbounded (`.*`, `+`, ...)."""
    width = regex_parser.parse(pattern.pattern, pattern.flags).getwidth()[1]
    return None if width >= regex_parser.MAXREPEAT else width


CASE_TWINS = str.maketrans({"İ": "i", "ı": "i", "ſ": "s", "K": "k"})
"""The non-ASCII characters that `re.IGNORECASE` matches with an ASCII letter whose `lower()` is not that letter
(tests/test_cleaning_fast_paths.py derives the list from `re` itself)."""

_MIN_LITERAL = 3
_MAX_SPELLINGS = 16
_TWIN = re.compile("[İıſK]")
_ALTERNATION_CACHE_SIZE = 1024  # (length tier, first character, literals) combinations met: ≈ 180 in 100k lines


def case_folded(line: str) -> str:
    """The form in which a line is searched for required literals (as `re.IGNORECASE` would match them)."""
    return (line.translate(CASE_TWINS) if _TWIN.search(line) else line).lower()


def required_literals(pattern: re.Pattern[str]) -> tuple[str, ...] | None:
    """Strings one of which every match of the pattern contains (case-folded), or None when there are none
    worth testing: a literal run (`t\\.co/`), or the leading literals of every branch of an alternation
    (`(?:photo|picture|image)`). Lines without any of them cannot match, whatever the rest of the pattern."""
    try:
        found = _literal_candidates(regex_parser.parse(pattern.pattern, pattern.flags))
    except ValueError:
        return None
    usable = [c for c in found if all(_safe_literal(text) for text in c)]
    best = max(usable, key=lambda c: min(len(text) for text in c), default=None)
    if best is None or min(len(text) for text in best) < _MIN_LITERAL:
        return None
    return tuple(sorted({case_folded(text) for text in best}))


def scans(pattern: re.Pattern[str]) -> bool:
    """Whether the pattern starts with a long or unbounded repeat (`.*`, `.{5,300}`): tried against a long line,
    it scans the line (often more than once) before failing, where a rule starting with a literal fails at once."""
    first = list(regex_parser.parse(pattern.pattern, pattern.flags))[:1]
    constants = regex_constants
    return bool(first) and first[0][0] in (constants.MAX_REPEAT, constants.MIN_REPEAT) and first[0][1][1] >= 20


def first_characters(pattern: re.Pattern[str]) -> frozenset[str] | None:
    """The case-folded characters every match of the pattern starts with, or None when that is not known (a
    class such as `\\w` or `.`, a pattern that matches the empty line, a character whose IGNORECASE matches
    `case_folded` may not find): a line starting with none of them cannot match."""
    try:
        found, empty = _starts(regex_parser.parse(pattern.pattern, pattern.flags))
    except ValueError:
        return None
    if found is None or empty or not all(_safe_literal(char) for char in found):
        return None
    return frozenset(case_folded(char) for char in found)


def _starts(sequence) -> tuple[set[str] | None, bool]:
    """(the characters a match of the sequence can start with, None when not known; whether it can be empty)."""
    chars: set[str] = set()
    for op, argument in sequence:
        first, empty = _element_starts(op, argument)
        if first is None:
            return None, False
        chars |= first
        if not empty:
            return chars, False
    return chars, True


def _element_starts(op, argument) -> tuple[set[str] | None, bool]:
    constants = regex_constants
    if op is constants.AT:
        return set(), True  # ^, \\b: zero width
    if op is constants.LITERAL:
        return {chr(argument)}, False
    if op is constants.IN:
        if not all(item_op is constants.LITERAL for item_op, _ in argument):
            return None, False  # ranges, categories, negation: not listed
        return {chr(code) for _, code in argument}, False
    if op is constants.BRANCH:
        options = [_starts(branch) for branch in argument[1]]
        if any(first is None for first, _ in options):
            return None, False
        return set().union(*(first for first, _ in options)), any(empty for _, empty in options)
    if op is constants.SUBPATTERN:
        _group, add_flags, del_flags, inner = argument
        return (None, False) if add_flags or del_flags else _starts(inner)
    if op in (constants.MAX_REPEAT, constants.MIN_REPEAT, constants.POSSESSIVE_REPEAT):
        first, empty = _starts(argument[2])
        return first, empty or argument[0] == 0
    return None, False  # any character, a lookaround, a group reference


def _safe_literal(text: str) -> bool:
    """ASCII, or characters without case: their IGNORECASE matches are exactly what `case_folded` finds."""
    return all(char.isascii() or char.lower() == char.upper() for char in text)


def _literal_candidates(sequence) -> list[tuple[str, ...]]:
    constants = regex_constants
    found: list[tuple[str, ...]] = []
    run: list[str] = [""]  # the literal text just matched: one string, or the ways a pure alternation spells it

    def flush() -> None:
        if any(run):
            found.append(tuple(run))
        run[:] = [""]

    for op, argument in sequence:
        if op is constants.LITERAL:
            run[:] = [text + chr(argument) for text in run]
            continue
        if op is constants.BRANCH:
            spelled = [_leading_literal(branch) for branch in argument[1]]
            pure = all(len(spelled[i]) == len(branch) for i, branch in enumerate(argument[1]))
            if pure and len(run) * len(spelled) <= _MAX_SPELLINGS:  # (?:reuters|afp)/ → reuters/, afp/
                run[:] = [text + ending for text in run for ending in spelled]
                continue
            flush()
            if all(spelled):
                found.append(tuple(spelled))
            continue
        flush()
        if op is constants.SUBPATTERN:
            _group, add_flags, del_flags, inner = argument
            if add_flags or del_flags:
                raise ValueError("inline flags")  # case rules may change inside: no literal is safe
            found += _literal_candidates(inner)
        elif op in (constants.MAX_REPEAT, constants.MIN_REPEAT, constants.POSSESSIVE_REPEAT) and argument[0] >= 1:
            found += _literal_candidates(argument[2])
    flush()
    return found


def _leading_literal(sequence) -> str:
    chars = []
    for op, argument in sequence:
        if op is not regex_constants.LITERAL:
            break
        chars.append(chr(argument))
    return "".join(chars)


@dataclass(frozen=True)
class CompiledRules:
    """An ordered tuple of line rules compiled into one alternation: `first` finds the first rule (in order) that
    fullmatches a line in one regex call instead of one call per rule.

    Alternatives are tried in order and each may backtrack until the whole line matches, so the first
    alternative that fullmatches is the first rule that does. Three prefilters leave out rules that cannot match,
    so that long body lines are not scanned by every `.*` rule and not tried against every other: a line longer
    than a rule's longest possible match (length tiers), a line that contains none of a rule's required literals
    (`required_literals`), and a line that starts with none of the characters a rule starts with
    (`first_characters`). The alternation of each combination met is compiled once (a bounded cache)."""

    rules: tuple[LineRule, ...]
    widths: tuple[int | None, ...]
    literals: dict[str, tuple[int, ...]]  # required literal → rules that need it (one of theirs)
    gated: frozenset[int]  # rules with required literals
    starts: tuple[frozenset[str] | None, ...] = ()  # each rule's `first_characters`
    start_chars: frozenset[str] = frozenset()  # every character of `starts`: the others key alike
    fallback: bool = False
    _cache: dict = field(default_factory=dict, compare=False, repr=False)

    @classmethod
    def of(cls, rules: tuple[LineRule, ...]) -> CompiledRules:
        widths = tuple(max_width(rule.pattern) for rule in rules)
        if any(_BACKREFERENCE.search(rule.pattern.pattern) for rule in rules):
            # group numbers would shift inside one alternation: match rule by rule
            return cls(rules, widths, {}, frozenset(), fallback=True)
        literals: dict[str, list[int]] = {}
        for index, rule in enumerate(rules):
            if not scans(rule.pattern):
                continue  # fails at the line's first characters anyway: no prefilter needed
            for text in required_literals(rule.pattern) or ():
                literals.setdefault(text, []).append(index)
        gated = frozenset(i for indexes in literals.values() for i in indexes)
        starts = tuple(first_characters(rule.pattern) for rule in rules)
        start_chars = frozenset().union(*(chars for chars in starts if chars is not None))
        literal_rules = {text: tuple(indexes) for text, indexes in literals.items()}
        return cls(rules, widths, literal_rules, gated, starts, start_chars)

    def candidates(self, line: str) -> tuple[int | str, ...]:
        """The key of the rules that may match `line`: its length tier, its first character (case-folded; "" when
        no rule starts with it), then the gated rules whose literal it has."""
        floor = 0
        for tier in _WIDTH_TIERS:
            if tier > len(line):
                break
            floor = tier
        folded = case_folded(line)
        start = folded[:1] if folded[:1] in self.start_chars else ""
        if not self.literals:
            return (floor, start)
        found = [indexes for text, indexes in self.literals.items() if text in folded]
        return (floor, start, *sorted({i for indexes in found for i in indexes}))

    def kept(self, key: tuple) -> tuple[int, ...]:
        """Indexes of the rules the alternation for `candidates` key holds, in order."""
        floor, start, present = key[0], key[1], set(key[2:])
        return tuple(
            i
            for i, width in enumerate(self.widths)
            if (width is None or width >= floor)
            and (i not in self.gated or i in present)
            and (self.starts[i] is None or start in self.starts[i])
        )

    def first(self, line: str) -> int | None:
        """Index of the first rule that fullmatches `line`, or None."""
        if self.fallback:
            return next((i for i, rule in enumerate(self.rules) if rule.pattern.fullmatch(line)), None)
        key = self.candidates(line)
        pattern = self._cache.get(key)
        if pattern is None:
            if len(self._cache) >= _ALTERNATION_CACHE_SIZE:
                self._cache.clear()
            kept = self.kept(key)
            body = "|".join(f"(?P<{_GROUP}{i}>{self.rules[i].pattern.pattern})" for i in kept)
            pattern = self._cache[key] = re.compile(body, re.IGNORECASE) if kept else False
        match = pattern.fullmatch(line) if pattern else None
        # the outer named group closes last, so it is `lastgroup` whatever groups the rule has inside
        return int(match.lastgroup.removeprefix(_GROUP)) if match else None

    def first_rule(self, normalized_line: str, core: str | None = None) -> LineRule | None:
        """The first rule matching the normalized line or its undecorated `core` (as `LineRule.matches`)."""
        found = self.first(normalized_line)
        if core is not None and core != normalized_line:
            in_core = self.first(core)
            if in_core is not None and (found is None or in_core < found):
                found = in_core
        return None if found is None else self.rules[found]


@dataclass(frozen=True)
class Lexicon:
    """Word lists of one language used by the heuristic rules (dates, tags, captions)."""

    language: str
    months: frozenset[str] = frozenset()
    weekdays: frozenset[str] = frozenset()
    date_words: frozenset[str] = frozenset()
    relative_words: frozenset[str] = frozenset()
    attribution_words: frozenset[str] = frozenset()
    caption_credits: tuple[str, ...] = ()
    tag_prefixes: tuple[str, ...] = ()
    tag_joiners: frozenset[str] = frozenset()
    function_words: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Vocabulary:
    """All lexicons merged, in the shape the heuristics look things up."""

    month_language: dict[str, str]
    date_tokens: frozenset[str]
    relative_words: frozenset[str]
    attribution_words: frozenset[str]
    function_words: frozenset[str]
    tag_joiners: frozenset[str]
    credit_pattern: re.Pattern[str] | None
    tag_prefix_pattern: re.Pattern[str] | None
    tag_prefix_language: dict[str, str]

    @classmethod
    def from_lexicons(cls, lexicons: tuple[Lexicon, ...]) -> Vocabulary:
        month_language: dict[str, str] = {}
        prefix_language: dict[str, str] = {}
        for lexicon in lexicons:
            for month in lexicon.months:
                month_language.setdefault(month, lexicon.language)
            for prefix in lexicon.tag_prefixes:
                prefix_language.setdefault(prefix, lexicon.language)
        credits = sorted({c for lexicon in lexicons for c in lexicon.caption_credits}, key=len, reverse=True)
        prefixes = sorted(prefix_language, key=len, reverse=True)
        return cls(
            month_language=month_language,
            date_tokens=frozenset().union(
                *(lx.months | lx.weekdays | lx.date_words | lx.relative_words for lx in lexicons)
            ),
            relative_words=frozenset().union(*(lx.relative_words for lx in lexicons)),
            attribution_words=frozenset().union(*(lx.attribution_words for lx in lexicons)),
            function_words=frozenset().union(*(lx.function_words for lx in lexicons)),
            tag_joiners=frozenset().union(*(lx.tag_joiners for lx in lexicons)),
            credit_pattern=_alternation(credits, r"(?<!\w)(?:{})(?!\w)") if credits else None,
            tag_prefix_pattern=_alternation(prefixes, r"({})\s*([:\-–|]?)\s*(\S.*)") if prefixes else None,
            tag_prefix_language=prefix_language,
        )


def _alternation(phrases: list[str], template: str) -> re.Pattern[str]:
    body = "|".join(re.escape(p).replace(r"\ ", r"\s+") for p in phrases)
    return re.compile(template.format(body), re.IGNORECASE)


@dataclass(frozen=True)
class Settings:
    """Numeric knobs of the heuristics (see the `[settings]` table in rules.toml)."""

    zone_max_lines: int = 5
    body_min_words: int = 8
    tag_max_words: int = 4
    tag_item_max_words: int = 2
    caption_max_words: int = 40
    post_max_chars: int = 320
    script_min_letters: int = 3


@dataclass(frozen=True)
class RuleSet:
    """Everything `clean_plaintext` needs: settings, line patterns, inline markers, lexicons."""

    settings: Settings
    line_rules: tuple[LineRule, ...]
    inline_ad: tuple[re.Pattern[str], ...]
    lexicons: tuple[Lexicon, ...]
    outlet_rules: dict[str, tuple[LineRule, ...]] = field(default_factory=dict)
    vocabulary: Vocabulary = field(init=False, repr=False)
    _compiled: dict[str, CompiledRules] = field(init=False, repr=False, compare=False)
    _decided: dict[str, dict[str, tuple[str, str | None]]] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "vocabulary", Vocabulary.from_lexicons(self.lexicons))
        object.__setattr__(self, "_compiled", {})
        object.__setattr__(self, "_decided", {})

    def rules_for(self, outlet: str | None) -> tuple[LineRule, ...]:
        """Outlet-specific rules first (so their names win), then the language rules."""
        extra = self.outlet_rules.get(outlet.strip().lower(), ()) if outlet else ()
        return extra + self.line_rules

    def _outlet_key(self, outlet: str | None) -> str:
        """The outlet's name when it has rules of its own, else "": outlets without any share one rule set."""
        key = outlet.strip().lower() if outlet else ""
        return key if key in self.outlet_rules else ""

    def compiled_for(self, outlet: str | None) -> CompiledRules:
        """`rules_for(outlet)` as one compiled alternation (built once per outlet with rules of its own)."""
        key = self._outlet_key(outlet)
        compiled = self._compiled.get(key)
        if compiled is None:
            compiled = self._compiled[key] = CompiledRules.of(self.rules_for(key or None))
        return compiled

    def decided_for(self, outlet: str | None) -> dict[str, tuple[str, str | None]]:
        """A memo for the lines of `outlet`'s documents: line → (normalized line, name of the first pattern or
        lexicon rule that removes it, or None). Both passes read a line alone, and an outlet's boilerplate lines
        repeat from article to article; the caller bounds it (`plaintext.MEMO_LINES`)."""
        return self._decided.setdefault(self._outlet_key(outlet), {})

    @property
    def rule_names(self) -> list[str]:
        names = {rule.name for rule in self.line_rules}
        names.update(rule.name for rules in self.outlet_rules.values() for rule in rules)
        return sorted(names)

    @classmethod
    def from_mapping(cls, data: dict[str, Any]) -> RuleSet:
        """Build from the parsed TOML document; raises ValueError on unknown keys or bad regexes."""
        known = set(Settings.__dataclass_fields__)
        raw_settings = data.get("settings", {})
        unknown = set(raw_settings) - known
        if unknown:
            raise ValueError(f"unknown settings in rules: {sorted(unknown)}")
        settings = Settings(**raw_settings)
        line_rules: list[LineRule] = []
        inline: list[re.Pattern[str]] = []
        lexicons: list[Lexicon] = []
        for language, section in data.get("lang", {}).items():
            line_rules.extend(_compile_section(section, scope=language))
            inline.extend(_compile(p) for p in section.get("inline_ad", []))
            lexicons.append(
                Lexicon(
                    language=language,
                    months=_words(section.get("months", [])),
                    weekdays=_words(section.get("weekdays", [])),
                    date_words=_words(section.get("date_words", [])),
                    relative_words=_words(section.get("relative_words", [])),
                    attribution_words=_words(section.get("attribution_words", [])),
                    caption_credits=_phrases(section.get("caption_credits", [])),
                    tag_prefixes=_phrases(section.get("tag_prefixes", [])),
                    tag_joiners=_words(section.get("tag_joiners", [])),
                    function_words=_words(section.get("function_words", [])),
                )
            )
        outlets = {
            name.strip().lower(): tuple(_compile_section(section, scope=f"outlet/{name}"))
            for name, section in data.get("outlet", {}).items()
        }
        return cls(settings, tuple(line_rules), tuple(inline), tuple(lexicons), outlets)


_LEXICON_KEYS = {
    "inline_ad",
    "months",
    "weekdays",
    "date_words",
    "relative_words",
    "attribution_words",
    "caption_credits",
    "tag_prefixes",
    "tag_joiners",
    "function_words",
}


def _compile(pattern: str) -> re.Pattern[str]:
    try:
        return re.compile(fold(pattern), re.IGNORECASE)
    except re.error as exc:
        raise ValueError(f"bad pattern {pattern!r}: {exc}") from exc


def _compile_section(section: dict[str, Any], scope: str) -> list[LineRule]:
    unknown = set(section) - set(PATTERN_CLASSES) - _LEXICON_KEYS
    if unknown:
        raise ValueError(f"unknown keys in rules section {scope!r}: {sorted(unknown)}")
    return [
        LineRule(name=f"{rule_class}:{scope}", rule_class=rule_class, pattern=_compile(pattern))
        for rule_class in PATTERN_CLASSES
        for pattern in section.get(rule_class, [])
    ]


@lru_cache(maxsize=8)
def _load(path: Path) -> RuleSet:
    with path.open("rb") as handle:
        return RuleSet.from_mapping(tomllib.load(handle))


def load_rules(path: Path | None = None) -> RuleSet:
    """Load and compile a rules file (default: the packaged rules.toml); results are cached per path."""
    if path is None:  # every document's cleaning asks for these: no path resolution (lstat calls) each time
        return _default_rules()
    return _load(path.resolve())


@lru_cache(maxsize=1)
def _default_rules() -> RuleSet:
    return _load(DEFAULT_RULES_PATH.resolve())
