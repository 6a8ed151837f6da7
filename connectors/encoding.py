"""Turn raw bytes into text without mojibake.

Order of decisions in `decode_bytes`:

1. A byte-order mark decides (UTF-8 BOM is stripped; UTF-16/32 BOMs are honoured). Without a BOM, UTF-32 and
   UTF-16 (either byte order) are recognised by their NUL bytes falling on one side of each code unit and a
   strict decoding that gives plausible text (`bomless_wide_encoding`).
2. Strict UTF-8. A file whose lines are partly UTF-8 and partly another encoding (a latin-1 line among UTF-8
   Arabic ones) is decoded line by line: UTF-8 lines as UTF-8, the others with the encoding that suits them all
   (step 3 on those lines), reported as ``"utf-8+<encoding>"``; when no encoding suits them the file is refused
   (`UndecodableError`, an error row) rather than garbled. Data that is UTF-8 except for a few corrupt
   bytes (>= 10 valid multi-byte characters, invalid sequences <= 1 % of them) is decoded as UTF-8 with
   U+FFFD replacements and reported as ``"utf-8/replace"``.
3. Otherwise candidates are scored: the declared charset (HTTP header / ``<meta charset>``), then
   latin-1, cp1252, cp1256, then charset-normalizer's top guesses. Each decoding gets a sanity score
   in [0, 1]: the share of letters that do not look like mojibake. Penalised are control and
   unassigned characters, U+FFFD, words that mix scripts (``"Fِrderung"``: Latin + Arabic), and Latin
   words made mostly of non-ASCII letters (``"ÇáÚÑÈíÉ"``: Arabic cp1256 read as latin-1). The best score
   wins; ties go to the earlier candidate, so a declared charset is kept unless it is worse.
4. If even the best candidate scores below `MIN_PLAUSIBILITY`, `UndecodableError` is raised.
"""

from __future__ import annotations

import codecs
import re
import unicodedata
from collections import Counter
from functools import lru_cache

import charset_normalizer

MIN_PLAUSIBILITY = 0.6
_FALLBACK_ENCODINGS = ("latin-1", "cp1252", "cp1256")
_SAMPLE_CHARS = 65_536
_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
_DECLARED_CHARSET = re.compile(
    rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_.:-]+)|<\?xml[^>]+encoding\s*=\s*["']([A-Za-z0-9_.:-]+)""",
    re.IGNORECASE,
)
_ALLOWED_CONTROLS = frozenset("\t\n\r\f\v")
_CJK_SCRIPTS = frozenset({"CJK", "HIRAGANA", "KATAKANA", "HALFWIDTH", "IDEOGRAPHIC"})
_KNOWN_SCRIPTS = frozenset(
    {
        "LATIN",
        "ARABIC",
        "CYRILLIC",
        "GREEK",
        "HEBREW",
        "HANGUL",
        "THAI",
        "DEVANAGARI",
        "ARMENIAN",
        "GEORGIAN",
        "BENGALI",
        "TAMIL",
        "SYRIAC",
        "THAANA",
        "ETHIOPIC",
    }
)


class UndecodableError(ValueError):
    """The bytes are not text in any encoding we can recognise."""


def decode_bytes(data: bytes, *, declared: str | None = None) -> tuple[str, str]:
    """Decode `data` and return ``(text, encoding name)``; `declared` is a charset hint."""
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            try:
                return data.decode(encoding), encoding
            except UnicodeDecodeError as exc:
                raise UndecodableError(f"byte-order mark says {encoding} but decoding failed: {exc}") from exc
    wide = bomless_wide_encoding(data)
    if wide is not None:
        return data.decode(wide), wide
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    mixed = _mixed_lines(data, declared)
    if mixed is not None:
        return mixed
    mostly_utf8 = _mostly_utf8(data)
    if mostly_utf8 is not None:
        return mostly_utf8, "utf-8/replace"
    return _best_candidate(data, declared)


def bomless_wide_encoding(data: bytes) -> str | None:
    """ "utf-32-le", "utf-32-be", "utf-16-le" or "utf-16-be" for text in that encoding without a BOM, else None.

    Text in these encodings has NUL bytes at fixed positions of each code unit (the high bytes of ASCII and of
    most scripts' letters) and none at the others; binary data has them anywhere. The decoding must also be
    strict and plausible (few control or unassigned characters, letters not mixing scripts)."""
    sample = data[:8192]
    if b"\x00" not in sample or len(sample) < 4:
        return None
    for encoding, unit in (("utf-32-le", 4), ("utf-32-be", 4), ("utf-16-le", 2), ("utf-16-be", 2)):
        if len(data) % unit or not _nul_pattern(sample[: len(sample) - len(sample) % unit], encoding, unit):
            continue
        try:
            text = data[:65_536].decode(encoding)
        except UnicodeDecodeError:
            continue
        bad = sum(1 for ch in text if _is_bad_char(ch) or ch == "\x00")
        if bad <= len(text) * 0.01 and plausibility(text) >= MIN_PLAUSIBILITY:
            try:
                data.decode(encoding)
            except UnicodeDecodeError:
                continue
            return encoding
    return None


def _nul_pattern(sample: bytes, encoding: str, unit: int) -> bool:
    """Whether the NUL bytes of `sample` sit where that encoding puts them for text."""
    counts = [sample[offset::unit].count(0) for offset in range(unit)]
    units = len(sample) // unit
    if unit == 4:  # the top byte is always 0, the next one nearly always (BMP text below U+10000… U+FFFF)
        top, second = (3, 2) if encoding.endswith("le") else (0, 1)
        return counts[top] == units and counts[second] >= units * 0.9
    high, low = (1, 0) if encoding.endswith("le") else (0, 1)
    if counts[high] < units * 0.05 or counts[low] > counts[high] * 0.05:
        return False
    # text uses a few blocks of 256 code points (ASCII, Arabic, Latin-1…): its high bytes take few values
    common = Counter(sample[high::unit]).most_common(3)
    return sum(count for _, count in common) >= units * 0.9


def binary_reason(data: bytes) -> str | None:
    """Why `data` looks like binary rather than text, or None when it looks like text."""
    for bom, encoding in _BOMS:
        if encoding != "utf-8-sig" and data.startswith(bom):
            return _after_wide_bom(data, encoding)
    if bomless_wide_encoding(data) is not None:
        return None
    sample = data[:8192]
    if b"\x00" in sample:
        return "binary content (NUL bytes)"
    controls = sum(1 for byte in sample if (byte < 0x20 and byte not in b"\t\n\r\f\v\x1b") or byte == 0x7F)
    if sample and controls / len(sample) > 0.05:
        return f"binary content ({controls / len(sample):.0%} control characters)"
    return None


def _after_wide_bom(data: bytes, encoding: str) -> str | None:
    """`binary_reason` of bytes starting with a UTF-16 or UTF-32 byte-order mark: binary when the decoded start holds
    NULs or control characters as `binary_reason` counts them in other text (FF FE is also how some binary formats
    begin). A decoding error is left to `decode_bytes`, which names the mark."""
    unit = 4 if encoding == "utf-32" else 2
    text = data[: 8192 - 8192 % unit].decode(encoding, errors="replace")
    controls = sum(1 for ch in text if (ch < "\x20" and ch not in "\t\n\r\f\v\x1b") or ch == "\x7f")
    if "\x00" in text:
        return f"binary content (NUL characters after a {encoding} mark)"
    if text and controls / len(text) > 0.05:
        return f"binary content ({controls / len(text):.0%} control characters after a {encoding} mark)"
    return None


def sniff_declared_charset(data: bytes) -> str | None:
    """Charset declared in-band near the start: ``<meta charset>`` / http-equiv, or the XML declaration."""
    match = _DECLARED_CHARSET.search(data[:4096])
    if not match:
        return None
    return (match.group(1) or match.group(2)).decode("ascii")


def normalize_encoding(name: str | None) -> str | None:
    """Python codec name for a charset label, or None when unknown (e.g. ``"x-user-defined"``)."""
    if not name:
        return None
    try:
        return codecs.lookup(name.strip().strip("\"'")).name
    except LookupError:
        return None


def plausibility(text: str) -> float:
    """Share of letters in `text` that do not look like mojibake (1.0 = clean)."""
    sample = text[:_SAMPLE_CHARS]
    penalty = sum(3 for ch in sample if _is_bad_char(ch))
    letters = 0
    for word in _letter_runs(sample):
        letters += len(word)
        scripts = {script for ch in word if (script := _script(ch)) is not None}
        if len(scripts) > 1:
            penalty += len(word)
        elif scripts == {"LATIN"} and len(word) >= 2:
            non_ascii = sum(1 for ch in word if ord(ch) > 0x7F)
            if non_ascii * 2 > len(word):
                penalty += non_ascii
    if letters == 0:
        return 0.0 if penalty else 1.0
    return max(0.0, 1.0 - penalty / letters)


def _best_candidate(data: bytes, declared: str | None) -> tuple[str, str]:
    best: tuple[float, str, str] | None = None
    seen_texts: set[str] = set()
    for encoding in _candidates(data, declared):
        try:
            text = data.decode(encoding)
        except (UnicodeDecodeError, LookupError):
            continue
        if text in seen_texts:
            continue
        seen_texts.add(text)
        score = plausibility(text)
        if best is None or score > best[0]:
            best = (score, text, encoding)
    if best is None:
        raise UndecodableError("no encoding could decode the bytes")
    score, text, encoding = best
    if score < MIN_PLAUSIBILITY:
        raise UndecodableError(
            f"bytes are not valid UTF-8 and no encoding gives plausible text "
            f"(best guess {encoding}, plausibility {score:.2f} < {MIN_PLAUSIBILITY})"
        )
    return text, encoding


def _candidates(data: bytes, declared: str | None) -> list[str]:
    names: list[str] = []
    declared_name = normalize_encoding(declared)
    if declared_name:
        names.append(declared_name)
    names.extend(_FALLBACK_ENCODINGS)
    for match in list(charset_normalizer.from_bytes(data[:262_144]))[:3]:
        names.append(match.encoding)
    unique: list[str] = []
    for name in names:
        normalized = normalize_encoding(name)
        if normalized and normalized not in unique:
            unique.append(normalized)
    return unique


def _mixed_lines(data: bytes, declared: str | None) -> tuple[str, str] | None:
    """Lines partly UTF-8, partly in a legacy encoding: each decoded in its own; None when not mixed.

    A line is "legacy" when most of its non-ASCII bytes are invalid UTF-8 (a latin-1 or cp1256 line), and
    "UTF-8" when it decodes strictly with non-ASCII characters; a UTF-8 line with a few corrupt bytes is
    neither, and is decoded as UTF-8 with U+FFFD replacements."""
    lines = data.splitlines(keepends=True)
    utf8_lines, legacy = 0, []
    for number, line in enumerate(lines):
        if line.isascii():
            continue
        try:
            line.decode("utf-8")
            utf8_lines += 1
            continue
        except UnicodeDecodeError:
            pass
        text = line.decode("utf-8", errors="replace")
        invalid = text.count("\ufffd")
        valid_multibyte = len(text) - len(text.encode("ascii", errors="ignore")) - invalid
        if invalid > valid_multibyte:
            legacy.append(number)
    if not utf8_lines or not legacy:
        return None
    joined = b"".join(lines[n] for n in legacy)
    try:
        _, encoding = _best_candidate(joined, declared)
    except UndecodableError as exc:
        raise UndecodableError(
            f"mixed encodings: {utf8_lines} line(s) are UTF-8, {len(legacy)} are in no plausible encoding ({exc})"
        ) from None
    legacy_set = set(legacy)
    parts = [
        line.decode(encoding) if number in legacy_set else line.decode("utf-8", errors="replace")
        for number, line in enumerate(lines)
    ]
    return "".join(parts), f"utf-8+{encoding}"


def _mostly_utf8(data: bytes) -> str | None:
    text = data.decode("utf-8", errors="replace")
    invalid = text.count("\ufffd")
    valid_multibyte = len(text) - len(text.encode("ascii", errors="ignore")) - invalid
    if valid_multibyte >= 10 and invalid <= valid_multibyte * 0.01:
        return text
    return None


def _letter_runs(text: str) -> list[str]:
    """Maximal runs of letters and combining marks (marks keep ``F + kasra + rderung`` one word)."""
    runs: list[str] = []
    current: list[str] = []
    for ch in text:
        if unicodedata.category(ch)[0] in "LM":
            current.append(ch)
        elif current:
            runs.append("".join(current))
            current = []
    if current:
        runs.append("".join(current))
    return runs


def _is_bad_char(ch: str) -> bool:
    if ch == "\ufffd":
        return True
    category = unicodedata.category(ch)
    if category == "Cc":
        return ch not in _ALLOWED_CONTROLS
    return category in ("Co", "Cn", "Cs")


@lru_cache(maxsize=4096)
def _script(ch: str) -> str | None:
    first = unicodedata.name(ch, "").split(" ", 1)[0]
    if first in _CJK_SCRIPTS:
        return "CJK"
    return first if first in _KNOWN_SCRIPTS else None
