"""Boilerplate removal and paragraph splitting (Prefect-free).

`clean_plaintext` for text, `extract_html` (trafilatura) + `clean_plaintext` for HTML.
The names below are imported when first used: plain-text users do not pay for importing trafilatura, and the
settings (`wirecopy.cleaning.learned`'s `BoilerplateSettings`) do not import the rules and the language model's
code (≈ 0.1 s of a command's start).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from wirecopy.cleaning.html import ExtractedHtml, canonicalize_url, clean_html, extract_html
    from wirecopy.cleaning.language import detect_language
    from wirecopy.cleaning.paragraphs import split_paragraphs
    from wirecopy.cleaning.plaintext import CleanedText, clean_plaintext
    from wirecopy.cleaning.rules import RuleSet, load_rules

_MODULE_OF = {
    "ExtractedHtml": "html", "canonicalize_url": "html", "clean_html": "html", "extract_html": "html",
    "detect_language": "language",
    "split_paragraphs": "paragraphs",
    "CleanedText": "plaintext", "clean_plaintext": "plaintext",
    "RuleSet": "rules", "load_rules": "rules",
}  # fmt: skip

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


def __getattr__(name: str) -> Any:
    if name in _MODULE_OF:
        return getattr(importlib.import_module(f"{__name__}.{_MODULE_OF[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
