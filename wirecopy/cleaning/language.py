"""Language identification (py3langid) and writing-script helpers."""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from functools import lru_cache

import numpy as np

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


SAMPLE_CHARS = 1000
"""Language is decided on the first this many characters: enough for py3langid, whose cost grows with the text."""

ARABIC_SHARE = 0.8
"""Arabic-script share of the sample's letters from which the text is taken as Arabic without py3langid."""

_ARABIC_LETTER = re.compile("[\u0620-\u064a\u066e-\u06d3\u06d5\u0750-\u077f\u08a0-\u08ff\ufb50-\ufdff\ufe70-\ufeff]")
_OTHER_ARABIC_SCRIPT_LANGUAGE = re.compile(
    "[\u067e\u0686\u0698\u06a9\u06af\u06cc\u06c0\u06d2\u0679\u0688\u0691\u06ba\u06be]"
)
"""Letters of Persian, Urdu, Kurdish … (پ چ ژ ک گ ی ۀ ے ٹ ڈ ڑ ں ھ), absent from Arabic: with any of them,
py3langid decides."""


def detect_language(text: str) -> str | None:
    """ISO 639-1 code of the text's language, None if there is too little text.

    Decided on a sample (`SAMPLE_CHARS`): a sample whose letters are ≥ 80 % Arabic script without a letter
    of the other Arabic-script languages is Arabic (no model needed); anything else goes to py3langid."""
    return detect_languages([text])[0]


def detect_languages(texts: list[str]) -> list[str | None]:
    """`detect_language` of each text; the samples that need py3langid are classified together, in one walk
    of its automaton over all of them (`langid_batch.classify_batch`: the same answers, a fraction of the time)
    when there are `BATCH_FROM` or more."""
    answers: list[str | None] = [None] * len(texts)
    to_model: list[int] = []
    samples: list[str] = []
    first = [text[:SAMPLE_CHARS] for text in texts]
    letters_of, arabic_of = letter_counts(first)
    for index, text in enumerate(texts):
        sample, letters, arabic = first[index], int(letters_of[index]), int(arabic_of[index])
        if letters < MIN_LETTERS_FOR_LANGUAGE:  # a long run of digits or symbols first: read further
            found = _sample(text)
            if found is None:
                continue
            sample, letters = found
            arabic = len(_ARABIC_LETTER.findall(sample))
        if arabic >= ARABIC_SHARE * letters and not _OTHER_ARABIC_SCRIPT_LANGUAGE.search(sample):
            answers[index] = "ar"
        else:
            to_model.append(index)
            samples.append(sample)
    if samples:
        for index, code in zip(to_model, _classify(samples), strict=True):
            code = _TO_ISO_639_1.get(str(code), str(code))
            answers[index] = code if len(code) == 2 else None
    return answers


def letter_counts(texts: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """For each text, how many of its characters are letters (`str.isalpha`) and how many `_ARABIC_LETTER`s: all
    texts at once, by code point tables (a character at a time, the two counts took a third of the language
    decision of an Arabic article)."""
    lengths = np.fromiter(map(len, texts), dtype=np.int64, count=len(texts))
    codes = np.frombuffer("".join(texts).encode("utf-32-le", "surrogatepass"), dtype=np.uint32)
    letters_table, arabic_table = _code_point_tables()
    index = np.minimum(codes, _BEYOND_PLANE)  # the tables' last entry, False, beyond the basic plane
    letters, arabic = letters_table[index], arabic_table[index]
    for position in np.flatnonzero(codes >= _BEYOND_PLANE).tolist():  # rare; no Arabic letter there
        letters[position] = chr(codes[position]).isalpha()
    return _sums(letters, lengths), _sums(arabic, lengths)


_BEYOND_PLANE = 0x10000


def _sums(flags: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """The number of True `flags` in each text's span (texts end to end, of `lengths` characters)."""
    totals = np.zeros(len(lengths), dtype=np.int64)
    starts = np.cumsum(lengths) - lengths
    nonempty = lengths > 0  # reduceat would give an empty span its first element
    if nonempty.any():
        totals[nonempty] = np.add.reduceat(flags, starts[nonempty], dtype=np.int64)
    return totals


@lru_cache(maxsize=1)
def _code_point_tables() -> tuple[np.ndarray, np.ndarray]:
    """`str.isalpha` and `_ARABIC_LETTER` of every code point of the basic plane, as two boolean tables (one more
    entry, False, stands for the code points beyond it)."""
    plane = "".join(map(chr, range(_BEYOND_PLANE)))  # one character per code point (surrogates included, unpaired)
    letters = np.zeros(_BEYOND_PLANE + 1, dtype=bool)  # … and False for any code point beyond
    letters[:_BEYOND_PLANE] = np.fromiter(map(str.isalpha, plane), dtype=bool, count=len(plane))
    arabic = np.zeros(_BEYOND_PLANE + 1, dtype=bool)
    arabic[[match.start() for match in _ARABIC_LETTER.finditer(plane)]] = True
    return letters, arabic


BATCH_FROM = 16
"""From this many samples on, py3langid's automaton walks all of them at once; fewer go one by one (a step of
the batch walk costs about what a text's whole step does in py3langid's own loop)."""


def _classify(samples: list[str]) -> list[str]:
    """py3langid's code for each sample (the model is loaded on first use: ≈ 0.15 s from the cache, 0.4 s by
    py3langid itself: `langid_model`)."""
    from wirecopy.cleaning import langid_batch, langid_model

    langid_model.install()
    if len(samples) >= BATCH_FROM:
        return langid_batch.classify_batch(samples)
    import py3langid

    return [py3langid.classify(sample)[0] for sample in samples]


def _sample(text: str) -> tuple[str, int] | None:
    """The first `SAMPLE_CHARS` characters, or further when they hold too few letters, and its letter count;
    None: too little text."""
    sample = text[:SAMPLE_CHARS]
    letters = sum(map(str.isalpha, sample))
    if letters < MIN_LETTERS_FOR_LANGUAGE:  # a long run of digits or symbols first
        sample = text[:20000]
        letters = sum(map(str.isalpha, sample))
        if letters < MIN_LETTERS_FOR_LANGUAGE:
            return None
    return sample, letters
