"""Language identification (py3langid) and writing-script helpers."""

from __future__ import annotations

import unicodedata
from collections import Counter
from functools import lru_cache

MIN_LETTERS_FOR_LANGUAGE = 20
"""Below this many letters a language guess is noise, so `detect_language` returns None."""

_TO_ISO_639_1 = {"ary": "ar", "arz": "ar", "yue": "zh", "wuu": "zh", "gug": "gn", "uzs": "uz", "sdh": "ku"}
"""py3langid answers a few dialect / ISO 639-3 codes; these map to their ISO 639-1 macro-language."""

_RANGES: tuple[tuple[int, int, str], ...] = (
    (0x0041, 0x024F, "latin"),
    (0x0370, 0x03FF, "greek"),
    (0x0400, 0x052F, "cyrillic"),
    (0x0530, 0x058F, "armenian"),
    (0x0590, 0x05FF, "hebrew"),
    (0x0600, 0x06FF, "arabic"),
    (0x0750, 0x077F, "arabic"),
    (0x08A0, 0x08FF, "arabic"),
    (0x1E00, 0x1EFF, "latin"),
    (0xFB50, 0xFDFF, "arabic"),
    (0xFE70, 0xFEFF, "arabic"),
)


@lru_cache(maxsize=4096)
def script_of(char: str) -> str | None:
    """Writing script of one character (lower-case name), None for non-letters."""
    if not char.isalpha():
        return None
    code = ord(char)
    for low, high, name in _RANGES:
        if low <= code <= high:
            return name
    return unicodedata.name(char, "unknown").split(" ")[0].lower()


def script_counts(text: str) -> Counter[str]:
    """Number of letters per script."""
    counts: Counter[str] = Counter()
    for char in text:
        script = script_of(char)
        if script:
            counts[script] += 1
    return counts


def dominant_script(text: str, min_letters: int = 1) -> str | None:
    """The script holding most letters, or None when there are fewer than `min_letters` letters."""
    counts = script_counts(text)
    if sum(counts.values()) < min_letters:
        return None
    return counts.most_common(1)[0][0]


def detect_language(text: str) -> str | None:
    """ISO 639-1 code of the text's language (py3langid), None if there is too little text."""
    letters = sum(1 for char in text if char.isalpha())
    if letters < MIN_LETTERS_FOR_LANGUAGE:
        return None
    import py3langid  # imported lazily: loading the model costs ~0.4 s

    code, _score = py3langid.classify(text[:20000])
    code = _TO_ISO_639_1.get(str(code), str(code))
    return code if len(code) == 2 else None
