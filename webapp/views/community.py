"""The community's grid state now: the latest interval's supply, demand and grid energy, prices and tariffs."""

from __future__ import annotations

from flask import Blueprint, render_template
from flask_babel import gettext as _

from webapp.charts import Chart, Series, xy_chart
from webapp.formatting import timefmt
from webapp.services import community
from webapp.services.periods import community_zone
from webapp.units import kwh

bp = Blueprint("community", __name__)


@bp.get("/community")
def index():
    state = community.grid_state()
    tz = community_zone()
    xs = [i.interval for i in state.recent]
    chart = xy_chart(Chart(
        series=[
            Series(_("Surplus (kWh)"), [(i.interval, kwh(i.surplus_wh)) for i in state.recent], "bar", "gen"),
            Series(_("Deficit from own tokens (kWh)"), [(i.interval, -kwh(i.own_tokens_wh)) for i in state.recent],
                   "bar", "burn"),
            Series(_("Deficit from the grid (kWh)"), [(i.interval, -kwh(i.grid_wh)) for i in state.recent], "bar",
                   "gridimp"),
        ],
        x_label=_("interval start"), y_label=_("kWh (+ surplus / - deficit)"),
        x_fmt=lambda v: timefmt(v, tz)[11:16] if xs else "", y_fmt=lambda v: f"{v:g}",
        title=_("The community's last %(n)d intervals", n=len(xs)),
    ))  # fmt: skip
    return render_template("community.html", state=state, chart=chart)
