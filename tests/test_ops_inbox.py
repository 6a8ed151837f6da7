"""The inbox: settled files ingested exactly once, half-written ones left alone, refused ones moved to .failed
with their reason, dead claims put back, concurrent claimers never sharing a file; and the feeds flow.
Real Prefect flow runs (harness), real DuckDB files, real processes where a process matters."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
from wirecopy.flows.feeds import feeds
from wirecopy.flows.inbox import inbox

from tests.http_fixture_server import FixtureServer, fault_routes
from tests.linkcheck import table_counts
from wirecopy.inbox import Inbox

TREE = Path(__file__).parent / "fixtures" / "connectors" / "tree"


def settle(path: Path, seconds_ago: float = 120) -> None:
    stamp = time.time() - seconds_ago
    for item in [path, *path.rglob("*")] if path.is_dir() else [path]:
        os.utime(item, (stamp, stamp))


@pytest.fixture
def box(tmp_path: Path, monkeypatch) -> Path:
    monkeypatch.setenv("WIRECOPY_INBOX__SETTLE_SECONDS", "30")
    root = tmp_path / "inbox"
    root.mkdir()
    return root


def done_files(root: Path) -> list[str]:
    return sorted(p.name for p in root.glob(".done/*/*/**/*") if p.is_file() and p.name != "outlets.toml")


def test_settled_files_ingested_once_half_written_one_waits(prefect_harness, box: Path, seeds_dir: Path, db_path):
    seeds = sorted(seeds_dir.iterdir())
    for seed in seeds[:2]:
        shutil.copy(seed, box / seed.name)
    settle(box)
    (box / "half.txt").write_text("the first half of an article still being writ", encoding="utf-8")

    first = inbox(directory=str(box), db=str(db_path))
    assert len(first.done) == 2 and first.waiting == 1 and not first.failed
    assert [p.name for p in box.iterdir() if not p.name.startswith(".")] == ["half.txt"]
    assert table_counts(db_path)["documents"] == 2

    runs_before = table_counts(db_path)["ingest_runs"]
    again = inbox(directory=str(box), db=str(db_path))
    assert again.claim_id is None and table_counts(db_path)["ingest_runs"] == runs_before

    (box / "half.txt").write_text(seeds[2].read_text(encoding="utf-8"), encoding="utf-8")
    settle(box / "half.txt")
    last = inbox(directory=str(box), db=str(db_path))
    assert last.done == ("half.txt",) and table_counts(db_path)["documents"] == 3
    assert done_files(box) == sorted([seeds[0].name, seeds[1].name, "half.txt"])
    assert not list(box.glob(".processing/*"))


def test_outlets_and_sidecars_resolve_as_when_ingesting_the_directory(prefect_harness, box: Path, tmp_path: Path):
    shutil.copytree(TREE, box, dirs_exist_ok=True)
    settle(box)
    outcome = inbox(directory=str(box), db=str(tmp_path / "inbox.duckdb"))
    assert not outcome.failed and outcome.waiting == 0

    from wirecopy.flows.ingest import ingest

    ingest(sources=[str(TREE)], db=str(tmp_path / "direct.duckdb"))
    assert _outlets_by_name(tmp_path / "inbox.duckdb", box) == _outlets_by_name(tmp_path / "direct.duckdb", TREE)
    assert (box / "outlets.toml").is_file()  # configuration stays in the inbox
    assert list(box.glob(".done/*/*/sidecar/story.txt.meta.json"))  # the sidecar moved with its file


def _outlets_by_name(db: Path, root: Path) -> list[tuple[str, str]]:
    """(path relative to the ingested directory `root`, outlet) of every document: the inbox's files are recorded
    where they were dropped."""
    import duckdb

    with duckdb.connect(str(db), read_only=True) as con:
        rows = con.execute("SELECT source_uri, outlet FROM documents").fetchall()
    return sorted((str(Path(uri).relative_to(root)), outlet) for uri, outlet in rows)


def test_refused_file_moves_to_failed_with_its_reason(prefect_harness, box: Path, seeds_dir: Path, db_path: Path):
    (box / "empty.txt").write_bytes(b"")
    (box / "binary.txt").write_bytes(bytes(range(256)) * 20)
    (box / "scan.pdf").write_bytes(b"%PDF-1.4\n" + bytes(range(256)) * 20)  # a type a folder walk skips: refused
    shutil.copy(next(seeds_dir.iterdir()), box / "good.txt")
    settle(box)
    outcome = inbox(directory=str(box), db=str(db_path))
    assert outcome.done == ("good.txt",) and sorted(outcome.failed) == ["binary.txt", "empty.txt", "scan.pdf"]
    for name in ("empty.txt", "binary.txt", "scan.pdf"):
        (failed,) = box.glob(f".failed/*/*/{name}")
        reason = failed.with_name(name + ".error.txt").read_text(encoding="utf-8")
        assert reason.strip() == outcome.failed[name]
        assert reason.split(": ")[0] in ("read", "decode") and name in reason and ".processing" not in reason
    import duckdb

    def recorded() -> tuple[list[str], list[str]]:
        with duckdb.connect(str(db_path), read_only=True) as con:
            errors = con.execute("SELECT source_uri FROM ingest_errors ORDER BY 1").fetchall()
            documents = con.execute("SELECT source_uri FROM raw_documents ORDER BY 1").fetchall()
        return [uri for (uri,) in errors], [uri for (uri,) in documents]

    # recorded where they were dropped, not under the claim's .processing/ folder, which is gone
    assert recorded() == ([str(box / n) for n in ("binary.txt", "empty.txt", "scan.pdf")], [str(box / "good.txt")])
    (box / "empty.txt").write_bytes(b"")  # the same bad file dropped again: the same error, not a second row
    settle(box)
    assert sorted(inbox(directory=str(box), db=str(db_path)).failed) == ["empty.txt"]
    assert recorded() == ([str(box / n) for n in ("binary.txt", "empty.txt", "scan.pdf")], [str(box / "good.txt")])
    with duckdb.connect(str(db_path), read_only=True) as con:
        runs = con.execute("SELECT kind, errors FROM ingest_runs ORDER BY started_at").fetchall()
        met = con.execute("SELECT count(*) FROM run_errors r JOIN ingest_errors e USING (error_id)").fetchone()[0]
    assert runs == [("inbox", 3), ("inbox", 1)]  # the inbox's runs say so; the second met empty.txt again
    assert met == 4


def test_text_file_of_a_type_no_article_comes_as_is_refused(prefect_harness, box: Path, seeds_dir: Path, db_path):
    """A CSV is text and would decode, but it is no article: refused by its type, moved to .failed with the reason
    and recorded as an error, while the article dropped beside it is ingested."""
    (box / "data.csv").write_text("a,b\n1,2\n", encoding="utf-8")
    shutil.copy(next(seeds_dir.iterdir()), box / "good.txt")
    settle(box)
    outcome = inbox(directory=str(box), db=str(db_path))
    assert outcome.done == ("good.txt",) and list(outcome.failed) == ["data.csv"]
    assert outcome.failed["data.csv"].startswith("read: not an article file type (.csv): data.csv")
    (failed,) = box.glob(".failed/*/*/data.csv")
    assert failed.read_text(encoding="utf-8") == "a,b\n1,2\n"
    assert failed.with_name("data.csv.error.txt").read_text(encoding="utf-8").strip() == outcome.failed["data.csv"]
    assert done_files(box) == ["good.txt"] and not list(box.glob(".processing/*"))
    import duckdb

    with duckdb.connect(str(db_path), read_only=True) as con:
        errors = con.execute("SELECT source_uri, stage, reason FROM ingest_errors").fetchall()
        documents = con.execute("SELECT source_uri FROM raw_documents").fetchall()
        paragraphs = con.execute("SELECT count(*) FROM paragraphs WHERE text IN ('a,b', '1,2')").fetchone()
    [(uri, stage, reason)] = errors
    assert (uri, stage) == (str(box / "data.csv"), "read") and "not an article file type (.csv)" in reason
    assert documents == [(str(box / "good.txt"),)] and paragraphs == (0,)


def test_symlinks_out_of_the_inbox_and_non_utf8_names_fail_alone(
    prefect_harness, box: Path, seeds_dir: Path, db_path: Path, tmp_path: Path
):
    """`ln -s /etc/passwd inbox/x.txt` stores nothing; a file name that is not UTF-8 is ingested (stored
    escaped) or refused by name; the good file next to them is ingested and no claim is left behind."""
    secret = tmp_path / "secret.txt"
    secret.write_text("A private note that must never be stored in the warehouse, however it is linked.", "utf-8")
    (box / "x.txt").symlink_to(secret)
    raw_good = os.fsdecode(os.path.join(os.fsencode(box), b"caf\xe9.txt"))
    Path(raw_good).write_text(next(seeds_dir.iterdir()).read_text(encoding="utf-8"), encoding="utf-8")
    raw_bad = os.fsdecode(os.path.join(os.fsencode(box), b"bad\xff.txt"))
    Path(raw_bad).write_bytes(b"")
    shutil.copy(sorted(seeds_dir.iterdir())[1], box / "good.txt")
    settle(box)
    outcome = inbox(directory=str(box), db=str(db_path))
    assert sorted(outcome.done) == ["caf\\xe9.txt", "good.txt"]
    assert sorted(outcome.failed) == ["bad\\xff.txt", "x.txt"]
    assert "outside the ingest root" in outcome.failed["x.txt"] and "is empty" in outcome.failed["bad\\xff.txt"]
    (linked,) = box.glob(".failed/*/*/x.txt")
    assert linked.is_symlink()  # moved, not followed
    assert os.fsencode(raw_bad).split(b"/")[-1] in [os.fsencode(p.name) for p in box.glob(".failed/*/*/*")]
    assert not list(box.glob(".processing/*"))
    import duckdb

    with duckdb.connect(str(db_path), read_only=True) as con:
        texts = " ".join(row[0] for row in con.execute("SELECT content FROM raw_documents").fetchall())
        uris = [row[0] for row in con.execute("SELECT source_uri FROM raw_documents").fetchall()]
    assert "private note" not in texts and len(uris) == 2
    assert any(uri.endswith("/caf\\xe9.txt") for uri in uris)


def test_claim_of_a_dead_process_is_put_back_and_ingested(prefect_harness, box: Path, seeds_dir: Path, db_path):
    for seed in seeds_dir.iterdir():
        shutil.copy(seed, box / seed.name)
    settle(box)
    script = "import os, sys; from wirecopy.inbox import Inbox; c = Inbox(sys.argv[1], settle_seconds=1).claim(); " \
             "print(len(c.files)); os._exit(0)"  # fmt: skip
    dead = subprocess.run(
        [sys.executable, "-c", script, str(box)], capture_output=True, text=True, check=True, timeout=120
    )
    assert dead.stdout.strip() == "5" and len(list(box.glob(".processing/*/*"))) == 5
    outcome = inbox(directory=str(box), db=str(db_path))
    assert outcome.recovered == 5 and len(outcome.done) == 5
    assert table_counts(db_path)["documents"] == 5 and not list(box.glob(".processing/*"))


def test_two_processes_claiming_at_once_never_share_a_file(box: Path, tmp_path: Path):
    names = {f"{number:04}.txt" for number in range(2000)}
    for name in names:
        (box / name).write_text(f"article {name}", encoding="utf-8")
    settle(box)
    go = tmp_path / "go"
    script = (
        "import json, os, sys, time; from wirecopy.inbox import Inbox\n"
        "box = Inbox(sys.argv[1], settle_seconds=1, max_files=5000)\n"
        "print('ready', flush=True)\n"
        "while not os.path.exists(sys.argv[2]): time.sleep(0.001)\n"
        "c = box.claim(); print(json.dumps([str(p) for p in (c.files if c else [])]))"
    )
    claimers = [subprocess.Popen([sys.executable, "-c", script, str(box), str(go)], stdout=subprocess.PIPE, text=True)
                for _ in range(2)]  # fmt: skip
    assert [p.stdout.readline().strip() for p in claimers] == ["ready", "ready"]  # both started and waiting
    go.touch()
    claimed = [set(json.loads(p.communicate(timeout=60)[0])) for p in claimers]
    assert not claimed[0] & claimed[1]
    assert claimed[0] | claimed[1] == names
    print(f"claims: {len(claimed[0])} + {len(claimed[1])}")
    assert Inbox(box, settle_seconds=1).pending() == []


def test_feeds_flow_ingests_configured_feeds(prefect_harness, monkeypatch, db_path: Path):
    with FixtureServer(fault_routes()) as server:
        monkeypatch.setenv("WIRECOPY_FETCH__ALLOWED_PRIVATE_NETWORKS", '["127.0.0.1/32"]')
        monkeypatch.setenv("WIRECOPY_FEEDS", f"{server.url('/rss.xml')}, {server.url('/atom.xml')}")
        summary = feeds(db=str(db_path))
    assert summary.documents_new >= 2 and "/rss.xml" in server.hits and "/atom.xml" in server.hits
    assert table_counts(db_path)["documents"] == summary.documents_new


def test_feeds_flow_without_feeds_does_nothing(prefect_harness, monkeypatch, db_path: Path):
    monkeypatch.delenv("WIRECOPY_FEEDS", raising=False)
    assert feeds(db=str(db_path)) is None
    assert not db_path.exists()


def test_inbox_command_exits_3_when_a_file_failed(prefect_harness, box: Path, seeds_dir: Path, db_path: Path):
    """As `ingest` does when some inputs failed: the good file is ingested, the status tells a script the rest."""
    from typer.testing import CliRunner

    from wirecopy.cli import app

    (box / "empty.txt").write_bytes(b"")
    shutil.copy(next(seeds_dir.iterdir()), box / "good.txt")
    settle(box)
    result = CliRunner().invoke(app, ["inbox", "--dir", str(box), "--db", str(db_path)])
    assert result.exit_code == 3, result.output
    assert "empty.txt" in result.output and done_files(box) == ["good.txt"]
    again = CliRunner().invoke(app, ["inbox", "--dir", str(box), "--db", str(db_path)])
    assert again.exit_code == 0, again.output  # nothing settled is left: nothing failed


def test_inbox_command_reports_bad_records_of_a_done_file(prefect_harness, box: Path, seeds_dir: Path, db_path: Path):
    """A JSON Lines file with bad lines is done (its good records are stored), but the command names each bad line
    and exits 3, as `ingest` of the same file does."""
    from typer.testing import CliRunner

    from wirecopy.cli import app

    good = {"outlet": "wire", "text": next(seeds_dir.iterdir()).read_text(encoding="utf-8")}
    (box / "feed.jsonl").write_text(json.dumps(good) + "\n{not json\n" + json.dumps({"outlet": "wire"}) + "\n")
    settle(box)
    result = CliRunner().invoke(app, ["inbox", "--dir", str(box), "--db", str(db_path)])
    assert result.exit_code == 3, result.output
    assert done_files(box) == ["feed.jsonl"]
    assert result.output.count("input error:") == 2
    assert "feed.jsonl#L2" in result.output and "feed.jsonl#L3" in result.output


def test_the_warehouse_inside_the_inbox_is_never_claimed(prefect_harness, box: Path, seeds_dir: Path):
    """An inbox set to the folder that holds the warehouse: the seeds are claimed, the warehouse, its writer folder
    and its report stay where they are, however often the inbox runs."""
    db = box / "warehouse.duckdb"
    shutil.copy(next(seeds_dir.iterdir()), box / "story.txt")
    settle(box)
    first = inbox(directory=str(box), db=str(db))
    assert first.done == ("story.txt",) and db.is_file() and (box / "warehouse.duckdb.writer").is_dir()
    settle(box)
    again = inbox(directory=str(box), db=str(db))
    assert (again.claim_id, again.waiting) == (None, 0)
    assert db.is_file() and (box / "warehouse.report.html").is_file() and not list(box.glob(".failed/**/*.duckdb"))


def _rows_but_run_history(db: Path) -> dict[str, list[str]]:
    """Every row of every table but the run history (`ingest_runs`, `run_errors`) and the work queues."""
    import duckdb

    from tests.linkcheck import WORK_QUEUES

    with duckdb.connect(str(db), read_only=True) as con:
        tables = [name for (name,) in con.execute("SELECT table_name FROM duckdb_tables()").fetchall()]
        kept = [name for name in tables if name not in {"ingest_runs", "run_errors", *WORK_QUEUES}]
        return {name: sorted(map(repr, con.execute(f'SELECT * FROM "{name}"').fetchall())) for name in kept}


def test_the_same_files_dropped_again_change_nothing_but_the_run_history(
    prefect_harness, box: Path, seeds_dir: Path, db_path: Path
):
    """Dropped again (a text file, one in a folder, a JSON Lines file of records), the same bytes at the same inbox
    paths are the documents stored already: no table but the run history gains a row, not `document_sources`."""
    seeds = sorted(seeds_dir.iterdir())

    def drop() -> None:
        shutil.copy(seeds[0], box / "story.txt")
        (box / "wire").mkdir(exist_ok=True)
        shutil.copy(seeds[1], box / "wire" / "story.txt")
        records = [{"outlet": "feed", "text": seed.read_text(encoding="utf-8")} for seed in seeds[2:4]]
        (box / "feed.jsonl").write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
        settle(box)

    drop()
    first = inbox(directory=str(box), db=str(db_path))
    assert len(first.done) == 3 and not first.failed and not first.record_errors
    stored = _rows_but_run_history(db_path)
    assert len(stored["raw_documents"]) == 4 and stored["document_sources"] == []
    runs = table_counts(db_path)["ingest_runs"]
    for _ in range(2):
        drop()
        again = inbox(directory=str(box), db=str(db_path))
        assert len(again.done) == 3 and not again.failed and not again.record_errors
        assert _rows_but_run_history(db_path) == stored
    assert table_counts(db_path)["ingest_runs"] == runs + 2
