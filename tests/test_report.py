"""The syndication report: aggregates checked against independent SQL, the page self-contained, the CLI."""

from __future__ import annotations

import json
import re
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pytest
from typer.testing import CliRunner

from tests import warehouse_fixtures
from wirecopy.cli import app
from wirecopy.reports.build import default_report_path, write_report
from wirecopy.reports.data import ReportOptions, collect
from wirecopy.reports.diff import is_arabic, marked
from wirecopy.reports.svg import duration

runner = CliRunner()
seeds_warehouse = warehouse_fixtures.seeds_warehouse

SYNDICATING = """
SELECT DISTINCT unnest(outlets) FROM syndication WHERE outlet_count > 1 ORDER BY 1
"""

CROSS_OUTLET_COPIES = """
SELECT count(*) FROM paragraph_dedup c JOIN paragraph_dedup k ON k.paragraph_id = c.canonical_id
WHERE c.method IS NOT NULL AND c.outlet <> k.outlet
"""


def test_marked_highlights_only_the_words_a_copy_adds() -> None:
    html = marked("the minister said on Monday", "the minister said on Tuesday, officials added")
    assert re.findall(r"<mark[^>]*>([^<]*)</mark>", html) == ["Tuesday,", "officials", "added"]
    assert marked("نص «واحد» هنا", "نص واحد هنا") == "نص واحد هنا"  # punctuation alone is no difference
    assert "&lt;b&gt;" in marked("x", "<b>")


def test_arabic_detection_and_durations() -> None:
    assert is_arabic("شنت أذربيجان عملية عسكرية (AFP)") and not is_arabic("Reuters: شنت")
    assert [duration(s) for s in (None, 5, 90, 5400, 3 * 86400)] == ["–", "5 s", "1.5 min", "1.5 h", "3 d"]


def test_options_refuse_an_empty_window() -> None:
    with pytest.raises(ValueError, match="must be before"):
        ReportOptions(since=datetime(2025, 1, 2, tzinfo=UTC), until=datetime(2025, 1, 1, tzinfo=UTC))


def test_aggregates_agree_with_independent_sql(seeds_warehouse: Path) -> None:
    with duckdb.connect(str(seeds_warehouse), read_only=True) as con:
        data = collect(con, ReportOptions(), generated_at=datetime.now(UTC), database="w")
        copies = con.execute("SELECT count(*) FROM paragraph_dedup WHERE method IS NOT NULL").fetchone()[0]
        cross = con.execute(CROSS_OUTLET_COPIES).fetchone()[0]
        kept = con.execute("SELECT outlet, count(*) FROM paragraph_dedup GROUP BY 1").fetchall()
        syndicated = con.execute("SELECT count(*) FROM syndication WHERE outlet_count > 1").fetchone()[0]
        leftovers = con.execute("SELECT count(*) FROM duckdb_tables() WHERE temporary").fetchone()[0]
    assert cross > 0, "the seeds hold copies across outlets"
    assert sum(cell["paragraphs"] for cell in data.matrix) == copies
    assert data.totals["cross_outlet_copies"] == cross
    assert data.totals["syndicated_clusters"] == syndicated == len(data.clusters)
    assert {row["outlet"]: row["paragraphs"] for row in data.outlets} == dict(kept)
    assert sum(row["copied_from"] for row in data.outlets) == cross
    assert sum(pair["copies"] for pair in data.lags) == cross
    assert sum(day["copies"] for day in data.timeline) == cross
    assert all(c["copies"][0]["is_head"] and len(c["copies"]) == c["outlet_count"] for c in data.clusters)
    assert leftovers == 0, "temporary tables are dropped"


def test_report_page_is_self_contained_and_names_the_outlets(seeds_warehouse: Path, tmp_path: Path) -> None:
    result = write_report(seeds_warehouse, tmp_path / "report.html")
    page = result.path.read_text(encoding="utf-8")
    assert result.bytes == len(page.encode("utf-8")) and result.syndicated_clusters > 0
    for chart in ("matrix", "lags", "outlets", "timeline", "boilerplate"):
        assert f'data-chart="{chart}"' in page
    for section in ("matrix", "lags", "outlets", "timeline", "clusters", "boilerplate", "runs"):
        assert f'<section id="{section}">' in page
    with duckdb.connect(str(seeds_warehouse), read_only=True) as con:
        outlets = [row[0] for row in con.execute(SYNDICATING).fetchall()]
    assert outlets and all(outlet in page for outlet in outlets)
    assert "<script" not in page and "<link" not in page and "@import" not in page
    assert re.findall(r"(?:src|href)=\"(?!#)[^\"]*\"", page) == [], "nothing is loaded from elsewhere"
    assert set(re.findall(r"https?://[^\s\"'<)]+", page)) == {"http://www.w3.org/2000/svg"}
    assert 'lang="ar" dir="rtl"' in page and '<mark class="diff">' in page


def test_window_and_outlet_filters(seeds_warehouse: Path, tmp_path: Path) -> None:
    future = ReportOptions(since=datetime(2100, 1, 1, tzinfo=UTC))
    empty = write_report(seeds_warehouse, tmp_path / "empty.html", future)
    assert empty.syndicated_clusters == 0 and "Nothing in this window." in empty.path.read_text(encoding="utf-8")
    with duckdb.connect(str(seeds_warehouse), read_only=True) as con:
        outlets = [row[0] for row in con.execute(SYNDICATING).fetchall()]
        alone = con.execute("SELECT min(outlet) FROM documents WHERE outlet NOT IN ?", [outlets]).fetchone()[0]
        data = collect(con, ReportOptions(outlets=(outlets[0],)), generated_at=datetime.now(UTC), database="w")
        nobody = collect(con, ReportOptions(outlets=(alone,)), generated_at=datetime.now(UTC), database="w")
    assert data.totals["syndicated_clusters"] > 0
    assert all(outlets[0] in (c["first_outlet"], c["copier"]) for c in data.matrix)
    assert [row["outlet"] for row in data.outlets] == [outlets[0]]
    assert nobody.totals["syndicated_clusters"] == 0 and nobody.clusters == []


def test_cli_report(seeds_warehouse: Path, tmp_path: Path) -> None:
    out = tmp_path / "out" / "seeds.html"
    result = runner.invoke(app, ["report", "--db", str(seeds_warehouse), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert out.is_file() and f"report → {out}" in result.output.replace("\n", "")
    assert list(out.parent.iterdir()) == [out], "no temporary file left behind"
    bad = runner.invoke(app, ["report", "--db", str(seeds_warehouse), "--since", "last week"])
    assert bad.exit_code == 2 and "--since 'last week' is not a date" in bad.output
    missing = runner.invoke(app, ["report", "--db", str(tmp_path / "absent.duckdb"), "--out", str(out)])
    assert missing.exit_code == 1 and "no warehouse at" in missing.output
    other = tmp_path / "other.html"
    unknown = runner.invoke(app, ["report", "--db", str(seeds_warehouse), "--outlet", "nosuch", "--out", str(other)])
    assert unknown.exit_code == 2 and "no document of outlet 'nosuch'" in unknown.output.replace("\n", "")
    assert not other.exists(), "no empty report for an outlet the warehouse does not have"


def test_default_report_path_sits_beside_the_warehouse() -> None:
    assert default_report_path(Path("/data/warehouse.duckdb")) == Path("/data/warehouse.report.html")


STORIES = {  # paragraph → (outlet, publication time) of each copy, the first publisher first
    "The harbour council approved a new tariff on grain shipments after a long night of debate.": [
        ("alpha", "2025-01-05T08:00"), ("gamma", "2025-01-05T14:00")],
    "Engineers reopened the northern railway line once floodwater had drained from the tunnels.": [
        ("alpha", "2025-01-05T09:00"), ("gamma", "2025-01-05T18:00")],
    "A senator from the coastal province resigned, citing pressure over the stalled refinery deal.": [
        ("beta", "2025-01-03T10:00"), ("alpha", "2025-01-03T12:00")],
    "The satellite launch was delayed for a third time because of strong winds over the range.": [
        ("delta", "2025-01-03T11:00"), ("alpha", "2025-01-03T15:00"), ("beta", "2025-01-05T13:00")],
    "Orchard growers in the valley expect a smaller apple harvest after the spring drought.": [
        ("gamma", "2025-01-02T10:00"), ("delta", "2025-01-02T11:00")],
    "The tribunal ordered the shipyard to reinstate forty welders dismissed during the strike.": [
        ("beta", "2025-01-05T20:00"), ("delta", "2025-01-07T09:00")],
}  # fmt: skip


@pytest.fixture(scope="module")
def dated_warehouse(prefect_harness, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Four outlets copying six stories on known dates, ingested from JSONL by the real ingest flow."""
    from wirecopy.flows.ingest import ingest

    lines = []
    for text, copies in STORIES.items():
        for outlet, published in copies:
            lines.append(json.dumps({"text": text, "outlet": outlet, "published_at": published + ":00+00:00"}))
    folder = tmp_path_factory.mktemp("dated")
    corpus, db = folder / "wire.jsonl", folder / "warehouse.duckdb"
    corpus.write_text("\n".join(lines) + "\n", encoding="utf-8")
    ingest(sources=[str(corpus)], db=str(db))
    return db


FILTERED_COPIES = """
SELECT k.outlet, c.outlet, c.cluster_id
FROM paragraph_dedup c JOIN paragraph_dedup k ON k.paragraph_id = c.canonical_id
JOIN documents d ON d.doc_id = c.doc_id
WHERE c.method IS NOT NULL AND c.outlet <> k.outlet
  AND ($since IS NULL OR coalesce(d.published_at, d.fetched_at) >= $since)
  AND ($until IS NULL OR coalesce(d.published_at, d.fetched_at) < $until)
  AND ($outlet IS NULL OR $outlet IN (c.outlet, k.outlet))
"""


@pytest.mark.parametrize(
    ("options", "syndicated", "sources"),
    [
        (ReportOptions(since=datetime(2025, 1, 5, 12), until=datetime(2025, 1, 6)), 3, ["alpha", "alpha", "delta"]),
        (ReportOptions(outlets=("alpha",)), 4, ["alpha", "alpha", "beta", "delta"]),
        (ReportOptions(), 6, ["alpha", "alpha", "beta", "beta", "delta", "gamma"]),
    ],
    ids=["window", "outlet", "everything"],
)
def test_filtered_report_counts_clusters_whose_head_is_outside_the_filter(
    dated_warehouse: Path, options: ReportOptions, syndicated: int, sources: list[str]
) -> None:
    """A copy in the filter makes its cluster syndicated and a top cluster, with its first publisher counted and
    shown, even when the head was published before the window or by an outlet not asked for."""
    window = {"since": options.since, "until": options.until, "outlet": options.outlets[0] if options.outlets else None}
    with duckdb.connect(str(dated_warehouse), read_only=True) as con:
        data = collect(con, options, generated_at=datetime.now(UTC), database="w")
        copies = con.execute(FILTERED_COPIES, window).fetchall()
    pairs = Counter((first, copier) for first, copier, _ in copies)
    assert {(c["first_outlet"], c["copier"]): c["paragraphs"] for c in data.matrix} == pairs
    assert data.totals["cross_outlet_copies"] == sum(pairs.values()) == sum(d["copies"] for d in data.timeline)
    assert data.totals["syndicated_clusters"] == len({cluster for *_, cluster in copies}) == syndicated
    assert len(data.clusters) == syndicated
    assert sorted(c["first_outlet"] for c in data.clusters) == sources
    shown = Counter((c["first_outlet"], copy["outlet"]) for c in data.clusters for copy in c["copies"][1:])
    assert shown == pairs, "the top clusters show the copies the matrix counts"
    for cluster in data.clusters:
        head, *rest = cluster["copies"]
        assert head["is_head"] and head["outlet"] == cluster["first_outlet"] and rest
        assert cluster["outlet_count"] == len(cluster["copies"]) == cluster["paragraphs"]


def test_cli_window_report_agrees_with_itself(dated_warehouse: Path, tmp_path: Path) -> None:
    """The reviewer's case: copies in the window of clusters that began before it are syndicated and shown."""
    out = tmp_path / "window.html"
    args = ["report", "--db", str(dated_warehouse), "--out", str(out), "--since", "2025-01-05T12:00"]
    result = runner.invoke(app, [*args, "--until", "2025-01-06"])
    assert result.exit_code == 0, result.output
    page = out.read_text(encoding="utf-8")
    assert "<b>3</b><span>syndicated (≥ 2 outlets)</span>" in page
    assert "<b>3</b><span>copies across outlets</span>" in page
    clusters = page[page.index('<section id="clusters">') :].split("</section>")[0]
    assert "Nothing in this window." not in clusters and clusters.count('<div class="cluster">') == 3
    assert "<b>alpha</b> · first published · 2025-01-05 08:00" in clusters, "the head before the window is shown"
