"""Boilerplate removal for plain text: one paragraph per non-empty line, rules from rules.toml.

Passes, in order (a line removed by an earlier pass is not looked at again):

1. Whole-line patterns (outlet rules first, then every language section): ad markers, source and
   "read also" lines, social-post anchors, share/follow lines, exact caption lines.
2. Lexicon rules: date-only lines, explicit tag lines («الوسوم: ...», "Tags: ..."), and captions that
   end in a parenthesised credit («... (كارين ميناسيان/وكالة الصحافة الفرنسية)»).
3. Social posts (`social:post`): around every anchor, neighbouring lines belong to the post when they
   are in another script than the document's dominant script, or carry a twitter link / only hashtags.
   In addition, the line right before a "— Name (@handle) date" attribution is the post's own text
   (that is where the embed puts it) when it is at most `post_max_chars` long.
4. Tag lines (`tag:heuristic`): a short line (≤ `tag_max_words` words, or ≥ 3 punctuation-separated
   items) made only of names, i.e. items of ≤ `tag_item_max_words` words split on commas, pipes,
   slashes and joiners («و», "and", "&"), with no function word («في», «على», "the", "says", ...)
   and no sentence punctuation, that sits in the header or footer zone (before the first / after the
   last body-like line of ≥ `body_min_words` words) AND next to a line already removed as metadata
   (date, source, read-also, share, ad, tag). Subheadings fail at least one test: they have verbs or
   prepositions («باشينيان يتصل بماكرون وبلينكن» has a 3-word item), or they sit between body lines.
5. Inline `[ad_N]` markers at the start/end of surviving lines are cut; the rest of the line is kept.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from wirecopy.cleaning.language import dominant_script, script_counts
from wirecopy.cleaning.paragraphs import numbered_lines
from wirecopy.cleaning.rules import RuleSet, load_rules, normalize
from wirecopy.models import RemovedSegment

METADATA_CLASSES = frozenset({"ad", "source", "read_also", "share", "date", "tag"})
"""Removed classes whose neighbours may be tag lines."""

_TOKEN = re.compile(r"\w+(?:\.\w+)*\.?")
_NUMERIC_TOKEN = re.compile(r"\d+(?:st|nd|rd|th|ه|م)?")
_NUMERIC_DATE = re.compile(r"(?<!\d)(?:\d{4}[-/.]\d{1,2}[-/.]\d{1,2}|\d{1,2}[-/.]\d{1,2}[-/.]\d{2,4})(?!\d)")
_ATTRIBUTION = re.compile(r"\(\s*@\w{1,20}\s*\)|\bpost shared by\b", re.IGNORECASE)
_POST_LINK = re.compile(r"\bpic\.twitter\.com/|\bt\.co/\w|(?:twitter|x)\.com/\w+/status/", re.IGNORECASE)
_HASHTAGS_ONLY = re.compile(r"(?:[#@]\w+[\s,،]*)+")
_TRAILING_CREDIT = re.compile(r"\(([^()]{2,120})\)\s*\.?")
_SENTENCE_END = frozenset('.!?؟:"”»')
_TAG_SEPARATORS = re.compile(r"\s*[,،|•·/;؛]+\s*")
_TAG_PUNCTUATION = re.compile(r"[.!?؟:\"“”«»()\[\]]")


@dataclass(frozen=True)
class CleanedText:
    """Body paragraphs as published (whitespace-trimmed) and the segments removed, in line order."""

    paragraphs: list[str]
    removed: list[RemovedSegment]


@dataclass
class _Line:
    number: int
    text: str
    norm: str
    rule: str | None = None

    @property
    def rule_class(self) -> str | None:
        return self.rule.split(":", 1)[0] if self.rule else None

    @property
    def words(self) -> int:
        return len(self.norm.split())


def clean_plaintext(text: str, *, outlet: str | None = None, rules: RuleSet | None = None) -> CleanedText:
    """Remove boilerplate lines from `text`; every surviving non-empty line is a paragraph."""
    rules = rules or load_rules()
    lines = [_Line(number, line, normalize(line)) for number, line in numbered_lines(text)]
    for line in lines:
        line.rule = _pattern_rule(line.norm, rules, outlet) or _lexicon_rule(line.norm, rules)
    _mark_social_posts(lines, rules)
    _mark_tag_lines(lines, rules)
    paragraphs: list[str] = []
    removed: list[RemovedSegment] = []
    for line in lines:
        if line.rule:
            removed.append(RemovedSegment(line_no=line.number, text=line.text, rule=line.rule))
            continue
        body, cut = _cut_inline_markers(line.text, rules)
        removed.extend(RemovedSegment(line_no=line.number, text=marker, rule="ad:inline") for marker in cut)
        if body:
            paragraphs.append(body)
    return CleanedText(paragraphs=paragraphs, removed=removed)


def _pattern_rule(norm: str, rules: RuleSet, outlet: str | None) -> str | None:
    for rule in rules.rules_for(outlet):
        if rule.matches(norm):
            return rule.name
    return None


def _lexicon_rule(norm: str, rules: RuleSet) -> str | None:
    return _date_rule(norm, rules) or _tag_prefix_rule(norm, rules) or _credit_caption_rule(norm, rules)


def _date_rule(norm: str, rules: RuleSet) -> str | None:
    """`date:<lang>` when every token is a number, month, weekday or date word, with a month or numeric date."""
    vocabulary = rules.vocabulary
    tokens = [token.rstrip(".") for token in _TOKEN.findall(norm.lower())]
    if not tokens or len(tokens) > 16 or not any(char.isdigit() for char in norm):
        return None
    language = None
    for token in tokens:
        if _NUMERIC_TOKEN.fullmatch(token):
            continue
        if token not in vocabulary.date_tokens:
            return None
        language = language or vocabulary.month_language.get(token)
    if language:
        return f"date:{language}"
    return "date:any" if _NUMERIC_DATE.search(norm) else None


def _tag_prefix_rule(norm: str, rules: RuleSet) -> str | None:
    pattern = rules.vocabulary.tag_prefix_pattern
    match = pattern.fullmatch(norm) if pattern else None
    if not match or len(norm.split()) > 30:
        return None
    return f"tag:{rules.vocabulary.tag_prefix_language.get(match.group(1).lower(), 'any')}"


def _credit_caption_rule(norm: str, rules: RuleSet) -> str | None:
    """A short line ending in a parenthesised agency/photographer credit, not ending a sentence before it."""
    credit = rules.vocabulary.credit_pattern
    if credit is None or not norm.endswith((")", ").")):
        return None
    match = None
    for match in _TRAILING_CREDIT.finditer(norm):  # noqa: B007 - keep the last parenthesised group
        pass
    if match is None or match.end() != len(norm) or not credit.search(match.group(1)):
        return None
    before = norm[: match.start()].rstrip()
    if len(before.split()) > rules.settings.caption_max_words or (before and before[-1] in _SENTENCE_END):
        return None
    return "caption:credit"


def _mark_social_posts(lines: list[_Line], rules: RuleSet) -> None:
    """Extend every social anchor to the post lines around it (see module docstring, pass 3)."""
    anchors = [i for i, line in enumerate(lines) if line.rule_class == "social"]
    if not anchors:
        return
    min_letters = rules.settings.script_min_letters
    max_chars = rules.settings.post_max_chars
    home = dominant_script(" ".join(line.norm for line in lines if not line.rule), min_letters) or ""

    def belongs_to_post(line: _Line) -> bool:
        if line.rule and line.rule_class != "social":
            return False
        if _POST_LINK.search(line.norm) or _HASHTAGS_ONLY.fullmatch(line.norm):
            return True
        counts = script_counts(line.norm)
        if sum(counts.values()) < min_letters:
            return True
        return counts.most_common(1)[0][0] != home

    for anchor in anchors:
        before = anchor - 1
        attribution = _ATTRIBUTION.search(lines[anchor].norm) is not None
        if attribution and before >= 0 and not lines[before].rule and len(lines[before].text) <= max_chars:
            lines[before].rule = "social:post"
            before -= 1
        while before >= 0 and belongs_to_post(lines[before]):
            lines[before].rule = lines[before].rule or "social:post"
            before -= 1
        after = anchor + 1
        while after < len(lines) and belongs_to_post(lines[after]):
            lines[after].rule = lines[after].rule or "social:post"
            after += 1


def _mark_tag_lines(lines: list[_Line], rules: RuleSet) -> None:
    """Mark tag lines (module docstring, pass 4), repeating so that runs of tag lines are all found."""
    settings = rules.settings
    body = [i for i, line in enumerate(lines) if not line.rule and line.words >= settings.body_min_words]
    first_body = body[0] if body else len(lines)
    last_body = body[-1] if body else -1
    in_zone = [
        (i < first_body and i < settings.zone_max_lines)
        or (i > last_body and i >= len(lines) - settings.zone_max_lines)
        for i in range(len(lines))
    ]
    changed = True
    while changed:
        changed = False
        for i, line in enumerate(lines):
            if line.rule or not in_zone[i] or not _next_to_metadata(lines, i):
                continue
            if _looks_like_tag_list(line.norm, rules):
                line.rule = "tag:heuristic"
                changed = True


def _next_to_metadata(lines: list[_Line], index: int) -> bool:
    neighbours = [lines[j] for j in (index - 1, index + 1) if 0 <= j < len(lines)]
    return any(line.rule_class in METADATA_CLASSES for line in neighbours)


def _looks_like_tag_list(norm: str, rules: RuleSet) -> bool:
    """True for a short list of names: «أذربيجان وأرمينيا», "Politics | World", "Armenia, Azerbaijan, Iran"."""
    if _TAG_PUNCTUATION.search(norm):
        return False
    vocabulary = rules.vocabulary
    settings = rules.settings
    pieces = [piece for piece in _TAG_SEPARATORS.split(norm.lower()) if piece]
    items: list[list[str]] = []
    for piece in pieces:
        current: list[str] = []
        for word in piece.split():
            if word in vocabulary.function_words:
                return False
            if word in vocabulary.tag_joiners:
                if current:
                    items.append(current)
                current = []
            elif current and word.startswith("و") and len(word) >= 4:
                items.append(current)
                current = [word[1:]]
            else:
                current.append(word)
        if current:
            items.append(current)
    if not items or any(len(item) > settings.tag_item_max_words for item in items):
        return False
    words = sum(len(item) for item in items)
    if words <= settings.tag_max_words:
        return len(items) >= 2 or words <= settings.tag_item_max_words
    return len(pieces) >= 3 and words <= 3 * settings.tag_max_words


def _cut_inline_markers(text: str, rules: RuleSet) -> tuple[str, list[str]]:
    """Cut inline ad markers from the start and end of a body line; returns (rest, markers cut)."""
    cut: list[str] = []
    changed = True
    while changed and text:
        changed = False
        for pattern in rules.inline_ad:
            start = re.match(rf"\s*(?:{pattern.pattern})", text, pattern.flags)
            if start:
                cut.append(start.group(0).strip())
                text = text[start.end() :].strip()
                changed = True
            end = re.search(rf"(?:{pattern.pattern})\s*$", text, pattern.flags)
            if end:
                cut.append(end.group(0).strip())
                text = text[: end.start()].strip()
                changed = True
    return text, cut
