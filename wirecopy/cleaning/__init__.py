"""Boilerplate removal and paragraph splitting (Prefect-free).

`clean_plaintext` for text, `extract_html` (trafilatura) + `clean_plaintext` for HTML.
The HTML names are imported lazily so that plain-text users do not pay for importing trafilatura.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from wirecopy.cleaning.language import detect_language
from wirecopy.cleaning.paragraphs import split_paragraphs
from wirecopy.cleaning.plaintext import CleanedText, clean_plaintext
from wirecopy.cleaning.rules import RuleSet, load_rules

if TYPE_CHECKING:
    from wirecopy.cleaning.html import ExtractedHtml, canonicalize_url, clean_html, extract_html

__all__ = [
    "CleanedText",
    "ExtractedHtml",
    "RuleSet",
    "canonicalize_url",
    "clean_html",
    "clean_plaintext",
    "detect_language",
    "extract_html",
    "load_rules",
    "split_paragraphs",
]

_HTML_NAMES = {"ExtractedHtml", "canonicalize_url", "clean_html", "extract_html"}


def __getattr__(name: str) -> Any:
    if name in _HTML_NAMES:
        from wirecopy.cleaning import html

        return getattr(html, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
