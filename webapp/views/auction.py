"""Auction page: current round and countdown, submit a bid/ask, last clearing price and its supply/demand curves."""

from __future__ import annotations

from flask import Blueprint, current_app, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from webapp.charts import Chart, HLine, Series, xy_chart
from webapp.errors import UserError
from webapp.formatting import round_window, zone
from webapp.forms import AuctionForm
from webapp.services import auctions
from webapp.services.context import sync_index
from webapp.units import fmt_kwh, fmt_price, kwh, price_sen
from webapp.views.helpers import keeps_draft, order_form_values
from webapp.views.market import grid_band, order_draft

bp = Blueprint("auction", __name__, url_prefix="/auction")


def curves_chart(rnd, title: str):
    if rnd is None:
        return xy_chart(Chart(series=[], title=title))
    c = auctions.round_curves(rnd)
    hlines = (
        [HLine(price_sen(rnd.clearing_price), f"clearing {fmt_price(rnd.clearing_price)}")]
        if rnd.clearing_price
        else []
    )
    return xy_chart(
        Chart(
            series=[
                Series("Supply (asks)", [(kwh(q), price_sen(p)) for q, p in c["supply"]], "path", "supply"),
                Series("Demand (bids)", [(kwh(q), price_sen(p)) for q, p in c["demand"]], "path", "demand"),
            ],
            hlines=hlines,
            x_label="cumulative kWh",
            y_label="price (sen/kWh)",
            title=title,
            x_fmt=lambda v: f"{v:g}",
            y_fmt=lambda v: f"{v:g}",
        )
    )


@bp.get("")
def index():
    current, error = None, None
    try:
        current = auctions.current_round()
    except UserError as exc:
        error = exc.localized()
    last = auctions.last_cleared()
    tz = zone(current_app.config["COMMUNITY_TIMEZONE"])
    title = (
        f"Supply and demand, round {round_window(last.round_id, round_length(last), tz)}"
        if last
        else "No cleared round yet"
    )
    return render_template(
        "auction.html",
        current=current,
        chain_error=error,
        last=last,
        chart=curves_chart(last, title),
        rounds=auctions.recent_rounds(),
        form=AuctionForm(),
        draft=order_draft() if current_user.is_authenticated else {},
        band=grid_band(),
        round_length=round_length,
        mine=auctions.my_orders(current_user.address) if current_user.is_authenticated else [],
        max_price=current_app.config["MAX_PRICE_SEN"],
        max_kwh=current_app.config["MAX_ORDER_KWH"],
    )


def round_length(rnd) -> int | None:
    """Seconds from a round's start (its id) to the end of its order window, when the index knows it."""
    return int(rnd.end) - int(rnd.round_id) if rnd is not None and rnd.end and rnd.end > rnd.round_id else None


@bp.post("/order")
@login_required
@keeps_draft
def submit():
    form = AuctionForm()
    values = order_form_values(form, grid_band())
    if values is None:
        return redirect(url_for("auction.index"))
    price, amount = values
    result = auctions.submit(current_user, form.side.data, price, amount, wait=True)
    sync_index()
    try:
        length = auctions.current_round().interval
    except UserError:
        length = None
    window = round_window(result["round_id"], length, zone(current_app.config["COMMUNITY_TIMEZONE"]))
    what = {"id": result["order_id"], "amount": fmt_kwh(amount), "price": fmt_price(price), "window": window}
    if form.side.data == "buy":
        message = _("Bid #%(id)s for %(amount)s at %(price)s entered in the round of %(window)s. It settles at the "
                    "round's clearing price.", **what)  # fmt: skip
    else:
        message = _("Ask #%(id)s for %(amount)s at %(price)s entered in the round of %(window)s. It settles at the "
                    "round's clearing price.", **what)  # fmt: skip
    flash(message, "success")
    return redirect(url_for("auction.index"))
