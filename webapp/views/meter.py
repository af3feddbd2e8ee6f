"""My meter: per interval, energy exported (surplus, minted as tokens) and imported (deficit: from own tokens
or from the grid), from EnergyToken ReadingRecorded events, as a chart and a table."""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime

from flask import Blueprint, render_template, request
from flask_babel import gettext as _
from flask_login import current_user, login_required

from webapp.charts import Chart, Series, xy_chart
from webapp.errors import UserError
from webapp.models import Reading
from webapp.services.meter_periods import MeterPeriods, meter_periods
from webapp.services.meters import meter_page
from webapp.services.periods import community_zone
from webapp.units import kwh

bp = Blueprint("meter", __name__, url_prefix="/meter")
VIEWS = ("interval", "day", "week", "month")


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
        Series(_("Surplus exported = tokens minted (kWh)"), [(x, kwh(per_interval[x][0])) for x in xs], "bar", "gen"),
        Series(_("Consumed from own tokens (kWh)"), [(x, -kwh(per_interval[x][1])) for x in xs], "bar", "burn"),
        Series(_("Drawn from the grid (kWh)"), [(x, -kwh(per_interval[x][2])) for x in xs], "bar", "gridimp"),
    ]
    if model:
        generation, consumption = _("Generation (simulated meter)"), _("Consumption (simulated meter)")
        series += [
            Series(generation, [(x, kwh(model[x][0])) for x in xs if x in model], "line", "pv"),
            Series(consumption, [(x, -kwh(model[x][1])) for x in xs if x in model], "line", "use"),
        ]
    return xy_chart(Chart(
        series=series, x_label=_("interval start (UTC)"), y_label=_("kWh (+ export / - import)"), x_fmt=_hour_label,
        y_fmt=lambda v: f"{v:g}", title=title,
    ))  # fmt: skip


def periods_chart(data: MeterPeriods):
    rows = list(reversed(data.periods))
    xs = {p.start: i for i, p in enumerate(rows)}
    labels = [p.label for p in rows]
    return xy_chart(Chart(
        series=[
            Series(_("Surplus exported = tokens minted (kWh)"), [(xs[p.start], kwh(p.surplus_wh)) for p in rows], "bar",
                   "gen"),
            Series(_("Consumed from own tokens (kWh)"), [(xs[p.start], -kwh(p.own_tokens_wh)) for p in rows], "bar",
                   "burn"),
            Series(_("Drawn from the grid (kWh)"), [(xs[p.start], -kwh(p.grid_wh)) for p in rows], "bar", "gridimp"),
        ],
        x_label=_("period"), y_label=_("kWh (+ export / - import)"),
        x_fmt=lambda v: labels[round(v)] if labels and 0 <= round(v) < len(labels) and v == round(v) else "",
        y_fmt=lambda v: f"{v:g}",
    ))  # fmt: skip


@bp.get("")
@login_required
def index():
    selected = request.args.get("meter")
    by = request.args.get("by", "interval")
    if by not in VIEWS:
        raise UserError(_("by must be one of: %(choices)s.", choices=", ".join(VIEWS)), "invalid_view")
    page = meter_page(current_user.address, selected)
    periods = None
    if by != "interval":
        ids = [m.meter_id for m in page.meters if not selected or m.meter_id == selected]
        periods = meter_periods(ids, by, community_zone())
    chart = periods_chart(periods) if periods is not None else meter_chart(page.recent, page.model)
    return render_template("meter.html", meters=page.meters, selected=selected, readings=page.readings,
                           chart=chart, totals=page.totals, shown=page.shown,
                           modelled=bool(page.model), by=by, views=VIEWS, periods=periods)  # fmt: skip
