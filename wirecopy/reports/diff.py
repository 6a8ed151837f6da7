"""Word-level differences between a copy and the paragraph it copies, as HTML with the changed words marked."""

from __future__ import annotations

import re
from difflib import SequenceMatcher
from html import escape

_WORDS = re.compile(r"\S+|\s+")
_ARABIC = re.compile(r"[\u0600-\u06ff\u0750-\u077f\u08a0-\u08ff\ufb50-\ufdff\ufe70-\ufeff]")
_LATIN = re.compile(r"[A-Za-z]")


def is_arabic(text: str) -> bool:
    """More Arabic letters than Latin ones."""
    return len(_ARABIC.findall(text)) > len(_LATIN.findall(text))


def _key(token: str) -> str:
    return token.strip(".,;:!?«»\"'()[]،؛؟").casefold()


def marked(reference: str, text: str, css: str = "diff") -> str:
    """`text` as HTML, its words that `reference` lacks wrapped in `<mark class=css>`."""
    tokens = [t for t in _WORDS.findall(text)]
    words = [i for i, t in enumerate(tokens) if not t.isspace()]
    ref_words = [_key(t) for t in _WORDS.findall(reference) if not t.isspace()]
    matcher = SequenceMatcher(None, ref_words, [_key(tokens[i]) for i in words], autojunk=False)
    changed: set[int] = set()
    for tag, _, _, j1, j2 in matcher.get_opcodes():
        if tag in ("replace", "insert"):
            changed.update(words[j1:j2])
    out = []
    for i, token in enumerate(tokens):
        out.append(f'<mark class="{css}">{escape(token)}</mark>' if i in changed else escape(token))
    return "".join(out)
