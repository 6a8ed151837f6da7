"""The Python API: `import wirecopy` stays cheap; stored signatures are datasketch's own, both ways: datasketch's
LSH finds the stored duplicates, and datasketch computing a MinHash from a paragraph's text gets the stored one."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import duckdb
import pytest
from datasketch import LeanMinHash, MinHashLSH

import wirecopy
from tests import warehouse_fixtures
from tests.conftest import ROOT

seeds_warehouse = warehouse_fixtures.seeds_warehouse

SIGNED = """
SELECT p.paragraph_id, p.text FROM paragraphs p JOIN dedup_texts t USING (text_hash) WHERE t.shingle_count > 0
ORDER BY p.paragraph_id
"""

UNSIGNED = "SELECT p.paragraph_id FROM paragraphs p JOIN dedup_texts t USING (text_hash) WHERE t.shingle_count = 0"


def test_import_is_cheap() -> None:
    heavy = "('prefect', 'duckdb', 'datasketch', 'numpy')"
    probe = f"import sys, wirecopy; print(sorted(m for m in {heavy} if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"
    import wirecopy.exports
    import wirecopy.reports  # no submodule may shadow an API function

    assert all(callable(getattr(wirecopy, name)) for name in wirecopy.__all__)
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        wirecopy.nope  # noqa: B018


def test_connect_is_read_only(seeds_warehouse: Path) -> None:
    with wirecopy.connect(seeds_warehouse) as con:
        assert con.execute("SELECT count(*) FROM paragraphs").fetchone()[0] > 0
        with pytest.raises(duckdb.Error, match="read-only"):
            con.execute("DELETE FROM paragraphs")


def test_datasketch_computes_the_stored_signatures(seeds_warehouse: Path) -> None:
    with wirecopy.connect(seeds_warehouse) as con:
        settings = wirecopy.dedup_settings(con)
        rows = con.execute(SIGNED).fetchall()
        stored = wirecopy.signatures(con, [pid for pid, _ in rows])
    assert len(rows) > 50 and all(isinstance(m, LeanMinHash) for m in stored.values())
    for pid, text in rows:
        assert wirecopy.minhash(text, settings) == stored[pid], pid


def test_datasketch_lsh_finds_the_stored_duplicates(seeds_warehouse: Path) -> None:
    with wirecopy.connect(seeds_warehouse) as con:
        ids = [row[0] for row in con.execute("SELECT paragraph_id FROM paragraphs ORDER BY 1").fetchall()]
        links = con.execute("SELECT paragraph_id, canonical_id, method FROM duplicate_links").fetchall()
        sketches = wirecopy.signatures(con, ids)
        unsigned = {r[0] for r in con.execute(UNSIGNED).fetchall()}
    assert list(sketches) == ids
    assert {pid for pid, sketch in sketches.items() if sketch is None} == unsigned  # exact path only
    lsh = MinHashLSH(threshold=0.5, num_perm=64)
    for pid, sketch in sketches.items():
        if sketch is not None:
            lsh.insert(pid, sketch)
    matched = [(copy, head) for copy, head, method in links if method in ("exact", "near") and sketches[copy]]
    assert any(method == "near" for _, _, method in links) and matched
    for copy, head in matched:
        assert head in lsh.query(sketches[copy]), (copy, head)


def test_unknown_paragraphs_are_named(seeds_warehouse: Path) -> None:
    with wirecopy.connect(seeds_warehouse) as con, pytest.raises(KeyError, match="no paragraph nope"):
        wirecopy.signatures(con, ["nope"])


def test_export_and_report_take_since_as_a_date_string(seeds_warehouse: Path, tmp_path: Path) -> None:
    """`since` as the CLI takes it, an ISO date, in both calls (UTC when no zone is named)."""
    every = wirecopy.export(seeds_warehouse, tmp_path / "all", tables=["documents"])
    dated = wirecopy.export(seeds_warehouse, tmp_path / "since", tables=["documents"], since="2000-01-01")
    later = wirecopy.export(seeds_warehouse, tmp_path / "later", tables=["documents"], since="2999-01-01")
    assert dated.tables[0].rows == every.tables[0].rows > 0 and later.tables[0].rows == 0
    assert wirecopy.report(seeds_warehouse, tmp_path / "r.html", since="2999-01-01").path.is_file()
    mixed = wirecopy.report(seeds_warehouse, tmp_path / "m.html", since="2000-01-01", until="2999-01-01T00:00+03:00")
    assert mixed.path.is_file()  # a date without zone (UTC) and one with a zone compare


def test_one_outlet_or_table_may_be_a_string(seeds_warehouse: Path, tmp_path: Path) -> None:
    """As `ingest` takes one source: one name is one outlet or table, not one per character."""
    (outlet,) = wirecopy.connect(seeds_warehouse).execute("SELECT min(outlet) FROM documents").fetchone()
    one = wirecopy.report(seeds_warehouse, tmp_path / "one.html", outlets=outlet)  # used to name '0', '0', '1' …
    listed = wirecopy.report(seeds_warehouse, tmp_path / "listed.html", outlets=[outlet])
    assert one.syndicated_clusters == listed.syndicated_clusters and abs(one.bytes - listed.bytes) < 100
    exported = wirecopy.export(seeds_warehouse, tmp_path / "export", tables="documents")
    assert [table.table for table in exported.tables] == ["documents"] and exported.tables[0].rows == 5


def test_ingest_takes_one_source_as_a_string_or_a_path(prefect_harness, seeds_dir: Path, tmp_path: Path) -> None:
    """One string is one source, not one source per character (`"seeds/"` once read `/`)."""
    one = wirecopy.ingest(str(seeds_dir), db=tmp_path / "str.duckdb")
    assert (one.inputs, one.documents_new) == (5, 5)
    again = wirecopy.ingest(seeds_dir, db=tmp_path / "str.duckdb")  # a Path, and the same folder: nothing new
    assert (again.inputs, again.documents_new, again.documents_seen) == (5, 0, 5)


def test_dedup_settings_come_from_a_run_that_stored_paragraphs(
    prefect_harness, seeds_dir: Path, tmp_path: Path, monkeypatch
) -> None:
    """A run refused for other sketch settings, or one that stored nothing, does not speak for the signatures."""
    db = tmp_path / "w.duckdb"
    wirecopy.ingest([str(seeds_dir)], db=db)
    monkeypatch.setenv("WIRECOPY_DEDUP__SEED", "7")
    wirecopy.ingest([str(seeds_dir)], db=db)  # every document stored: completed, nothing sketched
    copy = tmp_path / "elsewhere" / "copy.txt"  # a new document: the texts it brings would be sketched with seed 7
    copy.parent.mkdir()
    copy.write_bytes(next(seeds_dir.iterdir()).read_bytes())
    with pytest.raises(Exception, match=r"sketched with another shingle or seed"):
        wirecopy.ingest([str(copy)], db=db)  # refused: stored nothing
    with wirecopy.connect(db) as con:
        statuses = [row[0] for row in con.execute("SELECT status FROM ingest_runs ORDER BY started_at").fetchall()]
        assert statuses == ["completed", "completed", "failed"]
        assert wirecopy.dedup_settings(con).seed == 1
        pid, text = con.execute(SIGNED).fetchone()
        assert wirecopy.minhash(text, wirecopy.dedup_settings(con)) == wirecopy.signatures(con, [pid])[pid]
