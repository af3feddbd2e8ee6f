"""Charts as inline SVG, drawn on the server: no JavaScript library, no CDN, readable in screenshots.

`xy_chart` draws any mix of line, step and bar series over shared numeric axes; colours come from CSS classes
(`series-0`, `series-1`, ...) so the stylesheet themes them (the CSP forbids inline styles).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from html import escape

from flask_babel import gettext as _
from markupsafe import Markup

Point = tuple[float, float]


@dataclass
class Series:
    name: str
    points: Sequence[Point]
    kind: str = "line"  # line | step | bar | path (points drawn in the given order)
    css: str = ""


@dataclass
class HLine:
    y: float
    label: str
    css: str = "mark"


@dataclass
class Chart:
    series: list[Series]
    x_label: str = ""
    y_label: str = ""
    x_fmt: Callable[[float], str] = lambda v: f"{v:g}"
    y_fmt: Callable[[float], str] = lambda v: f"{v:g}"
    hlines: list[HLine] = field(default_factory=list)
    width: int = 720
    height: int = 280
    title: str = ""
    x_range: tuple[float, float] | None = None  # fixed x axis (e.g. a price window); None: from the data


def _nice_ticks(lo: float, hi: float, count: int = 5) -> list[float]:
    if hi <= lo:
        hi = lo + 1
    raw = (hi - lo) / count
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw)
    start = math.floor(lo / step) * step
    ticks = []
    v = start
    while v <= hi + step * 1e-9:
        if v >= lo - step * 1e-9:
            ticks.append(round(v, 10))
        v += step
    return ticks


def xy_chart(chart: Chart) -> Markup:
    pts = [p for s in chart.series for p in s.points]
    left, right, top, bottom = 64, 16, 24 if chart.title else 12, 44
    w, h = chart.width, chart.height
    pw, ph = w - left - right, h - top - bottom
    title = f'<text class="chart-title" x="{left}" y="16">{escape(chart.title)}</text>' if chart.title else ""
    label = escape(chart.title or _("chart"))
    if not pts:
        empty = escape(_("No data yet"))
        return Markup(
            f'<svg class="chart" viewBox="0 0 {w} {h}" role="img" aria-label="{label}">'
            f'{title}<text class="chart-empty" x="{w / 2}" y="{h / 2}" text-anchor="middle">{empty}</text></svg>'
        )
    xs = [p[0] for p in pts]
    ys = [p[1] for p in pts] + [hl.y for hl in chart.hlines] + [0.0]
    x_lo, x_hi = min(xs), max(xs)
    bars = [s for s in chart.series if s.kind == "bar"]
    distinct_x = sorted(set(xs))
    gap = min((b - a for a, b in itertools.pairwise(distinct_x)), default=1.0) or 1.0
    if bars:  # room for the first and last bar
        x_lo, x_hi = x_lo - gap / 2, x_hi + gap / 2
    if chart.x_range is not None:
        x_lo, x_hi = chart.x_range
    if x_hi == x_lo:
        x_lo, x_hi = x_lo - 1, x_hi + 1
    y_lo, y_hi = min(ys), max(ys)
    if y_hi == y_lo:
        y_hi = y_lo + 1
    y_hi += (y_hi - y_lo) * 0.05

    def sx(x: float) -> float:
        return left + (x - x_lo) / (x_hi - x_lo) * pw

    def sy(y: float) -> float:
        return top + ph - (y - y_lo) / (y_hi - y_lo) * ph

    out = [f'<svg class="chart" viewBox="0 0 {w} {h}" role="img" aria-label="{label}">', title]
    for t in _nice_ticks(y_lo, y_hi):
        out.append(f'<line class="gridline" x1="{left}" x2="{left + pw}" y1="{sy(t):.1f}" y2="{sy(t):.1f}"/>')
        out.append(
            f'<text class="tick" x="{left - 6}" y="{sy(t) + 4:.1f}" text-anchor="end">{escape(chart.y_fmt(t))}</text>'
        )
    for t in _nice_ticks(x_lo, x_hi, 6):
        out.append(
            f'<text class="tick" x="{sx(t):.1f}" y="{top + ph + 16}" text-anchor="middle">'
            f"{escape(chart.x_fmt(t))}</text>"
        )
    out.append(
        f'<line class="axis" x1="{left}" x2="{left + pw}" y1="{sy(max(y_lo, 0)):.1f}" y2="{sy(max(y_lo, 0)):.1f}"/>'
    )
    if chart.x_label:
        out.append(
            f'<text class="axis-label" x="{left + pw / 2}" y="{h - 6}" text-anchor="middle">'
            f"{escape(chart.x_label)}</text>"
        )
    if chart.y_label:
        out.append(
            f'<text class="axis-label" x="12" y="{top + ph / 2}" text-anchor="middle" '
            f'transform="rotate(-90 12 {top + ph / 2})">{escape(chart.y_label)}</text>'
        )
    bar_w = pw * gap / (x_hi - x_lo) * 0.8 / max(1, len(bars))
    for i, s in enumerate(chart.series):
        css = s.css or f"series-{i}"
        points = list(s.points) if s.kind == "path" else sorted(s.points)
        if s.kind == "bar":
            k = bars.index(s)
            for x, y in points:
                x0 = sx(x) - bar_w * len(bars) / 2 + k * bar_w
                y0, y1 = sorted((sy(0), sy(y)))
                tip = _("%(series)s: %(y)s at %(x)s", series=s.name, y=chart.y_fmt(y), x=chart.x_fmt(x))
                out.append(
                    f'<rect class="bar {css}" x="{x0:.1f}" y="{y0:.1f}" width="{bar_w:.1f}" '
                    f'height="{max(0.5, y1 - y0):.1f}"><title>{escape(tip)}</title></rect>'
                )
            continue
        if not points:
            continue
        coords: list[str] = []
        for j, (x, y) in enumerate(points):
            if s.kind == "step" and j > 0:
                coords.append(f"{sx(x):.1f},{sy(points[j - 1][1]):.1f}")
            coords.append(f"{sx(x):.1f},{sy(y):.1f}")
        out.append(
            f'<polyline class="line {css}" points="{" ".join(coords)}"><title>{escape(s.name)}</title></polyline>'
        )
    for hl in chart.hlines:
        out.append(f'<line class="{hl.css}" x1="{left}" x2="{left + pw}" y1="{sy(hl.y):.1f}" y2="{sy(hl.y):.1f}"/>')
        out.append(
            f'<text class="{hl.css}-label" x="{left + pw - 4}" y="{sy(hl.y) - 4:.1f}" text-anchor="end">'
            f"{escape(hl.label)}</text>"
        )
    out.append("</svg>")
    legend = "".join(
        f'<span class="legend-item"><span class="swatch {s.css or f"series-{i}"}"></span>{escape(s.name)}</span>'
        for i, s in enumerate(chart.series)
    )
    return Markup(f'<figure class="chart-box">{"".join(out)}<figcaption class="legend">{legend}</figcaption></figure>')


def depth_chart(bids: list[dict[str, int]], asks: list[dict[str, int]],
                window: tuple[int, int] | None = None) -> Markup:  # fmt: skip
    """Cumulative kWh available at each price: bids to the left of the spread, asks to the right.

    `window` (units/kWh, e.g. around the grid tariffs) bounds the price axis: levels outside it are not drawn (one
    400 sen/kWh ask made every other level a sliver) and are listed below the chart instead."""
    from webapp.units import fmt_kwh, fmt_price, kwh, price_sen

    outside: list[str] = []

    def inside(levels: list[dict[str, int]], name: str) -> list[dict[str, int]]:
        if window is None:
            return levels
        kept = []
        for lvl in levels:
            if window[0] <= lvl["price"] <= window[1]:
                kept.append(lvl)
            else:
                what = {"side": name, "kwh": fmt_kwh(lvl["amount_wh"]), "price": fmt_price(lvl["price"])}
                outside.append(_("%(side)s %(kwh)s at %(price)s", **what))
        return kept

    def cumulative(levels: list[dict[str, int]]) -> list[Point]:
        # Corners of the step: each level raises the cumulative amount at its price, starting from zero.
        total, out = 0.0, []
        for lvl in levels:
            p = price_sen(lvl["price"])
            out.append((p, total))
            total += kwh(lvl["amount_wh"])
            out.append((p, total))
        return out

    shown_bids, shown_asks = inside(bids, _("bid")), inside(asks, _("ask"))
    chart = xy_chart(
        Chart(
            series=[
                Series(_("Bids (buy)"), cumulative(shown_bids), "path", "bid"),
                Series(_("Asks (sell)"), cumulative(shown_asks), "path", "ask"),
            ],
            x_label=_("price (sen/kWh)"),
            y_label=_("cumulative kWh"),
            height=220,
            x_fmt=lambda v: f"{v:g}",
            y_fmt=lambda v: f"{v:g}",
            x_range=(price_sen(window[0]), price_sen(window[1])) if window else None,
        )
    )
    if not outside:
        return chart
    note = "; ".join(outside)
    label = escape(_("Off the chart (far from the grid prices): %(levels)s.", levels=note))
    return Markup(f'{chart}<p class="chart-note small" id="depth-outliers">{label}</p>')
