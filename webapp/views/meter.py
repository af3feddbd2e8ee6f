"""My meter: per interval, energy exported (surplus, minted as tokens) and imported (deficit: from own tokens
or from the grid), from EnergyToken ReadingRecorded events, as a chart and a table."""

from __future__ import annotations

import itertools
from collections import defaultdict
from datetime import UTC, datetime

from flask import Blueprint, render_template, request
from flask_login import current_user, login_required
from sqlalchemy import select

from webapp.charts import Chart, Series, xy_chart
from webapp.extensions import db
from webapp.meter_model import modelled
from webapp.models import Meter, Reading
from webapp.units import kwh

bp = Blueprint("meter", __name__, url_prefix="/meter")
INTERVALS_SHOWN = 96


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
    return xy_chart(
        Chart(
            series=series,
            x_label="interval start (UTC)",
            y_label="kWh (+ export / - import)",
            x_fmt=_hour_label,
            y_fmt=lambda v: f"{v:g}",
            title=title,
        )
    )


def _recent(readings: list[Reading]) -> tuple[list[Reading], int]:
    """The latest run of intervals (older outliers such as a starter balance would flatten the chart) and the
    reporting period (smallest gap between intervals)."""
    intervals = sorted({r.interval for r in readings}, reverse=True)[:INTERVALS_SHOWN]
    gaps = [a - b for a, b in itertools.pairwise(intervals) if a > b]
    period = min(gaps) if gaps else 900
    since = intervals[0] - INTERVALS_SHOWN * period if intervals else 0
    return [r for r in readings if r.interval >= since], period


@bp.get("")
@login_required
def index():
    meters = list(db.session.scalars(select(Meter).where(Meter.owner == current_user.address)))
    selected = request.args.get("meter")
    chosen = [m for m in meters if not selected or m.meter_id == selected]
    ids = [m.meter_id for m in chosen]
    readings: list[Reading] = []
    if ids:
        query = (
            select(Reading)
            .where(Reading.meter_id.in_(ids))
            .order_by(Reading.interval.desc())
            .limit(INTERVALS_SHOWN * len(ids))
        )
        readings = list(db.session.scalars(query))
    recent, period = _recent(readings)
    model: dict[int, tuple[int, int]] = {}
    if len(chosen) == 1:  # the model is per household
        model = modelled(chosen[0].serial, sorted({r.interval for r in recent}), period)
    totals = {
        "minted": sum(r.minted_wh for r in recent),
        "burned": sum(r.burned_wh for r in recent),
        "grid": sum(r.grid_wh for r in recent),
    }
    return render_template(
        "meter.html",
        meters=meters,
        selected=selected,
        readings=readings[:INTERVALS_SHOWN],
        chart=meter_chart(recent, model),
        totals=totals,
        shown=len({r.interval for r in recent}),
        modelled=bool(model),
    )
