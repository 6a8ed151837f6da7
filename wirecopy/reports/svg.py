"""Small inline SVG charts: no JavaScript, no library, they render offline wherever the HTML file is opened.

Every chart is an `<svg class="chart" data-chart=NAME>` with `<title>` tooltips on its marks. Labels are
drawn with `direction: auto`-like bidi handling (CSS `unicode-bidi: plaintext`), so Arabic outlet names read
right to left.
"""

from __future__ import annotations

import math
from html import escape

BLUES = ("#f1f6fb", "#d6e6f4", "#abcfe5", "#6aaed6", "#3787c0", "#105ba4", "#08306b")
WIDTH = 880


def _attr(text: object) -> str:
    return escape(str(text), quote=True)


def _short(label: str, limit: int = 22) -> str:
    return label if len(label) <= limit else label[: limit - 1] + "…"


def _shade(value: float, top: float) -> str:
    if value <= 0 or top <= 0:
        return "#ffffff"
    step = math.log1p(value) / math.log1p(top)
    return BLUES[min(len(BLUES) - 1, int(step * (len(BLUES) - 1) + 0.5))]


def _svg(name: str, width: float, height: float, body: list[str], label: str) -> str:
    return (
        f'<svg class="chart" data-chart="{name}" role="img" aria-label="{_attr(label)}" '
        f'viewBox="0 0 {width:.0f} {height:.0f}" width="{width:.0f}" height="{height:.0f}" '
        f'xmlns="http://www.w3.org/2000/svg">{"".join(body)}</svg>'
    )


def heatmap(name: str, rows: list[str], columns: list[str], cells: dict[tuple[str, str], int], label: str) -> str:
    """A rows × columns grid shaded by value (log scale), each cell with its number and a tooltip."""
    cell, left, top = 34, 170, 150
    width, height = left + cell * len(columns) + 10, top + cell * len(rows) + 10
    peak = max(cells.values(), default=0)
    body = []
    for j, column in enumerate(columns):
        x = left + j * cell + cell / 2
        body.append(
            f'<text class="col" x="{x:.0f}" y="{top - 6}" transform="rotate(-55 {x:.0f} {top - 6})">'
            f"<title>{_attr(column)}</title>{_attr(_short(column))}</text>"
        )
    for i, row in enumerate(rows):
        y = top + i * cell
        body.append(
            f'<text class="row" x="{left - 6}" y="{y + cell / 2 + 4:.0f}" text-anchor="end">'
            f"<title>{_attr(row)}</title>{_attr(_short(row))}</text>"
        )
        for j, column in enumerate(columns):
            value = cells.get((row, column), 0)
            x = left + j * cell
            fill = _shade(value, peak)
            stroke = ' stroke="#888" stroke-dasharray="2 2"' if row == column else ' stroke="#e5e5e5"'
            body.append(
                f'<g class="cell"><rect x="{x}" y="{y}" width="{cell}" height="{cell}" fill="{fill}"{stroke}>'
                f"<title>{_attr(row)} → {_attr(column)}: {value:,} paragraphs</title></rect>"
            )
            if value:
                colour = "#fff" if fill in BLUES[4:] else "#222"
                body.append(
                    f'<text x="{x + cell / 2:.0f}" y="{y + cell / 2 + 4:.0f}" text-anchor="middle" '
                    f'class="num" fill="{colour}">{_compact(value)}</text>'
                )
            body.append("</g>")
    return _svg(name, width, height, body, label)


def _compact(value: float) -> str:
    if value >= 1_000_000:
        return f"{value / 1_000_000:.1f}M"
    if value >= 10_000:
        return f"{value / 1000:.0f}k"
    if value >= 1000:
        return f"{value / 1000:.1f}k"
    return f"{value:g}"


LAG_TICKS = ((0, "0"), (60, "1 min"), (600, "10 min"), (3600, "1 h"), (6 * 3600, "6 h"), (86400, "1 d"),
             (7 * 86400, "1 wk"), (30 * 86400, "30 d"), (365 * 86400, "1 yr"))  # fmt: skip


def duration(seconds: float | None) -> str:
    """A lag in the largest unit that keeps it readable: 45 s, 12 min, 3.5 h, 2.1 d."""
    if seconds is None:
        return "–"
    for unit, size in (("d", 86400), ("h", 3600), ("min", 60)):
        if seconds >= size:
            return f"{seconds / size:.1f} {unit}".replace(".0 ", " ")
    return f"{seconds:.0f} s"


def boxplots(name: str, boxes: list[dict], label: str) -> str:
    """One horizontal box per entry (label, count, low, q1, median, q3, p90, high) on a log-time axis."""
    left, top, row, right = 320, 28, 26, 30
    plot = WIDTH - left - right
    high = max((b["high"] for b in boxes), default=0)
    ticks = [t for t in LAG_TICKS if t[0] <= max(high, 3600)]
    span = math.log1p(max(high, ticks[-1][0]) / 60)

    def x(seconds: float) -> float:
        return left + plot * math.log1p(max(seconds, 0) / 60) / span

    height = top + row * len(boxes) + 12
    body = []
    for seconds, text in ticks:
        at = f"{x(seconds):.1f}"
        body.append(f'<line class="grid" x1="{at}" x2="{at}" y1="{top - 6}" y2="{height - 8}"/>')
        body.append(f'<text class="tick" x="{at}" y="{top - 10}" text-anchor="middle">{text}</text>')
    for i, box in enumerate(boxes):
        y = top + i * row + row / 2
        tip = (f"{box['label']}: {box['count']:,} copies; min {duration(box['low'])}, quartiles "
               f"{duration(box['q1'])} / {duration(box['median'])} / {duration(box['q3'])}, "
               f"90% within {duration(box['p90'])}, max {duration(box['high'])}")  # fmt: skip
        body.append(
            f'<g class="box"><title>{_attr(tip)}</title>'
            f'<text class="row" x="{left - 8}" y="{y + 4:.0f}" text-anchor="end">{_attr(_short(box["label"], 44))}'
            f" ({_compact(box['count'])})</text>"
            f'<line class="whisker" x1="{x(box["low"]):.1f}" x2="{x(box["high"]):.1f}" y1="{y:.0f}" y2="{y:.0f}"/>'
            f'<rect x="{x(box["q1"]):.1f}" y="{y - 8:.0f}" width="{max(x(box["q3"]) - x(box["q1"]), 1.5):.1f}" '
            f'height="16" fill="{BLUES[3]}"/>'
            f'<line class="median" x1="{x(box["median"]):.1f}" x2="{x(box["median"]):.1f}" '
            f'y1="{y - 8:.0f}" y2="{y + 8:.0f}"/>'
            f'<circle cx="{x(box["p90"]):.1f}" cy="{y:.0f}" r="2.5" fill="{BLUES[6]}"/></g>'
        )
    return _svg(name, WIDTH, height, body, label)


def bars(name: str, points: list[tuple[str, float, str]], label: str, height: int = 180) -> str:
    """A vertical bar per (x label, value, tooltip); about eight x labels are printed."""
    left, top, bottom = 50, 10, 28
    plot_w, plot_h = WIDTH - left - 10, height - top - bottom
    peak = max((v for _, v, _ in points), default=0) or 1
    step = plot_w / max(len(points), 1)
    every = max(1, math.ceil(len(points) / 8))
    body = [f'<line class="axis" x1="{left}" x2="{WIDTH - 10}" y1="{top + plot_h}" y2="{top + plot_h}"/>',
            f'<text class="tick" x="{left - 6}" y="{top + 8}" text-anchor="end">{_compact(peak)}</text>',
            f'<text class="tick" x="{left - 6}" y="{top + plot_h}" text-anchor="end">0</text>']  # fmt: skip
    for i, (text, value, tip) in enumerate(points):
        h = plot_h * value / peak
        x = left + i * step
        body.append(
            f'<rect class="bar" x="{x + step * 0.1:.1f}" y="{top + plot_h - h:.1f}" width="{max(step * 0.8, 1):.1f}" '
            f'height="{h:.1f}" fill="{BLUES[4]}"><title>{_attr(tip)}</title></rect>'
        )
        if i % every == 0:
            body.append(
                f'<text class="tick" x="{x + step / 2:.1f}" y="{height - 10}" text-anchor="middle">{_attr(text)}</text>'
            )
    return _svg(name, WIDTH, height, body, label)


def shares(name: str, rows: list[tuple[str, list[tuple[str, float, str]]]], label: str) -> str:
    """A 100 % stacked horizontal bar per row: (label, [(css class, share 0–1, tooltip), …])."""
    left, top, row, right = 200, 6, 22, 20
    plot = WIDTH - left - right
    body = []
    for i, (text, parts) in enumerate(rows):
        y = top + i * row
        body.append(
            f'<text class="row" x="{left - 8}" y="{y + 15}" text-anchor="end"><title>{_attr(text)}</title>'
            f"{_attr(_short(text, 28))}</text>"
        )
        x = float(left)
        for css, share, tip in parts:
            w = plot * share
            if w > 0:
                body.append(
                    f'<rect class="{css}" x="{x:.1f}" y="{y + 3}" width="{w:.1f}" height="{row - 6}">'
                    f"<title>{_attr(tip)}</title></rect>"
                )
            x += w
    return _svg(name, WIDTH, top + row * len(rows) + 6, body, label)
