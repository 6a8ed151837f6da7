"""The syndication report as one self-contained HTML page: inline CSS, inline SVG charts, no script, no fetch."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from functools import cache
from html import escape
from importlib import resources

from wirecopy.reports import svg
from wirecopy.reports.data import ReportData
from wirecopy.reports.diff import is_arabic, marked

SECTIONS = (("matrix", "Who copies whom"), ("lags", "How fast"), ("outlets", "Originality"),
            ("timeline", "Timeline"), ("clusters", "Top clusters"), ("boilerplate", "Boilerplate"),
            ("runs", "Recent runs"))  # fmt: skip


@cache
def _css() -> str:
    return resources.files("wirecopy.reports").joinpath("style.css").read_text(encoding="utf-8")


def _e(value: object) -> str:
    return escape("" if value is None else str(value))


def _text(value: str, tag: str = "span", css: str = "") -> str:
    """Text in its own direction: Arabic is marked lang=ar dir=rtl, anything else dir=auto."""
    lang = ' lang="ar" dir="rtl"' if is_arabic(value) else ' dir="auto"'
    klass = f' class="{css}"' if css else ""
    return f"<{tag}{klass}{lang}>{_e(value)}</{tag}>"


def _n(value: float | None) -> str:
    return "–" if value is None else f"{value:,}"


def _pct(part: float, whole: float) -> str:
    return "–" if not whole else f"{100 * part / whole:.1f}\u00a0%"


def _when(value: datetime | None) -> str:
    return "–" if value is None else value.strftime("%Y-%m-%d %H:%M")


def _table(headers: list[str], rows: list[list[str]], numeric: set[int]) -> str:
    head = "".join(f"<th{' class=n' if i in numeric else ''}>{_e(h)}</th>" for i, h in enumerate(headers))
    body = "".join(
        "<tr>" + "".join(f"<td{' class=n' if i in numeric else ''}>{c}</td>" for i, c in enumerate(row)) + "</tr>"
        for row in rows
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _section(key: str, title: str, note: str, content: str) -> str:
    return f'<section id="{key}"><h2>{_e(title)}</h2><p class="note">{note}</p>{content}</section>'


EMPTY = '<p class="empty">Nothing in this window.</p>'


def _matrix(data: ReportData) -> str:
    if not data.matrix:
        return EMPTY
    activity: dict[str, int] = {}
    for row in data.matrix:
        activity[row["first_outlet"]] = activity.get(row["first_outlet"], 0) + row["paragraphs"]
        activity[row["copier"]] = activity.get(row["copier"], 0) + row["paragraphs"]
    shown = sorted(activity, key=lambda o: (-activity[o], o))[: data.options.matrix_outlets]
    cells = {(r["first_outlet"], r["copier"]): r["paragraphs"] for r in data.matrix}
    hidden = len(activity) - len(shown)
    extra = f'<p class="note">{hidden} less active outlets not shown.</p>' if hidden > 0 else ""
    return svg.heatmap("matrix", shown, shown, cells, "copied paragraphs, first publisher (rows) to copier") + extra


def _lags(data: ReportData) -> str:
    if not data.lags:
        return EMPTY
    boxes = [
        {"label": f"{r['first_outlet']} → {r['copier']}", "count": r["copies"], "low": r["low"],
         "q1": r["quartiles"][0], "median": r["quartiles"][1], "q3": r["quartiles"][2], "p90": r["p90"],
         "high": r["high"]}
        for r in data.lags
    ]  # fmt: skip
    rows = [[_text(b["label"]), _n(b["count"]), svg.duration(b["median"]), svg.duration(b["p90"]),
             svg.duration(b["high"])] for b in boxes]  # fmt: skip
    return svg.boxplots("lags", boxes, "lag from first publication to each copy, per outlet pair") + _table(
        ["first publisher → copier", "copies", "median lag", "90 % within", "longest"], rows, {1, 2, 3, 4}
    )


def _outlets(data: ReportData) -> str:
    if not data.outlets:
        return EMPTY
    bars, rows = [], []
    for r in data.outlets:
        total = r["paragraphs"] or 1
        original = r["paragraphs"] - r["copied_from"]
        bars.append((r["outlet"], [
            ("original", original / total,
             f"{r['outlet']}: {original:,} original paragraphs ({_pct(original, total)})"),
            ("copied", r["copied_from"] / total,
             f"{r['outlet']}: {r['copied_from']:,} copied from other outlets ({_pct(r['copied_from'], total)})"),
        ]))  # fmt: skip
        sources = ", ".join(f"{_e(s['outlet'])} ({s['paragraphs']:,})" for s in r["top_sources"]) or "–"
        rows.append([_text(r["outlet"]), _n(r["documents"]), _n(r["paragraphs"]), _pct(original, r["paragraphs"]),
                     _pct(r["copied_from"], r["paragraphs"]), _n(r["paragraphs_copied"]), _n(r["copies_by_others"]),
                     f'<span dir="auto">{sources}</span>'])  # fmt: skip
    legend = ('<p class="legend"><span><i style="background:var(--orig)"></i>original</span>'
              '<span><i style="background:var(--copied)"></i>copied from another outlet</span></p>')  # fmt: skip
    table = _table(["outlet", "documents", "paragraphs", "original", "copied from others", "own paragraphs copied",
                    "copies by others", "top sources"], rows, {1, 2, 3, 4, 5, 6})  # fmt: skip
    return legend + svg.shares("outlets", bars[:40], "original and copied share per outlet") + table


def _bucket(days: list[date]) -> tuple[str, int]:
    span = (days[-1] - days[0]).days if days else 0
    return ("day", 1) if span <= 120 else ("week", 7) if span <= 2 * 365 else ("month", 31)


def _timeline(data: ReportData) -> str:
    if not data.timeline:
        return EMPTY
    unit, _ = _bucket([r["day"] for r in data.timeline])
    grouped: dict[date, list[int]] = {}
    for r in data.timeline:
        day = r["day"]
        key = day - timedelta(days=day.weekday()) if unit == "week" else day.replace(day=1) if unit == "month" else day
        total = grouped.setdefault(key, [0, 0])
        total[0] += r["stories"]
        total[1] += r["copies"]
    if unit == "day":  # every day of the span, so quiet days show as gaps
        first, last = min(grouped), max(grouped)
        for offset in range((last - first).days + 1):
            grouped.setdefault(first + timedelta(days=offset), [0, 0])
    points = [(k.isoformat() if unit != "month" else k.strftime("%Y-%m"), v[0],
               f"{unit} of {k.isoformat()}: {v[0]:,} syndicated paragraphs first published, {v[1]:,} copies")
              for k, v in sorted(grouped.items())]  # fmt: skip
    return f'<p class="note">Per {unit}.</p>' + svg.bars("timeline", points, "syndicated paragraphs per " + unit)


def _clusters(data: ReportData) -> str:
    if not data.clusters:
        return EMPTY
    parts = []
    for number, cluster in enumerate(data.clusters, 1):
        copies = cluster["copies"]
        reference = copies[0]["text"]
        cards = []
        for i, copy in enumerate(copies):
            lang = ' lang="ar" dir="rtl"' if is_arabic(copy["text"]) else ' dir="auto"'
            body = _e(copy["text"]) if i == 0 else marked(reference, copy["text"])
            role = "first published" if copy["is_head"] else f"+{svg.duration(copy['lag_seconds'])}"
            cards.append(
                f'<div class="copy{" head" if i == 0 else ""}"><div class="who"><b>{_e(copy["outlet"])}</b> · '
                f"{role} · {_when(copy['seen_at'])}</div><p{lang}>{body}</p></div>"
            )
        parts.append(
            f'<div class="cluster"><h3>#{number}: {cluster["outlet_count"]} outlets, {cluster["paragraphs"]:,} '
            f"paragraphs <span class=meta>({_e(cluster['cluster_id'])})</span></h3>"
            f'<div class="copies">{"".join(cards)}</div></div>'
        )
    return "".join(parts)


def _boilerplate(data: ReportData) -> str:
    if not data.boilerplate:
        return EMPTY
    rules = sorted({r["rule"] for r in data.boilerplate})
    totals: dict[str, dict[str, int]] = {}
    for r in data.boilerplate:
        totals.setdefault(r["outlet"], {})[r["rule"]] = r["segments"]
    outlets = sorted(totals, key=lambda o: (-sum(totals[o].values()), o))[:60]
    cells = {(o, rule): totals[o].get(rule, 0) for o in outlets for rule in rules}
    rows = [[_text(o), *(_n(totals[o].get(rule, 0)) for rule in rules), _n(sum(totals[o].values()))]
            for o in outlets]  # fmt: skip
    chart = svg.heatmap("boilerplate", outlets, rules, cells, "boilerplate segments removed per outlet and rule")
    return chart + _table(["outlet", *rules, "total"], rows, set(range(1, len(rules) + 2)))


def _runs(data: ReportData) -> str:
    if not data.runs:
        return EMPTY
    rows = [[_e(r["run_id"][:8]), _when(r["started_at"]), _e(r["status"]), _n(r["inputs"]), _n(r["documents_new"]),
             _n(r["paragraphs_new"]), _n(r["links"]), _n(r["errors"]),
             "–" if r["seconds"] is None else f"{r['seconds']:.1f}"] for r in data.runs]  # fmt: skip
    return _table(["run", "started (UTC)", "status", "inputs", "new documents", "new paragraphs", "links", "errors",
                   "seconds"], rows, {3, 4, 5, 6, 7, 8})  # fmt: skip


NOTES = {
    "matrix": "Paragraphs copied, from the outlet that published first (row) to the outlet that copied (column). "
    "The dashed diagonal is an outlet repeating itself.",
    "lags": "Time from first publication to each copy (log scale): box = middle half, bar = median, "
    "whiskers = fastest and slowest, dot = 90 % of copies. Busiest pairs first.",
    "outlets": "Per outlet: paragraphs kept, the share it published first (original) and the share it took "
    "from another outlet, how many of its paragraphs others copied, and whom it copies most.",
    "timeline": "Syndicated paragraphs by the day they were first published (bars: paragraphs copied by at "
    "least one other outlet).",
    "clusters": "Clusters spread over the most outlets. One copy per outlet, the first publisher first; words a "
    "copy does not share with it are <mark class=diff>highlighted</mark>.",
    "boilerplate": "Segments removed by each cleaning rule, and paragraphs left out as learned boilerplate.",
    "runs": "The latest ingest runs (all runs, whatever the window).",
}

RENDERERS = {"matrix": _matrix, "lags": _lags, "outlets": _outlets, "timeline": _timeline, "clusters": _clusters,
             "boilerplate": _boilerplate, "runs": _runs}  # fmt: skip


def _scope(data: ReportData) -> str:
    o = data.options
    parts = [f"from {o.since:%Y-%m-%d %H:%M}" if o.since else "", f"until {o.until:%Y-%m-%d %H:%M}" if o.until else ""]
    if o.outlets:
        parts.append("outlets " + ", ".join(o.outlets))
    return " · ".join(p for p in parts if p) or "everything stored"


def render(data: ReportData) -> str:
    """The whole page."""
    t = data.totals
    kpis = [("documents", _n(t["documents"])), ("paragraphs", _n(t["paragraphs"])), ("outlets", _n(t["outlets"])),
            ("duplicate clusters", _n(t["clusters"])), ("syndicated (≥ 2 outlets)", _n(t["syndicated_clusters"])),
            ("copies across outlets", _n(t["cross_outlet_copies"])),
            ("published", f"{_when(t['first_seen'])} – {_when(t['last_seen'])}")]  # fmt: skip
    nav = "".join(f'<a href="#{key}">{_e(title)}</a>' for key, title in SECTIONS)
    body = "".join(_section(key, title, NOTES[key], RENDERERS[key](data)) for key, title in SECTIONS)
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'; "
        'img-src data:">'
        f"<title>wirecopy syndication report</title><style>{_css()}</style></head><body>"
        f"<header><h1>Syndication report</h1><p class=meta>{_e(data.database)} · {_e(_scope(data))} · generated "
        f"{data.generated_at:%Y-%m-%d %H:%M} UTC</p><nav>{nav}</nav>"
        f'<div class="kpis">{"".join(f"<div class=kpi><b>{v}</b><span>{_e(k)}</span></div>" for k, v in kpis)}'
        f"</div></header><main>{body}</main>"
        "<footer>wirecopy · self-contained file: no scripts, no network.</footer></body></html>\n"
    )
