"""JSONL connector: one document per line; a bad line is an error for path#L<n>, not for the file."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from wirecopy.connectors.files import SourceLimits, read_file
from wirecopy.connectors.jsonl import JsonlFields, parse_datetime

from wirecopy.models import ContentType, IngestError, RawDocument, content_hash


def write_lines(path: Path, lines: list[str]) -> Path:
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_records_and_bad_lines(tmp_path: Path) -> None:
    path = write_lines(
        tmp_path / "dump.jsonl",
        [
            json.dumps(
                {
                    "text": "نص الخبر",
                    "url": "https://e.org/1",
                    "outlet": "ahram",
                    "title": "عنوان",
                    "published_at": "2024-01-02T03:04:05+02:00",
                }
            ),
            "",
            '{"text": "broken',
            json.dumps({"title": "no text"}),
            json.dumps(["not", "an", "object"]),
            json.dumps({"html": "<p>x</p>"}),
            json.dumps({"text": "bad date", "published_at": "next tuesday"}),
            json.dumps({"text": 42}),
        ],
    )
    results = list(read_file(path))
    uri = str(path)
    assert [r.source_uri for r in results] == [f"{uri}#L{n}" for n in (1, 3, 4, 5, 6, 7, 8)]
    first, broken, no_text, array, html, bad_date, wrong_type = results
    assert isinstance(first, RawDocument)
    assert first.outlet == "ahram" and first.title == "عنوان" and first.url == "https://e.org/1"
    assert first.content_hash == content_hash("نص الخبر")
    assert first.published_at == datetime(2024, 1, 2, 3, 4, 5, tzinfo=timezone(timedelta(hours=2)))
    assert first.fetched_at is not None and first.fetched_at.tzinfo is not None
    assert isinstance(html, RawDocument) and html.content_type is ContentType.HTML and html.outlet == "dump"
    for error, words in [
        (broken, "invalid JSON"),
        (no_text, "no article text"),
        (array, "expected a JSON object"),
        (bad_date, "not a date"),
        (wrong_type, "must be a string"),
    ]:
        assert isinstance(error, IngestError)
        assert words in error.reason
        assert error.source_uri in error.reason


def test_configurable_and_nested_fields(tmp_path: Path) -> None:
    path = write_lines(
        tmp_path / "custom.jsonl",
        [json.dumps({"body_text": "Hello", "meta": {"site": "wire", "ts": 1_700_000_000}, "link": "u"})],
    )
    fields = JsonlFields(text="body_text", outlet="meta.site", published_at=("meta.ts",))
    [doc] = list(read_file(path, limits=SourceLimits(jsonl_fields=fields)))
    assert isinstance(doc, RawDocument)
    assert (doc.content, doc.outlet, doc.url) == ("Hello", "wire", "u")
    assert doc.published_at == datetime.fromtimestamp(1_700_000_000, tz=UTC)


def test_line_over_limit_is_skipped_not_fatal(tmp_path: Path) -> None:
    path = write_lines(tmp_path / "big.jsonl", [json.dumps({"text": "x" * 500}), json.dumps({"text": "small"})])
    results = list(read_file(path, limits=SourceLimits(max_bytes=100)))
    assert isinstance(results[0], IngestError) and "longer than 100 bytes" in results[0].reason
    assert isinstance(results[1], RawDocument) and results[1].content == "small"
    assert results[1].source_uri.endswith("#L2")


def test_file_of_blank_lines_is_an_error(tmp_path: Path) -> None:
    path = write_lines(tmp_path / "blank.jsonl", ["", "   "])
    [error] = list(read_file(path))
    assert isinstance(error, IngestError) and "no records" in error.reason


def test_cp1256_line_is_decoded(tmp_path: Path) -> None:
    path = tmp_path / "legacy.jsonl"
    path.write_bytes(json.dumps({"text": "القاهرة عاصمة مصر"}, ensure_ascii=False).encode("cp1256") + b"\n")
    [doc] = list(read_file(path))
    assert isinstance(doc, RawDocument) and doc.content == "القاهرة عاصمة مصر"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2024-05-06", datetime(2024, 5, 6, tzinfo=UTC)),
        ("2024-05-06T07:08:09Z", datetime(2024, 5, 6, 7, 8, 9, tzinfo=UTC)),
        ("Mon, 06 May 2024 07:08:09 GMT", datetime(2024, 5, 6, 7, 8, 9, tzinfo=UTC)),
        (1_714_979_289_000, datetime(2024, 5, 6, 7, 8, 9, tzinfo=UTC)),
    ],
)
def test_parse_datetime(value: object, expected: datetime) -> None:
    assert parse_datetime(value) == expected


@pytest.mark.parametrize(
    ("line", "refused"),
    [
        ('{"text": "a \\ud800 b"}', True),  # escaped lone surrogate
        ('{"text": "ok", "\\uDC00": 1}', True),  # upper-case escape, in a key
        ('{"text": ["x", {"deep": "\\udbff"}]}', True),  # nested
        ('{"text": "a \\\\ud800 b"}', False),  # an escaped backslash, then the letters: no surrogate
        ('{"text": "\\u00e9t\\u00e9 \\ud83d\\ude00"}', False),  # a surrogate pair is one character
        ('{"text": "plain"}', False),
    ],
)
@pytest.mark.parametrize("strict_utf8", [True, False])
def test_a_line_is_refused_only_for_a_lone_surrogate(line: str, refused: bool, strict_utf8: bool) -> None:
    from wirecopy.connectors.jsonl import JsonlRecordError, _parse_line

    if refused:
        with pytest.raises(JsonlRecordError, match="lone surrogate"):
            _parse_line(line, strict_utf8)
    else:
        assert isinstance(_parse_line(line, strict_utf8), dict)


def test_a_lone_surrogate_a_guessed_codec_decoded_is_refused() -> None:
    """UTF-7 decodes `+2AA-` to U+D800 itself: a line not decoded as strict UTF-8 is always walked."""
    from wirecopy.connectors.jsonl import JsonlRecordError, _parse_line

    line = b'{"text": "a +2AA- b"}'.decode("utf-7")
    with pytest.raises(JsonlRecordError, match="lone surrogate"):
        _parse_line(line, strict_utf8=False)


def test_a_file_line_with_an_escaped_lone_surrogate_is_an_error_and_the_rest_loads(tmp_path: Path) -> None:
    path = write_lines(
        tmp_path / "mixed.jsonl",
        ['{"text": "first"}', '{"text": "bad \\udc80 one"}', json.dumps({"text": "é \U0001f600"})],
    )
    first, error, last = read_file(path)
    assert isinstance(first, RawDocument) and first.content == "first"
    assert isinstance(error, IngestError) and error.source_uri.endswith("#L2") and "lone surrogate" in error.reason
    assert isinstance(last, RawDocument) and last.content == "é \U0001f600"
