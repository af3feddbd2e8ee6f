"""My meter: per interval, energy exported (surplus, minted as tokens) and imported (deficit: from own tokens
or from the grid), from EnergyToken ReadingRecorded events, as a chart and a table."""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime

from flask import Blueprint, render_template, request
from flask_login import current_user, login_required

from webapp.charts import Chart, Series, xy_chart
from webapp.models import Reading
from webapp.services.meters import meter_page
from webapp.units import kwh

bp = Blueprint("meter", __name__, url_prefix="/meter")


def _hour_label(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%d %H:%M")


def meter_chart(readings: list[Reading], model: dict[int, tuple[int, int]] | None = None, title: str = ""):
    per_interval: dict[int, list[int]] = defaultdict(lambda: [0, 0, 0])
    for r in readings:
        row = per_interval[r.interval]
        row[0] += r.minted_wh
        row[1] += r.burned_wh
        row[2] += r.grid_wh
    xs = sorted(per_interval)
    series = [
        Series("Surplus exported = tokens minted (kWh)", [(x, kwh(per_interval[x][0])) for x in xs], "bar", "gen"),
        Series("Consumed from own tokens (kWh)", [(x, -kwh(per_interval[x][1])) for x in xs], "bar", "burn"),
        Series("Drawn from the grid (kWh)", [(x, -kwh(per_interval[x][2])) for x in xs], "bar", "gridimp"),
    ]
    if model:
        series += [
            Series("Generation (simulated meter)", [(x, kwh(model[x][0])) for x in xs if x in model], "line", "pv"),
            Series("Consumption (simulated meter)", [(x, -kwh(model[x][1])) for x in xs if x in model], "line", "use"),
        ]
    return xy_chart(Chart(
        series=series, x_label="interval start (UTC)", y_label="kWh (+ export / - import)", x_fmt=_hour_label,
        y_fmt=lambda v: f"{v:g}", title=title,
    ))  # fmt: skip


@bp.get("")
@login_required
def index():
    selected = request.args.get("meter")
    page = meter_page(current_user.address, selected)
    return render_template("meter.html", meters=page.meters, selected=selected, readings=page.readings,
                           chart=meter_chart(page.recent, page.model), totals=page.totals, shown=page.shown,
                           modelled=bool(page.model))  # fmt: skip
