"""Planning the inputs at its edges: a folder that holds the warehouse, globs matching FIFOs, broken symlinks and
folders, a FIFO named directly, and `--dry-run` agreeing with the real run (settings, non-UTF-8 file names)."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import duckdb
import pytest
from typer.testing import CliRunner
from wirecopy.connectors.sources import iter_sources, plan_files
from wirecopy.warehouse.db import session

from wirecopy.cli import app
from wirecopy.models import IngestError, RawDocument
from wirecopy.reports.build import default_report_path, write_report

runner = CliRunner()
ARTICLE = "A paragraph long enough to be an article of its own, about the harbour and its ships.\n"


def _article(path: Path, text: str = ARTICLE) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def _warehouse_folder(folder: Path, name: str = "news.duckdb") -> Path:
    """A real warehouse in `folder` with everything wirecopy keeps beside it, each holding text that would be read
    as an article if the walk took it; returns the article that lies beside them."""
    db = folder / name
    folder.mkdir(parents=True, exist_ok=True)
    with session(db, read_only=False):
        pass
    write_report(db, folder / "report.html")  # `wirecopy report`'s default --out
    write_report(db, default_report_path(db))  # a scheduled run's `news.report.html`
    writer = folder / f"{name}.writer"
    for sibling in (
        folder / f"{name}.wal",
        folder / f"{name}.lock",
        folder / f"{name}.rebuild.lock",
        folder / f"{name}.rebuild" / "notes.txt",
        folder / f"{name}.lsh" / "manifest.json",
        folder / f"{name}.runs" / "0a1b.lock",
        writer / name,
        writer / f"{name}.lsh" / "manifest.json",
        writer / f"{name}.runs" / "run.txt",
        writer / f"{name}.lock",
    ):
        _article(sibling, "wirecopy's own file, no article " * 5)
    return _article(folder / "story.txt")


def _outcome(result: RawDocument | IngestError) -> tuple[str, str]:
    """A document's name and outlet, or an error's name and reason."""
    return result.source_uri, result.outlet if isinstance(result, RawDocument) else result.reason


def _names(results: list[RawDocument | IngestError]) -> list[tuple[str, str]]:
    return [(type(r).__name__, r.source_uri) for r in results]


def test_a_folder_holding_the_warehouse_gives_only_its_articles(tmp_path: Path) -> None:
    story = _warehouse_folder(tmp_path / "drop")
    notes = _article(tmp_path / "drop" / "news-notes.txt")  # named like the warehouse, but no sibling of it
    for source in (tmp_path / "drop", tmp_path / "drop" / "*", tmp_path / "drop" / "**"):
        planned, errors = plan_files([str(source)])
        assert [file for file, _ in planned] == [notes, story] and errors == [], source
    named = tmp_path / "drop" / "news.report.html"  # a file named on its own is read as given
    assert [file for file, _ in plan_files([str(named)])[0]] == [named]


def test_a_warehouse_of_any_name_is_known_by_its_writer_folder(tmp_path: Path) -> None:
    """`--db news` (no extension): `news` and `news.writer/` beside it; the writer folder's own file `news` before
    the first publish, when only the writer folder is there."""
    folder = tmp_path / "drop"
    for part in ("news.writer/news", "news.writer/news.lsh/texts.hashes", "news.writer/news.lock"):
        _article(folder / part, "wirecopy's own file, no article " * 5)
    story = _article(folder / "story.txt")
    assert [file for file, _ in plan_files([str(folder)])[0]] == [story]
    _article(folder / "news", "the published warehouse " * 5)
    _article(folder / "news.report.html", "<html><body><p>a scheduled report</p></body></html>")
    assert [file for file, _ in plan_files([str(folder)])[0]] == [story]


def test_an_article_called_report_html_beside_a_warehouse_is_read(tmp_path: Path) -> None:
    folder = tmp_path / "drop"
    _warehouse_folder(folder)
    page = _article(folder / "report.html", "<html><head><title>Annual report</title></head><body>x</body></html>")
    assert page in [file for file, _ in plan_files([str(folder)])[0]]


def test_the_inbox_walk_of_every_type_still_refuses_a_warehouse(tmp_path: Path) -> None:
    """A file dropped in the inbox is read or refused, never passed over: a DuckDB file there is an error."""
    folder = tmp_path / "claim"
    folder.mkdir()
    duckdb.connect(str(folder / "dropped.duckdb")).close()
    planned, errors = plan_files([str(folder)], all_types=True)
    assert not planned and [e.source_uri for e in errors] == [str(folder / "dropped.duckdb")]


def test_ingest_of_the_warehouse_folder_twice_stores_nothing_new(
    prefect_harness, seeds_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`cd t && wirecopy ingest . && wirecopy report && wirecopy ingest .`: the second run finds the article
    stored and reads none of the warehouse's files (writer folder, LSH store, locks, report)."""
    seed = next(iter(sorted(seeds_dir.glob("*.txt"))))
    shutil.copy(seed, tmp_path / seed.name)
    monkeypatch.chdir(tmp_path)
    runs = []
    for command in (["ingest", ".", "--json"], ["report"], ["ingest", ".", "--json"], ["ingest", ".", "--json"]):
        result = runner.invoke(app, command)
        assert result.exit_code == 0, result.output
        if command[0] == "ingest":
            runs.append(json.loads(result.stdout.splitlines()[-1]))
    assert (tmp_path / "report.html").is_file() and (tmp_path / "warehouse.duckdb.writer").is_dir()
    assert [(run["inputs"], run["documents_new"], run["errors"]) for run in runs] == [(1, 1, 0), (1, 0, 0), (1, 0, 0)]
    with duckdb.connect(str(tmp_path / "warehouse.duckdb"), read_only=True) as con:
        stored = con.execute("SELECT source_uri FROM documents").fetchall()
        errors = con.execute("SELECT count(*) FROM ingest_errors").fetchone()[0]
    assert stored == [(str(tmp_path / seed.name),)] and errors == 0


@pytest.fixture
def odd_tree(tmp_path: Path) -> Path:
    """g/afp/{story.txt, fifo.txt (a FIFO), broken.txt (a symlink to nothing)}, g/bbc/story.txt."""
    root = tmp_path / "g"
    _article(root / "afp" / "story.txt")
    _article(root / "bbc" / "story.txt", ARTICLE.replace("harbour", "airport"))
    os.mkfifo(root / "afp" / "fifo.txt")
    (root / "afp" / "broken.txt").symlink_to(tmp_path / "nothing.txt")
    return root


def test_a_glob_reports_a_fifo_and_a_broken_symlink_as_the_folder_walk_does(odd_tree: Path) -> None:
    walked = list(iter_sources([str(odd_tree)]))
    globbed = list(iter_sources([str(odd_tree / "*" / "*.txt")]))
    assert sorted(_names(globbed)) == sorted(_names(walked))
    reasons = {r.source_uri: r.reason for r in globbed if isinstance(r, IngestError)}
    assert reasons[str(odd_tree / "afp" / "fifo.txt")] == f"{odd_tree / 'afp' / 'fifo.txt'} is not a regular file"
    assert "cannot be resolved" in reasons[str(odd_tree / "afp" / "broken.txt")]
    assert sum(isinstance(r, RawDocument) for r in globbed) == 2


def test_a_glob_matching_folders_reads_them_as_folder_sources(odd_tree: Path) -> None:
    folders = [str(odd_tree / "afp"), str(odd_tree / "bbc")]  # what the shell's expansion of `g/*` gives
    as_given = [_outcome(r) for r in iter_sources(folders)]
    globbed = [_outcome(r) for r in iter_sources([str(odd_tree / "*")])]
    assert sorted(globbed) == sorted(as_given)
    assert (str(odd_tree / "bbc" / "story.txt"), "story") in globbed  # a file directly in its folder: its stem
    everything = [_outcome(r) for r in iter_sources([str(odd_tree / "**")])]  # matches `g` itself: one walk
    assert everything == [_outcome(r) for r in iter_sources([str(odd_tree)])]


def test_a_fifo_named_directly_is_not_a_regular_file(odd_tree: Path) -> None:
    fifo = odd_tree / "afp" / "fifo.txt"
    [error] = list(iter_sources([str(fifo)]))
    assert isinstance(error, IngestError) and error.reason == f"{fifo} is not a regular file"
    result = runner.invoke(app, ["ingest", str(fifo), "--dry-run", "--json"])
    assert result.exit_code == 3
    [row] = json.loads(result.stdout)["inputs"]
    assert row["error"] == f"{fifo} is not a regular file"


def test_dry_run_follows_symlinks_outside_when_the_setting_says_so(odd_tree: Path, tmp_path: Path) -> None:
    outside = _article(tmp_path / "elsewhere" / "wire.txt", ARTICLE.replace("harbour", "station"))
    link = odd_tree / "bbc" / "link.txt"
    link.symlink_to(outside)
    os.unlink(odd_tree / "afp" / "fifo.txt")
    os.unlink(odd_tree / "afp" / "broken.txt")
    pattern = str(odd_tree / "*" / "*.txt")
    refused = runner.invoke(app, ["ingest", pattern, "--dry-run", "--json"])
    assert refused.exit_code == 3 and "outside the ingest root" in refused.stdout
    env = {"WIRECOPY_FOLLOW_SYMLINKS_OUTSIDE_ROOT": "true"}
    followed = runner.invoke(app, ["ingest", pattern, "--dry-run", "--json"], env=env)
    assert followed.exit_code == 0, followed.output
    rows = json.loads(followed.stdout)["inputs"]
    assert [(row["input"], row["outlet"], row["error"]) for row in rows if row["input"] == str(link)] == [
        (str(link), "bbc", None)
    ]
    assert {r.source_uri for r in iter_sources([pattern])} >= {str(link)}  # the run names the same input


def test_dry_run_names_a_non_utf8_file_as_the_ingest_records_it(tmp_path: Path) -> None:
    folder = tmp_path / "nu"
    folder.mkdir()
    with open(os.fsencode(folder) + b"/caf\xe9.txt", "wb") as handle:
        handle.write(ARTICLE.encode())
    [document] = list(iter_sources([str(folder)]))
    assert isinstance(document, RawDocument) and document.source_uri == f"{folder}/caf\\xe9.txt"
    result = runner.invoke(app, ["ingest", str(folder), "--dry-run", "--json"])
    assert result.exit_code == 0, result.output
    plan = json.loads(result.stdout_bytes.decode("utf-8"))  # valid UTF-8
    assert plan["inputs"][0]["input"] == document.source_uri and plan["outlets"] == [document.outlet] == ["caf\\xe9"]
    table = runner.invoke(app, ["ingest", str(folder), "--dry-run"], env={"COLUMNS": "300"})
    assert table.exit_code == 0 and "caf\\xe9.txt" in table.stdout and "\ufffd" not in table.stdout
