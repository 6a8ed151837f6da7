"""File connector: files, directories, globs, bad input, sidecars, deterministic order."""

from __future__ import annotations

import os
import shutil
from datetime import UTC, datetime
from pathlib import Path

import pytest
from wirecopy.connectors.files import SourceLimits, not_article_error, read_file, sniff_kind
from wirecopy.connectors.sources import is_url, iter_sources, plan_files

from wirecopy.models import ContentType, IngestError, RawDocument, content_hash

FIXTURES = Path(__file__).parent / "fixtures" / "connectors"
SEEDS = Path(__file__).parent.parent / "seeds"


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    root = tmp_path / "tree"
    shutil.copytree(FIXTURES / "tree", root)
    return root


def only_documents(results: list[RawDocument | IngestError]) -> list[RawDocument]:
    errors = [r for r in results if isinstance(r, IngestError)]
    assert not errors, errors
    return results  # type: ignore[return-value]


def test_text_file_fields(tmp_path: Path) -> None:
    path = tmp_path / "story.txt"
    path.write_text("مرحبا بالعالم\n", encoding="utf-8")
    os.utime(path, (1_700_000_000, 1_700_000_000))
    [doc] = only_documents(list(read_file(path)))
    assert doc.source_uri == str(path.absolute())
    assert doc.content == "مرحبا بالعالم\n"
    assert doc.content_type is ContentType.TEXT
    assert doc.content_hash == content_hash("مرحبا بالعالم\n")
    assert doc.fetched_at == datetime.fromtimestamp(1_700_000_000, tz=UTC)
    assert doc.fetched_at.tzinfo is not None
    assert doc.outlet == "story"


def test_cp1256_file_is_decoded(tmp_path: Path) -> None:
    text = "قالت وزارة الخارجية المصرية في بيان اليوم إن الاجتماع سيعقد في القاهرة."
    path = tmp_path / "arabic.txt"
    path.write_bytes(text.encode("cp1256"))
    [doc] = only_documents(list(read_file(path)))
    assert doc.content == text
    assert doc.content_hash == content_hash(text)


def test_bom_is_stripped_from_content(tmp_path: Path) -> None:
    path = tmp_path / "bom.txt"
    path.write_bytes("Bonjour".encode("utf-8-sig"))
    [doc] = only_documents(list(read_file(path)))
    assert doc.content == "Bonjour"


def test_html_meta_charset_is_used(tmp_path: Path) -> None:
    html = '<html><head><meta charset="windows-1256"></head><body><p>مصر</p></body></html>'
    path = tmp_path / "page.htm"
    path.write_bytes(html.encode("cp1256"))
    [doc] = only_documents(list(read_file(path)))
    assert doc.content == html
    assert doc.content_type is ContentType.HTML


@pytest.mark.parametrize(
    ("content", "kind"),
    [
        ("<!DOCTYPE html>\n<html><body>x</body></html>", "html"),
        ("  <html lang='ar'><p>x</p></html>", "html"),
        ('<?xml version="1.0"?>\n<!-- c -->\n<html><p>x</p></html>', "html"),
        ('{"text": "a"}\n{"text": "b"}\n', "jsonl"),
        ("Plain words <b>with</b> a tag later.", "text"),
        ("{not json", "text"),
    ],
)
def test_sniffing_unknown_extensions(tmp_path: Path, content: str, kind: str) -> None:
    assert sniff_kind(content) == kind
    path = tmp_path / "article.dat"
    path.write_text(content, encoding="utf-8")
    results = list(read_file(path))
    if kind == "jsonl":
        assert [r.source_uri for r in results] == [f"{path}#L1", f"{path}#L2"]
    else:
        [doc] = only_documents(results)
        assert doc.content_type == kind


def test_extension_wins_over_content(tmp_path: Path) -> None:
    path = tmp_path / "looks_like.txt"
    path.write_text("<!doctype html><html></html>", encoding="utf-8")
    [doc] = only_documents(list(read_file(path)))
    assert doc.content_type is ContentType.TEXT


@pytest.mark.parametrize(
    ("name", "data", "stage", "reason"),
    [
        ("empty.txt", b"", "read", "is empty"),
        ("blank.txt", b"  \n\t\n", "read", "whitespace only"),
        ("image.txt", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00", "decode", "NUL bytes"),
        ("controls.txt", bytes(range(1, 9)) * 40, "decode", "control characters"),
        ("garbage.txt", bytes(range(0x80, 0x100)) * 4, "decode", "cannot be decoded"),
    ],
)
def test_bad_files_become_errors(tmp_path: Path, name: str, data: bytes, stage: str, reason: str) -> None:
    path = tmp_path / name
    path.write_bytes(data)
    [error] = list(read_file(path))
    assert isinstance(error, IngestError)
    assert error.source_uri == str(path)
    assert error.stage == stage
    assert reason in error.reason
    assert str(path) in error.reason


def test_file_over_size_limit(tmp_path: Path) -> None:
    path = tmp_path / "big.txt"
    path.write_text("x" * 2000, encoding="utf-8")
    [error] = list(read_file(path, limits=SourceLimits(max_bytes=1000)))
    assert isinstance(error, IngestError)
    assert "2000 bytes, over the limit of 1000 bytes" in error.reason


def test_default_size_limit_is_20_mb() -> None:
    assert SourceLimits().max_bytes == 20 * 1024 * 1024


def test_missing_path_is_an_error(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere" / "gone.txt"
    [error] = list(iter_sources([str(missing)]))
    assert isinstance(error, IngestError)
    assert error.stage == "read"
    assert str(missing) in error.reason
    assert "does not exist" in error.reason
    [direct] = list(read_file(missing))
    assert isinstance(direct, IngestError) and "does not exist" in direct.reason


def test_invalid_sidecar_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / "a.txt"
    path.write_text("text", encoding="utf-8")
    (tmp_path / "a.txt.meta.json").write_text('{"outlet": "x", "colour": "red"}', encoding="utf-8")
    [error] = list(read_file(path))
    assert isinstance(error, IngestError)
    assert "a.txt.meta.json" in error.reason and "colour" in error.reason


def test_directory_walk_outlets_and_skips(tree: Path) -> None:
    results = list(iter_sources([str(tree)]))
    documents = [r for r in results if isinstance(r, RawDocument)]
    by_path = {Path(d.source_uri.split("#")[0]).relative_to(tree).as_posix(): d for d in documents}
    assert {key: d.outlet for key, d in by_path.items() if not key.endswith(".jsonl")} == {
        "agence/dispatch.html": "afp",
        "bbc/story.txt": "bbc-news",
        "reuters/2024/story.txt": "reuters",
        "sidecar/story.txt": "override",
        "standalone.txt": "standalone",
        "wire_001.txt": "wire-service",
    }
    uris = [r.source_uri for r in results]
    assert not any(".hidden" in u or ".cache" in u or u.endswith((".toml", ".meta.json")) for u in uris)
    sidecar_doc = by_path["sidecar/story.txt"]
    assert sidecar_doc.title == "Sidecar title"
    assert sidecar_doc.url == "https://example.org/a"
    assert sidecar_doc.published_at == datetime(2024, 3, 1, 10, 0, tzinfo=UTC)
    assert by_path["agence/dispatch.html"].content_type is ContentType.HTML


def test_directory_output_is_sorted_and_deterministic(tree: Path) -> None:
    first = [r.source_uri for r in iter_sources([str(tree)])]
    second = [r.source_uri for r in iter_sources([str(tree)])]
    assert first == second
    relative = [Path(u.split("#")[0]).relative_to(tree).parts for u in first]
    assert relative == sorted(relative)


def test_jsonl_in_tree_mixes_records_and_line_errors(tree: Path) -> None:
    results = [r for r in iter_sources([str(tree)]) if "records.jsonl" in r.source_uri]
    uri = str(tree / "records.jsonl")
    assert [(type(r).__name__, r.source_uri) for r in results] == [
        ("RawDocument", f"{uri}#L1"),
        ("RawDocument", f"{uri}#L3"),
        ("IngestError", f"{uri}#L4"),
        ("IngestError", f"{uri}#L5"),
    ]
    assert results[0].outlet == "records"
    assert results[1].outlet == "inline-outlet"


def test_glob_uses_literal_prefix_as_root(tree: Path) -> None:
    results = list(iter_sources([str(tree / "*" / "*.txt")]))
    documents = only_documents(results)
    assert [(Path(d.source_uri).relative_to(tree).as_posix(), d.outlet) for d in documents] == [
        ("bbc/story.txt", "bbc-news"),
        ("sidecar/story.txt", "override"),
    ]
    recursive = only_documents(list(iter_sources([str(tree / "**" / "story.txt")])))
    assert [d.outlet for d in recursive] == ["bbc-news", "reuters", "override"]


def test_glob_without_matches_is_an_error(tmp_path: Path) -> None:
    [error] = list(iter_sources([str(tmp_path / "*.nothing")]))
    assert isinstance(error, IngestError)
    assert "does not exist" in error.reason or "no article files" in error.reason


def test_same_file_from_two_sources_is_read_once(tree: Path) -> None:
    results = list(iter_sources([str(tree / "standalone.txt"), str(tree), str(tree / "*.txt")]))
    uris = [r.source_uri for r in results]
    assert len(uris) == len(set(uris))
    assert uris[0] == str(tree / "standalone.txt")


def test_single_file_outlet_is_stem(tree: Path) -> None:
    [doc] = only_documents(list(iter_sources([str(tree / "reuters" / "2024" / "story.txt")])))
    assert doc.outlet == "story"


def test_seed_files_each_get_their_stem_as_outlet() -> None:
    documents = only_documents(list(iter_sources([str(SEEDS)])))
    assert len(documents) == 5
    assert [d.outlet for d in documents] == sorted(p.stem for p in SEEDS.glob("*.txt"))
    assert all(d.content_type is ContentType.TEXT and d.content.strip() for d in documents)


def test_explicit_sidecar_source_is_refused(tree: Path) -> None:
    [error] = list(iter_sources([str(tree / "outlets.toml")]))
    assert isinstance(error, IngestError) and "metadata file" in error.reason


def test_empty_directory_is_an_error(tmp_path: Path) -> None:
    [error] = list(iter_sources([str(tmp_path)]))
    assert isinstance(error, IngestError) and "contains no article files" in error.reason


def test_errors_of_relative_sources_name_them_by_absolute_path(tmp_path: Path, monkeypatch) -> None:
    """One problem, one error row: the same folder given from two working directories is named the same."""
    (tmp_path / "empty").mkdir()
    monkeypatch.chdir(tmp_path)
    _, errors = plan_files(["empty/", "missing.txt", "empty/*.txt"])
    assert [(e.source_uri, e.reason) for e in errors] == [
        (str(tmp_path / "empty"), f"directory {tmp_path / 'empty'} contains no article files"),
        (str(tmp_path / "missing.txt"), f"{tmp_path / 'missing.txt'} does not exist"),
        (str(tmp_path / "empty" / "*.txt"), f"glob {tmp_path / 'empty' / '*.txt'} contains no article files"),
    ]
    monkeypatch.chdir(tmp_path.parent)
    _, again = plan_files([f"{tmp_path.name}/empty"])
    assert (again[0].source_uri, again[0].reason) == (errors[0].source_uri, errors[0].reason)
    monkeypatch.chdir(tmp_path / "empty")
    _, upward = plan_files(["../empty/."])  # `..` and `.` parts do not make another name
    assert (upward[0].source_uri, upward[0].reason) == (errors[0].source_uri, errors[0].reason)


def test_documents_of_a_folder_given_with_dot_dot_are_named_without_it(tmp_path: Path, monkeypatch) -> None:
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "a.txt").write_text("A paragraph long enough to be an article of its own.", encoding="utf-8")
    (tmp_path / "work").mkdir()
    monkeypatch.chdir(tmp_path / "work")
    for given in ("../in", "../in/a.txt", "../in/*.txt"):
        [doc] = list(iter_sources([given]))
        assert isinstance(doc, RawDocument) and doc.source_uri == str(tmp_path / "in" / "a.txt"), given


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("https://example.org/a", True),
        ("HTTP://Example.org", True),
        ("  http://example.org/x  ", True),
        ("ftp://example.org/a", False),
        ("http:///nohost", False),
        ("seeds/000.txt", False),
        ("C:/data/file.txt", False),
    ],
)
def test_is_url(source: str, expected: bool) -> None:
    assert is_url(source) is expected


def test_hidden_file_given_explicitly_is_read(tmp_path: Path) -> None:
    path = tmp_path / ".draft.txt"
    path.write_text("explicitly requested", encoding="utf-8")
    [doc] = only_documents(list(iter_sources([str(path)])))
    assert doc.content == "explicitly requested"


def test_a_folder_walk_skips_types_no_article_comes_as(tmp_path: Path) -> None:
    """Images, spreadsheets and binaries dropped beside the articles are left out of a folder or a glob; a file
    of unknown or no extension is still read (sniffed), and a file or glob that names the type is read."""
    (tmp_path / "story.txt").write_text("an article", encoding="utf-8")
    (tmp_path / "no-extension").write_text("another article", encoding="utf-8")
    (tmp_path / "photo.JPG").write_bytes(b"\xff\xd8\xff\xe0" + bytes(200))
    (tmp_path / "data.csv").write_text("a,b\n1,2\n", encoding="utf-8")
    (tmp_path / "tool.bin").write_bytes(bytes(range(256)))
    walked = list(iter_sources([str(tmp_path)]))
    assert all(isinstance(item, RawDocument) for item in walked)
    assert sorted(Path(doc.source_uri).name for doc in walked) == ["no-extension", "story.txt"]
    globbed = only_documents(list(iter_sources([str(tmp_path / "*")])))
    assert sorted(Path(doc.source_uri).name for doc in globbed) == ["no-extension", "story.txt"]
    [csv] = only_documents(list(iter_sources([str(tmp_path / "*.csv")])))
    assert csv.content == "a,b\n1,2\n"
    [named] = only_documents(list(iter_sources([str(tmp_path / "data.csv")])))
    assert named.source_uri == csv.source_uri


def test_a_folder_of_nothing_but_other_types_is_an_error(tmp_path: Path) -> None:
    (tmp_path / "photo.png").write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(100))
    [error] = list(iter_sources([str(tmp_path)]))
    assert isinstance(error, IngestError) and "contains no article files" in error.reason


def test_not_article_error_refuses_types_no_article_comes_as(tmp_path: Path) -> None:
    error = not_article_error(tmp_path / "data.CSV")
    assert isinstance(error, IngestError) and error.stage == "read"
    assert error.source_uri == str(tmp_path / "data.CSV")
    assert error.reason.startswith("not an article file type (.csv): ") and str(tmp_path / "data.CSV") in error.reason
    assert not_article_error(tmp_path / "scan.pdf") is not None and not_article_error(tmp_path / "a.svg") is not None
    for name in ("story.txt", "page.html", "feed.jsonl", "no-extension", "notes.md"):
        assert not_article_error(tmp_path / name) is None
    assert not_article_error(tmp_path / "data.csv", wanted_suffix=".csv") is None  # a glob asked for it


def test_a_walk_of_every_type_refuses_types_no_article_comes_as(tmp_path: Path) -> None:
    """`all_types` (the inbox): such a file is an input error, not read; a glob naming the suffix still reads it."""
    (tmp_path / "story.txt").write_text("an article", encoding="utf-8")
    (tmp_path / "data.csv").write_text("a,b\n1,2\n", encoding="utf-8")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "table.tsv").write_text("a\tb\n", encoding="utf-8")
    planned, errors = plan_files([str(tmp_path)], all_types=True)
    assert [file.name for file, _ in planned] == ["story.txt"]
    assert [(e.source_uri, e.stage) for e in errors] == [
        (str(tmp_path / "data.csv"), "read"), (str(tmp_path / "sub" / "table.tsv"), "read")
    ]  # fmt: skip
    assert "not an article file type (.tsv)" in errors[1].reason
    planned, errors = plan_files([str(tmp_path / "*")], all_types=True)  # the folder `sub` it matches is walked
    assert [file.name for file, _ in planned] == ["story.txt"] and len(errors) == 2
    planned, errors = plan_files([str(tmp_path / "*.csv")], all_types=True)
    assert [file.name for file, _ in planned] == ["data.csv"] and not errors
    planned, errors = plan_files([str(tmp_path / "sub")], all_types=True)  # only a TSV: its error
    assert not planned and len(errors) == 1 and "contains no article files" not in errors[0].reason
