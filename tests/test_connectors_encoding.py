"""Encoding detection: real byte strings in each encoding must round-trip exactly."""

from __future__ import annotations

import pytest
from wirecopy.connectors.encoding import UndecodableError, binary_reason, decode_bytes, plausibility
from wirecopy.connectors.files import read_file

from wirecopy.models import IngestError

ARABIC = (
    "شنت أذربيجان عملية عسكرية جديدة ضد أرمينيا، اليوم الثلاثاء، للسيطرة على منطقة الصراع في إقليم ناجورنو كاراباخ."
)
FRENCH = "Le président français a déclaré mercredi qu'il était prêt à négocier. Où est l'été ? Ça va, Noël. ÉTAT"
GERMAN = "Die Bundesregierung hat beschlossen, die Förderung für Elektroautos zu kürzen. Größe, Straße, Übung, Öl."
RUSSIAN = "Правительство России объявило в среду о новых мерах поддержки экономики."
SMART_QUOTES = "He said “hello” — and left… The café’s owner wasn’t there."


@pytest.mark.parametrize(
    ("text", "encoding", "expected_name"),
    [
        (ARABIC, "utf-8", "utf-8"),
        (ARABIC, "utf-8-sig", "utf-8-sig"),
        (ARABIC, "cp1256", "cp1256"),
        (FRENCH, "latin-1", "iso8859-1"),
        (GERMAN, "latin-1", "iso8859-1"),
        (SMART_QUOTES, "cp1252", "cp1252"),
        (RUSSIAN, "cp1251", "cp1251"),
        (GERMAN, "utf-16", "utf-16"),
    ],
)
def test_round_trips_without_mojibake(text: str, encoding: str, expected_name: str) -> None:
    decoded, name = decode_bytes(text.encode(encoding))
    assert decoded == text
    assert name == expected_name


def test_bom_is_stripped() -> None:
    decoded, _ = decode_bytes("\ufeffhello".encode())
    assert decoded == "hello"
    decoded, _ = decode_bytes("hello".encode("utf-8-sig"))
    assert decoded == "hello"


@pytest.mark.parametrize("word", ["مصر", "Zürich", "naïve café", "Ärger"])
def test_short_strings_decode(word: str) -> None:
    encoding = "cp1256" if word == "مصر" else "latin-1"
    assert decode_bytes(word.encode(encoding))[0] == word


def test_wrong_declared_charset_is_overruled_by_sanity_score() -> None:
    assert decode_bytes(ARABIC.encode("cp1256"), declared="iso-8859-1") == (ARABIC, "cp1256")
    assert decode_bytes(FRENCH.encode("latin-1"), declared="windows-1256")[0] == FRENCH


def test_declared_charset_wins_ties() -> None:
    assert decode_bytes(GERMAN.encode("cp1252"), declared="windows-1252") == (GERMAN, "cp1252")


def test_utf8_with_a_corrupt_byte_stays_utf8() -> None:
    data = (ARABIC * 3).encode() + b"\xff" + ARABIC.encode()
    text, name = decode_bytes(data)
    assert name == "utf-8/replace"
    assert text == ARABIC * 3 + "\ufffd" + ARABIC


def test_garbage_high_bytes_are_undecodable() -> None:
    with pytest.raises(UndecodableError, match="plausib"):
        decode_bytes(bytes(range(0x80, 0x100)) * 4)


def test_plausibility_separates_mojibake() -> None:
    assert plausibility(ARABIC) == 1.0
    assert plausibility(ARABIC.encode("cp1256").decode("latin-1")) < 0.2
    assert plausibility(GERMAN.encode("latin-1").decode("cp1256")) < plausibility(GERMAN)


def test_binary_reason() -> None:
    assert binary_reason(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR") == "binary content (NUL bytes)"
    assert "control characters" in (binary_reason(bytes(range(1, 32)) * 10) or "")
    assert binary_reason(ARABIC.encode("cp1256")) is None
    assert binary_reason("text".encode("utf-16")) is None


def test_binary_bytes_behind_a_wide_byte_order_mark_are_binary(tmp_path) -> None:
    """FF FE also begins binary formats: what follows must decode to text, or the file is refused as binary."""
    blob = b"\xff\xfe\x00\x01\x02\x03\x80\x81\x00\x00binary\x00\x00"
    assert "binary content" in (binary_reason(blob) or "") and "utf-16 mark" in binary_reason(blob)
    for encoding in ("utf-16", "utf-16-be", "utf-32"):
        data = ("\ufeff" if encoding == "utf-16-be" else "") + ARABIC + "\nsecond line\n"
        assert binary_reason(data.encode(encoding)) is None, encoding
    path = tmp_path / "bin.txt"
    path.write_bytes(blob)
    [error] = list(read_file(path))
    assert isinstance(error, IngestError) and error.source_uri == str(path) and "binary content" in error.reason
