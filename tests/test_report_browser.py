"""The seeds' report rendered by real headless Chromium, offline: the charts are in the rendered DOM with their
marks laid out, the syndicating outlets are named, Arabic paragraphs read right to left, the console is clean.
A screenshot is saved to bench/out/report-seeds.png for people to look at."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from tests import warehouse_fixtures
from tests.browser import chromium_path, render
from tests.conftest import ROOT
from wirecopy.reports.build import write_report

seeds_warehouse = warehouse_fixtures.seeds_warehouse

PROBE = """(() => {
  const charts = [...document.querySelectorAll('svg.chart')].map(svg => ({
    name: svg.dataset.chart,
    marks: svg.querySelectorAll('rect, line, circle').length,
    width: svg.getBoundingClientRect().width,
    height: svg.getBoundingClientRect().height,
  }));
  const arabic = [...document.querySelectorAll('.copy p[lang="ar"]')].map(p => getComputedStyle(p).direction);
  return {charts, arabic, text: document.body.innerText, title: document.title};
})()"""

SCREENSHOT = ROOT / "bench" / "out" / "report-seeds.png"


def _require_chromium() -> None:
    if chromium_path() is None:
        pytest.skip("Chromium is not installed (/usr/bin/chromium or $CHROMIUM): .ci/run installs Debian's chromium")


def test_seeds_report_renders_in_chromium(seeds_warehouse: Path, tmp_path: Path) -> None:
    _require_chromium()
    page = write_report(seeds_warehouse, tmp_path / "report.html").path
    rendered = render(page, PROBE, screenshot=SCREENSHOT)
    print(f"screenshot: {rendered.screenshot}")

    assert rendered.errors == [] and rendered.console == []
    assert rendered.requests == [page.as_uri()], "the page loads nothing but itself"
    charts = {chart["name"]: chart for chart in rendered.value["charts"]}
    assert set(charts) == {"matrix", "lags", "outlets", "timeline", "boilerplate"}
    assert all(chart["marks"] > 0 and chart["width"] > 100 and chart["height"] > 20 for chart in charts.values())
    with duckdb.connect(str(seeds_warehouse), read_only=True) as con:
        syndicating = [r[0] for r in con.execute("SELECT DISTINCT unnest(outlets) FROM syndication "
                                                 "WHERE outlet_count > 1").fetchall()]  # fmt: skip
    assert syndicating and all(outlet in rendered.value["text"] for outlet in syndicating)
    assert rendered.value["arabic"] and set(rendered.value["arabic"]) == {"rtl"}
    assert SCREENSHOT.stat().st_size > 10_000 and SCREENSHOT.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_the_harness_sees_console_errors_and_requests(tmp_path: Path) -> None:
    """The clean console above means something: a broken page is caught."""
    _require_chromium()
    broken = tmp_path / "broken.html"
    broken.write_text(
        '<html><body><img src="https://example.invalid/x.png"><script>console.error("boom"); undefinedCall();'
        "</script></body></html>",
        encoding="utf-8",
    )
    rendered = render(broken, "document.body.children.length")
    assert rendered.value == 2
    assert any("boom" in e for e in rendered.errors) and any("undefinedCall" in e for e in rendered.errors)
    assert "https://example.invalid/x.png" in rendered.requests
