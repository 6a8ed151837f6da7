"""Boilerplate removal for plain text: one paragraph per non-empty line, rules from rules.toml.

Passes, in order (a line removed by an earlier pass is not looked at again):

1. Whole-line patterns (outlet rules first, then every language section): ad markers, source and
   "read also" lines, social-post anchors, share/follow lines, exact caption lines, page chrome.
   A line also matches when its undecorated core does ("- إعلان -" → «إعلان», "(وكالات)" → «وكالات»).
2. Lexicon rules: date-only lines (every token a number / month / weekday / date word, plus a month, a
   numeric date or a relative marker such as «منذ» / "ago"); explicit tag lines («الوسوم: ...»,
   "Tags: ..."); captions ending in a parenthesised credit («... (كارين ميناسيان/وكالة الصحافة الفرنسية)»),
   unless the line reads as reported speech («وأفادت وكالة الأنباء السعودية (واس)»).
3. Social posts (`social:post`): around every anchor, neighbouring lines belong to the post when they
   are in another script than the document's dominant script, or carry a twitter link / only hashtags.
   In addition, the line right before a "— Name (@handle) date" attribution is the post's own text
   (that is where the embed puts it) when it is at most `post_max_chars` long; when that line is the
   post's link line, a short finished sentence (≤ 40 chars, ending in . ! ? or an emoji, not in ':')
   right above it is the post's first line. Subheadings (no final punctuation) and intro lines
   ("He wrote on X:") stay.
4. Tag lines (`tag:heuristic`): a short line (≤ `tag_max_words` words, or ≥ 3 punctuation-separated
   items) made only of names, i.e. items of ≤ `tag_item_max_words` words (one more when the items are
   separated by punctuation: commas, pipes, slashes, " - ", ">") split on punctuation and joiners
   («و», "and", "&"), with no function word («في», «على», "the", "says", ...) and no sentence
   punctuation, that sits in the header or footer zone (before the first / after the last body-like
   line of ≥ `body_min_words` words, at most `zone_max_lines` lines) AND next to a line already removed
   as metadata (date, source, read-also, share, ad, tag, chrome). Subheadings fail at least one test:
   they have verbs or prepositions («باشينيان يتصل بماكرون وبلينكن» has a 3-word item joined by «و»),
   or they sit between body lines.
5. Inline `[ad_N]` markers at the start/end of surviving lines are cut; the rest of the line is kept.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from wirecopy.cleaning.language import dominant_script, script_counts
from wirecopy.cleaning.paragraphs import numbered_lines
from wirecopy.cleaning.rules import RuleSet, Vocabulary, load_rules, normalize, undecorated
from wirecopy.models import RemovedSegment

METADATA_CLASSES = frozenset({"ad", "source", "read_also", "share", "date", "tag", "chrome"})
"""Removed classes whose neighbours may be tag lines."""

_TOKEN = re.compile(r"\w+(?:\.\w+)*\.?")
_NUMERIC_TOKEN = re.compile(r"\d+(?:[.:]\d+)*(?:st|nd|rd|th|ه|م)?")
_NUMERIC_DATE = re.compile(r"(?<!\d)(?:\d{4}[-/.]\d{1,2}[-/.]\d{1,2}|\d{1,2}[-/.]\d{1,2}[-/.]\d{2,4})(?!\d)")
_ATTRIBUTION = re.compile(r"[—–-]{1,2}\s*.{0,80}\(\s*@\w{1,20}\s*\)")  # "— Name (@handle) date"
_POST_LINK = re.compile(r"\bpic\.twitter\.com/|\bt\.co/\w|(?:twitter|x)\.com/\w+/status/", re.IGNORECASE)
_POST_OPENER_MAX_CHARS = 40
_POST_OPENER_ENDS = frozenset(".!?؟…")
_POST_OPENER_NOT_ENDS = frozenset(":：,،;؛)»\"”'")
_HASHTAGS_ONLY = re.compile(r"(?:[#@]\w+[\s,،]*)+")
_TRAILING_CREDIT = re.compile(r"\(([^()]{2,120})\)")
_EXPLICIT_CREDIT = re.compile(
    r"\s*(?:photo|photograph|picture|image|credit|file photo|صوره|الصوره|تصوير|الصور)\b", re.IGNORECASE
)
_SENTENCE_END = frozenset('.!?؟:"”»')
_DATE_MAX_TOKENS = 16
_DATE_HEAD_CHARS = 48
"""`_date_rule` reads a line's first token from its first characters lowered, not the whole line: the token the
loop over the whole line would read first when it ends before them (lowering is character by character but for
a final sigma, decided by the next character)."""
_TAG_SEPARATORS = re.compile(r"\s*[,،|•·/;؛>›»]+\s*|\s+[-–—]\s+")
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
        """`len(norm.split())`: `norm` is words joined by single spaces (`rules.normalize`), so its spaces count."""
        return self.norm.count(" ") + 1 if self.norm else 0


MEMO_LINES = 8192
MEMO_MAX_CHARS = 200
"""Lines of at most this many characters have their pattern and lexicon decision kept (`RuleSet.decided_for`,
at most `MEMO_LINES` per outlet, then started afresh): boilerplate lines are short and repeat across an
outlet's articles (26 % of the lines of bench/e2e.py's corpus are repeats, most of them short), while body
lines are long and rarely met twice."""


def clean_plaintext(text: str, *, outlet: str | None = None, rules: RuleSet | None = None) -> CleanedText:
    """Remove boilerplate lines from `text`; every surviving non-empty line is a paragraph."""
    rules = rules or load_rules()
    decided = rules.decided_for(outlet)
    lines = []
    for number, line in numbered_lines(text):
        remembered = len(line) <= MEMO_MAX_CHARS
        found = decided.get(line) if remembered else None
        if found is None:
            norm = normalize(line)
            found = (norm, _pattern_rule(norm, rules, outlet) or _lexicon_rule(norm, rules))
            if remembered:
                if len(decided) >= MEMO_LINES:
                    decided.clear()
                decided[line] = found
        lines.append(_Line(number, line, *found))
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
    rule = rules.compiled_for(outlet).first_rule(norm, undecorated(norm))
    return rule.name if rule else None


def _lexicon_rule(norm: str, rules: RuleSet) -> str | None:
    return _date_rule(norm, rules) or _tag_prefix_rule(norm, rules) or _credit_caption_rule(norm, rules)


def _date_rule(norm: str, rules: RuleSet) -> str | None:
    """`date:<lang>` when every token is a number, month, weekday or date word, and there is a month,
    a numeric date (2023-09-19, 19/09/2023) or a relative marker («منذ 3 ساعات», "2 hours ago").
    Tokens are read one at a time: a body line stops at its first word that is none of these."""
    vocabulary = rules.vocabulary
    head = norm[:_DATE_HEAD_CHARS].lower()
    first = _TOKEN.search(head)
    whole = first is not None and first.end() < len(head) - 1  # the first token, whole, from the head alone
    if whole and _date_token_kind(first.group().rstrip("."), vocabulary) is None:
        return None  # a body line ends at its first word
    language = None
    relative = False
    count = 0
    for match in _TOKEN.finditer(norm.lower()):
        count += 1
        if count > _DATE_MAX_TOKENS:
            return None
        token = match.group().rstrip(".")
        kind = _date_token_kind(token, vocabulary)
        if kind is None:
            return None
        if kind == "number":
            continue
        language = language or vocabulary.month_language.get(token)
        relative = relative or token in vocabulary.relative_words
    if not count or not any(char.isdigit() for char in norm):
        return None
    if language:
        return f"date:{language}"
    return "date:any" if relative or _NUMERIC_DATE.search(norm) else None


def _date_token_kind(token: str, vocabulary: Vocabulary) -> str | None:
    """ "number", "word" (a month, weekday or date word), or None for a token no date line holds."""
    if _NUMERIC_TOKEN.fullmatch(token):
        return "number"
    return "word" if token in vocabulary.date_tokens else None


def _tag_prefix_rule(norm: str, rules: RuleSet) -> str | None:
    """«الوسوم: ...», "Tags: ...", and "Tags Armenia Azerbaijan" (no separator: the rest must be a name list)."""
    vocabulary = rules.vocabulary
    match = vocabulary.tag_prefix_pattern.fullmatch(norm) if vocabulary.tag_prefix_pattern else None
    if not match or len(norm.split()) > 30:
        return None
    prefix, separator, rest = match.groups()
    rest_words = rest.lower().split()
    if not separator and (len(rest_words) > 8 or any(word in vocabulary.function_words for word in rest_words)):
        return None
    return f"tag:{vocabulary.tag_prefix_language.get(prefix.lower(), 'any')}"


def _credit_caption_rule(norm: str, rules: RuleSet) -> str | None:
    """A short line ending in a parenthesised credit: «... (كارين ميناسيان/وكالة الصحافة الفرنسية)».

    A bare agency after a finished sentence ("... said on Tuesday. (AFP)") is body text that names its
    source, so it only counts when the credit is explicit (photo/صورة…, Name/Agency, "Agency: Name").
    Lines with a reporting verb («وأفادت وكالة الأنباء السعودية (واس)», "according to") are body text.
    """
    credit = rules.vocabulary.credit_pattern
    if credit is None or not norm.endswith(")"):
        return None
    match = None
    for match in _TRAILING_CREDIT.finditer(norm):  # noqa: B007 - keep the last parenthesised group
        pass
    if match is None or match.end() != len(norm) or not credit.search(match.group(1)):
        return None
    before = norm[: match.start()].rstrip()
    if len(before.split()) > rules.settings.caption_max_words:
        return None
    inner = match.group(1)
    explicit = _EXPLICIT_CREDIT.match(inner) or "/" in inner or re.match(r"[^:]{1,30}:", inner)
    if before and before[-1] in _SENTENCE_END and not explicit:
        return None
    words = {word.removeprefix("و") for word in before.lower().split()} | set(before.lower().split())
    if words & rules.vocabulary.attribution_words:
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
        attribution = _ATTRIBUTION.match(lines[anchor].norm) is not None
        if attribution and before >= 0 and not lines[before].rule and len(lines[before].text) <= max_chars:
            lines[before].rule = "social:post"
            before -= 1
        elif attribution and before >= 1 and _POST_LINK.search(lines[before].norm):
            # a multi-line post: a short finished sentence right above the post's link line
            opener = lines[before - 1]
            if _is_post_opener(opener, len(lines[before].text), max_chars):
                opener.rule = "social:post"
        while before >= 0 and belongs_to_post(lines[before]):
            lines[before].rule = lines[before].rule or "social:post"
            before -= 1
        after = anchor + 1
        while after < len(lines) and belongs_to_post(lines[after]):
            lines[after].rule = lines[after].rule or "social:post"
            after += 1


def _is_post_opener(line: _Line, link_line_chars: int, max_chars: int) -> bool:
    """A short finished sentence (or one ending in an emoji) that can open a multi-line post."""
    text = line.text.rstrip()
    if line.rule or not text or len(text) > _POST_OPENER_MAX_CHARS or len(text) + link_line_chars > max_chars:
        return False
    last = text[-1]
    return last not in _POST_OPENER_NOT_ENDS and (last in _POST_OPENER_ENDS or not last.isalnum())


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
    # an explicit punctuation list («تونس - صندوق النقد الدولي») may hold one word longer names
    item_max = settings.tag_item_max_words + (1 if len(pieces) >= 2 else 0)
    if not items or any(len(item) > item_max for item in items):
        return False
    words = sum(len(item) for item in items)
    if words <= settings.tag_max_words:
        return len(items) >= 2 or words <= settings.tag_item_max_words
    return len(pieces) >= 3 and words <= 3 * settings.tag_max_words


@lru_cache(maxsize=64)
def _ends(pattern: re.Pattern[str]) -> tuple[re.Pattern[str], re.Pattern[str]]:
    """An inline pattern at the start of a line (after spaces) and at its end (before spaces)."""
    at_start = re.compile(rf"\s*(?:{pattern.pattern})", pattern.flags)
    return at_start, re.compile(rf"(?:{pattern.pattern})\s*$", pattern.flags)


def _cut_inline_markers(text: str, rules: RuleSet) -> tuple[str, list[str]]:
    """Cut inline ad markers from the start and end of a body line; returns (rest, markers cut)."""
    if not any(pattern.search(text) for pattern in rules.inline_ad):
        return text, []  # most lines: no marker anywhere, so none at either end
    cut: list[str] = []
    changed = True
    while changed and text:
        changed = False
        for pattern in rules.inline_ad:
            at_start, at_end = _ends(pattern)
            start = at_start.match(text)
            if start:
                cut.append(start.group(0).strip())
                text = text[start.end() :].strip()
                changed = True
            end = at_end.search(text)
            if end:
                cut.append(end.group(0).strip())
                text = text[: end.start()].strip()
                changed = True
    return text, cut
