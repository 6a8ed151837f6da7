"""The CLI in everyday use: every command in --help and README, stdin SQL, LF CSV, case-insensitive --format,
full-width tables in pipes, ingest --dry-run / --outlet, progress bars fed by the flows."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path

import duckdb
from rich.console import Console
from typer.testing import CliRunner

from tests import warehouse_fixtures
from tests.conftest import ROOT
from wirecopy import cli_output
from wirecopy.cli import app
from wirecopy.progress import Step, listening

runner = CliRunner()
seeds_warehouse = warehouse_fixtures.seeds_warehouse


def _commands() -> list[str]:
    names = [c.name or c.callback.__name__ for c in app.registered_commands]
    return names + [g.name for g in app.registered_groups]


def test_every_command_is_in_help_and_readme() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    top = runner.invoke(app, ["--help"], env={"COLUMNS": "200"})
    assert {"report", "export", "boilerplate", "sql", "ingest"} <= set(_commands())
    for name in _commands():
        assert f" {name} " in top.output, name
        assert f"wirecopy {name}" in readme, f"README does not show `wirecopy {name}`"
    group = runner.invoke(app, ["boilerplate", "--help"], env={"COLUMNS": "200"})
    for sub in ("list", "keep", "drop", "reset", "history", "refresh"):
        assert f" {sub} " in group.output and sub in top.output.split("boilerplate", 1)[1], sub


def test_sql_from_stdin_csv_with_lf_and_any_case_format(seeds_warehouse: Path) -> None:
    query = "SELECT outlet, count(*) AS n FROM documents GROUP BY 1 ORDER BY 1"
    as_csv = runner.invoke(app, ["sql", "-", "--db", str(seeds_warehouse), "--format", "CSV"], input=query)
    assert as_csv.exit_code == 0, as_csv.output
    assert "\r" not in as_csv.output and as_csv.output.startswith("outlet,n\n") and as_csv.output.count("\n") == 6
    as_json = runner.invoke(app, ["sql", query, "--db", str(seeds_warehouse), "-f", "Json"])
    assert len(json.loads(as_json.output)) == 5
    empty = runner.invoke(app, ["sql", "-", "--db", str(seeds_warehouse)], input="  \n")
    assert empty.exit_code == 2 and "no SQL on stdin" in empty.output  # a usage error
    runs = runner.invoke(app, ["runs", "--db", str(seeds_warehouse), "-f", "CSV"])
    assert runs.exit_code == 0 and runs.output.startswith("run_id,")


def test_piped_tables_are_not_wrapped(seeds_warehouse: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k != "COLUMNS"}
    query = "SELECT text FROM paragraphs WHERE length(text) > 200 ORDER BY paragraph_id LIMIT 1"
    piped = subprocess.run(
        [str(Path(sys.executable).with_name("wirecopy")), "sql", query, "--db", str(seeds_warehouse)],
        capture_output=True, text=True, timeout=120, env=env, cwd=ROOT,
    )  # fmt: skip
    assert piped.returncode == 0, piped.stderr
    longest = max(len(line) for line in piped.stdout.splitlines())
    assert longest > 200, f"table wrapped at {longest} columns"


def test_dry_run_lists_inputs_with_kind_and_outlet(tmp_path: Path) -> None:
    root = tmp_path / "in"
    (root / "afp").mkdir(parents=True)
    (root / "afp" / "a.txt").write_text("x", encoding="utf-8")
    (root / "b.html").write_text("<p>x</p>", encoding="utf-8")
    (root / "c.jsonl").write_text('{"text": "x"}\n', encoding="utf-8")
    (root / "d.md").write_text("x", encoding="utf-8")  # another extension: its kind is read from its content
    db = tmp_path / "w.duckdb"
    result = runner.invoke(app, ["ingest", str(root), "https://example.org/feed.xml", "--dry-run", "--db", str(db)],
                           env={"COLUMNS": "300"})  # fmt: skip
    assert result.exit_code == 0, result.output
    lines = {line.split()[0]: line.split()[1:] for line in result.output.splitlines() if "/" in line}
    assert lines[str(root / "afp" / "a.txt")][:2] == ["text", "afp"]
    assert lines[str(root / "b.html")][:2] == ["html", "b"]
    assert lines[str(root / "c.jsonl")][:2] == ["jsonl", "c"] and "record's outlet" in result.output
    assert lines[str(root / "d.md")][:3] == ["sniffed", "(.md)", "d"]
    assert lines["https://example.org/feed.xml"][0] == "url" and "example.org" in result.output
    assert "5 inputs, nothing read" in result.output and not db.exists()
    forced = runner.invoke(app, ["ingest", str(root), "--dry-run", "--outlet", " wire "], env={"COLUMNS": "300"})
    assert [line.split()[-1] for line in forced.output.splitlines() if str(root) in line] == ["wire"] * 4
    planned = json.loads(runner.invoke(app, ["ingest", str(root), "--dry-run", "--json", "--outlet", " wire "]).stdout)
    assert {row["outlet"] for row in planned["inputs"] if row["input"].startswith(str(root))} == {"wire"}  # stripped


def test_ingest_outlet_and_progress_steps(prefect_harness, tmp_path: Path, seeds_dir: Path) -> None:
    from wirecopy.flows.ingest import ingest

    steps: list[Step] = []
    db = tmp_path / "w.duckdb"
    with listening(steps.append):
        summary = ingest(sources=[str(seeds_dir)], db=str(db), outlet="wire", batch_files=2)
    ours = [s for s in steps if s.stage == "ingest"]
    assert ours[0].total == summary.inputs == 5 and sum(s.advance for s in ours) == 5 and len(ours) == 4
    result = runner.invoke(app, ["sql", "SELECT DISTINCT outlet FROM documents", "--db", str(db), "-f", "csv"])
    assert result.output == "outlet\nwire\n"
    blank = runner.invoke(app, ["ingest", str(seeds_dir), "--outlet", " ", "--db", str(db)])
    assert blank.exit_code == 2 and "--outlet must not be empty" in blank.output  # a usage error


def test_progress_bar_shows_counts_rate_and_eta_on_terminals_only(monkeypatch) -> None:
    screen = io.StringIO()
    terminal = Console(file=screen, force_terminal=True, color_system=None, width=160)
    monkeypatch.setattr(cli_output, "err_console", terminal)
    with cli_output.progress_bar("export", None, unit="tables") as advance:
        advance(0, total=4)
        for _ in range(4):
            advance(1, description="tables")
    assert "4/4" in screen.getvalue() and "ETA" in screen.getvalue() and "tables/s" in screen.getvalue()
    piped = io.StringIO()
    monkeypatch.setattr(cli_output, "err_console", Console(file=piped, force_terminal=False))
    with cli_output.progress_bar("export", 2) as advance:
        advance(2)
    assert piped.getvalue() == ""


def test_sql_with_arabic_accents_or_a_byte_order_mark(seeds_warehouse: Path) -> None:
    """DuckDB's tokenizer counts bytes: a query with non-ASCII text before a later clause, or a BOM, still runs."""
    word = "أذربيجان"
    query = f"SELECT count(*) AS n FROM paragraphs WHERE text LIKE '%{word}%' AND run_id <> 'x'"
    result = runner.invoke(app, ["sql", query, "--db", str(seeds_warehouse), "-f", "json"])
    assert result.exit_code == 0, result.output
    with duckdb.connect(str(seeds_warehouse), read_only=True) as con:
        expected = con.execute("SELECT count(*) FROM paragraphs WHERE text LIKE $w", {"w": f"%{word}%"}).fetchone()[0]
    assert json.loads(result.output) == [{"n": expected}] and expected > 0
    accented = runner.invoke(app, ["sql", "SELECT 'é' AS a, 2 AS b", "--db", str(seeds_warehouse), "-f", "json"])
    assert json.loads(accented.output) == [{"a": "é", "b": 2}]
    bom = runner.invoke(app, ["sql", "-", "--db", str(seeds_warehouse), "-f", "csv"], input="\ufeffSELECT 1 AS one")
    assert bom.exit_code == 0 and bom.output == "one\n1\n"
    binary = runner.invoke(app, ["sql", "-", "--db", str(seeds_warehouse)], input=b"\xff\xfeS\x00")
    assert binary.exit_code == 2 and "the SQL on stdin is not UTF-8 text (byte 1 of 4)" in binary.output
