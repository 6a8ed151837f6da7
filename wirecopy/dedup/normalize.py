"""Text normalisation for matching. The stored text stays as published; only the matching form changes.

Rules, applied in order:
1. Unicode NFKC (folds presentation forms, full-width Latin, ligatures).
2. Arabic: drop tashkeel (U+064B–U+0652, U+0670) and tatweel (U+0640); alef forms أ إ آ ٱ → ا;
   ى → ي; ة → ه; Arabic-Indic (٠-٩) and Persian (۰-۹) digits → ASCII.
3. Lower-case (affects Latin, Cyrillic, Greek; Arabic has no case).
4. Punctuation (Arabic ، ؛ ؟ « » and every Unicode P*/S* character) → space; whitespace collapsed.
Letters and digits of every script survive untouched, so Cyrillic and Latin words are never damaged.
"""

from __future__ import annotations

import re
import unicodedata

_TASHKEEL = {cp: None for cp in range(0x064B, 0x0653)} | {0x0670: None}
_ARABIC_FOLD = {
    0x0640: None,  # tatweel
    ord("أ"): "ا",
    ord("إ"): "ا",
    ord("آ"): "ا",
    ord("ٱ"): "ا",
    ord("ى"): "ي",
    ord("ة"): "ه",
}
_DIGITS = {0x0660 + i: str(i) for i in range(10)} | {0x06F0 + i: str(i) for i in range(10)}


_SCANNED_RANGES = (range(0x0000, 0x10000), range(0x1F000, 0x1FB00))  # BMP + emoji/symbol planes


def _punctuation_table() -> dict[int, str | None]:
    """Punctuation, symbols, separators and controls → space; invisible format marks (ZWNJ, RLM) dropped."""
    table: dict[int, str | None] = {}
    for block in _SCANNED_RANGES:
        for cp in block:
            category = unicodedata.category(chr(cp))
            if category == "Cf":
                table[cp] = None
            elif category[0] in "PSZ" or category == "Cc":
                table[cp] = " "
    return table


_TRANSLATE = {**_punctuation_table(), **_TASHKEEL, **_ARABIC_FOLD, **_DIGITS}
# NFKC can turn a few compatibility characters into tashkeel again, hence translating after it.
_SPACES = re.compile(r"\s+")


def normalize_for_matching(text: str) -> str:
    """Return the matching form of `text` (see module docstring for the rules)."""
    folded = unicodedata.normalize("NFKC", text).translate(_TRANSLATE).lower()
    return _SPACES.sub(" ", folded).strip()


def tokens(normalized: str) -> list[str]:
    """Word tokens of an already normalised text."""
    return normalized.split()
