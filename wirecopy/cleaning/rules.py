"""Load the boilerplate rule set from `rules.toml` into compiled, immutable objects."""

from __future__ import annotations

import re
import re._parser as regex_parser
import tomllib
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

DEFAULT_RULES_PATH = Path(__file__).with_name("rules.toml")

PATTERN_CLASSES = ("ad", "source", "read_also", "social", "share", "caption", "chrome")
"""Keys of a `[lang.*]` / `[outlet.*]` section holding whole-line regular expressions."""

_INVISIBLE = re.compile("[\u00ad\u0640\u061c\u200b-\u200f\u202a-\u202e\u2060-\u2069\ufeff]")
_ARABIC_MARKS = re.compile("[\u0610-\u061a\u064b-\u065f\u0670\u06d6-\u06ed]")
_CHAR_FOLD = str.maketrans(
    {
        "أ": "ا",
        "إ": "ا",
        "آ": "ا",
        "ٱ": "ا",
        "ى": "ي",
        "ة": "ه",
        **{chr(0x0660 + d): str(d) for d in range(10)},
        **{chr(0x06F0 + d): str(d) for d in range(10)},
        "：": ":",
    }
)
_SPACES = re.compile(r"\s+")


def fold(text: str) -> str:
    """Character-level folding shared by lines and patterns (invisible marks, diacritics, alef forms)."""
    text = _INVISIBLE.sub("", text)
    text = _ARABIC_MARKS.sub("", text)
    return text.translate(_CHAR_FOLD)


def normalize(line: str) -> str:
    """The form of a line that patterns are matched against: folded, whitespace collapsed, trimmed."""
    return _SPACES.sub(" ", fold(line)).strip()


_DECORATION = re.compile(r"^[\s\-–—•·*_~=|►▶◀»«>]+|[\s\-–—•·*_~=|◄◀▶«»<]+$")


def undecorated(normalized_line: str) -> str:
    """A normalized line without decorative dashes/bullets around it and without wrapping parentheses."""
    core = _DECORATION.sub("", normalized_line)
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


@dataclass(frozen=True)
class CompiledRules:
    """An ordered tuple of line rules compiled into one alternation per length tier: `first` finds the first
    rule (in order) that fullmatches a line in one regex call instead of one call per rule.

    Alternatives are tried in order and each may backtrack until the whole line matches, so the first
    alternative that fullmatches is the first rule that does. A line longer than a rule's longest possible
    match cannot match it: from each tier on, those rules are left out (long body lines meet only the rules
    with `.*`-like parts)."""

    rules: tuple[LineRule, ...]
    tiers: tuple[tuple[int, re.Pattern[str] | None, tuple[int, ...]], ...]

    @classmethod
    def of(cls, rules: tuple[LineRule, ...]) -> CompiledRules:
        if any(_BACKREFERENCE.search(rule.pattern.pattern) for rule in rules):
            return cls(rules, ())  # group numbers would shift inside one alternation: match rule by rule
        widths = [max_width(rule.pattern) for rule in rules]
        tiers = []
        for floor in _WIDTH_TIERS:
            kept = tuple(i for i, width in enumerate(widths) if width is None or width >= floor)
            body = "|".join(f"(?P<{_GROUP}{i}>{rules[i].pattern.pattern})" for i in kept)
            tiers.append((floor, re.compile(body, re.IGNORECASE) if kept else None, kept))
        return cls(rules, tuple(tiers))

    def first(self, line: str) -> int | None:
        """Index of the first rule that fullmatches `line`, or None."""
        if not self.tiers:
            return next((i for i, rule in enumerate(self.rules) if rule.pattern.fullmatch(line)), None)
        pattern = None
        for floor, tier_pattern, _kept in self.tiers:
            if len(line) < floor:
                break
            pattern = tier_pattern
        match = pattern.fullmatch(line) if pattern is not None else None
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

    def __post_init__(self) -> None:
        object.__setattr__(self, "vocabulary", Vocabulary.from_lexicons(self.lexicons))
        object.__setattr__(self, "_compiled", {})

    def rules_for(self, outlet: str | None) -> tuple[LineRule, ...]:
        """Outlet-specific rules first (so their names win), then the language rules."""
        extra = self.outlet_rules.get(outlet.strip().lower(), ()) if outlet else ()
        return extra + self.line_rules

    def compiled_for(self, outlet: str | None) -> CompiledRules:
        """`rules_for(outlet)` as one compiled alternation (built once per outlet with rules of its own)."""
        key = outlet.strip().lower() if outlet else ""
        key = key if key in self.outlet_rules else ""
        compiled = self._compiled.get(key)
        if compiled is None:
            compiled = self._compiled[key] = CompiledRules.of(self.rules_for(key or None))
        return compiled

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
    return _load((path or DEFAULT_RULES_PATH).resolve())
