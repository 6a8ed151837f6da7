"""Split text into paragraphs: every non-empty line is one paragraph (blank lines carry no meaning)."""

from __future__ import annotations


def numbered_lines(text: str) -> list[tuple[int, str]]:
    """Non-empty lines with their 1-based line number in `text`, whitespace-trimmed."""
    return [(number, line.strip()) for number, line in enumerate(text.splitlines(), start=1) if line.strip()]


def split_paragraphs(text: str) -> list[str]:
    """Paragraphs of `text`: its non-empty lines, trimmed, in order."""
    return [line for _number, line in numbered_lines(text)]
