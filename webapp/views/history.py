"""Trade history (my trades on every venue with totals, pages, a period filter and CSV) and the market's price and
volume history (charts and a table per hour, day, week or month)."""

from __future__ import annotations

import time
from datetime import UTC, datetime

from flask import Blueprint, Response, current_app, render_template, request
from flask_babel import gettext as _
from flask_login import current_user, login_required

from webapp.charts import Chart, HLine, Series, xy_chart
from webapp.errors import UserError
from webapp.services import history, tariff_history
from webapp.services.periods import community_zone, date_range, local_date, preset_ranges
from webapp.units import kwh, price_sen
from webapp.views.helpers import page_number

bp = Blueprint("history", __name__)
MARKET_BUCKETS = ("hour", "day", "week", "month")
WINDOW_TEXT = {  # history.WINDOWS in words
    "hour": lambda: _("the last 48 hours"),
    "day": lambda: _("the last 31 days"),
    "week": lambda: _("the last 26 weeks"),
    "month": lambda: _("the last 12 months"),
}


def period_from_request():
    return date_range(request.args.get("from"), request.args.get("to"), community_zone())


@bp.get("/account/trades")
@login_required
def trades():
    tz = community_zone()
    period = period_from_request()
    mine = history.my_trades(current_user.address, period)
    page = mine.page(page_number(), int(current_app.config["PAGE_SIZE"]))
    return render_template("history/trades.html", mine=mine, page=page, period=period,
                           presets=preset_ranges(int(time.time()), tz))  # fmt: skip


@bp.get("/account/trades.csv")
@login_required
def trades_csv():
    tz = community_zone()
    period = period_from_request()
    mine = history.my_trades(current_user.address, period)
    return csv_response(history.to_csv(mine.rows, tz), period.args, tz)


def csv_response(body: str, args: dict[str, str], tz) -> Response:
    """A CSV download named after the account's trades and the period."""
    span = "-".join(args.get(k, "") for k in ("from", "to")).strip("-") or local_date(int(time.time()), tz).isoformat()
    return Response(body, mimetype="text/csv", headers={
        "Content-Disposition": f'attachment; filename="trades-{span}.csv"', "Cache-Control": "no-store"})  # fmt: skip


def bucket_arg(default: str = "hour") -> str:
    bucket = request.args.get("bucket", default)
    if bucket not in MARKET_BUCKETS:
        raise UserError(_("bucket must be one of: %(choices)s.", choices=", ".join(MARKET_BUCKETS)), "invalid_bucket")
    return bucket


@bp.get("/history")
def market():
    tz = community_zone()
    bucket = bucket_arg()
    rows = history.market_history(bucket, tz)
    tariffs = tariff_history.load().at(2**62)
    hlines = []
    if tariffs is not None:
        retail, feed_in = f"{price_sen(tariffs.retail):g}", f"{price_sen(tariffs.feed_in):g}"
        hlines = [HLine(price_sen(tariffs.retail), _("grid retail now %(sen)s sen", sen=retail)),
                  HLine(price_sen(tariffs.feed_in), _("feed-in now %(sen)s sen", sen=feed_in))]  # fmt: skip
    pattern = {"hour": "%d %b %H:%M", "day": "%d %b", "week": "%d %b", "month": "%b %Y"}[bucket]

    def x_fmt(v: float) -> str:
        return datetime.fromtimestamp(v, UTC).astimezone(tz).strftime(pattern)

    price_chart = xy_chart(Chart(
        series=[Series(_("Average price (sen/kWh, volume-weighted)"), [
            (r.start, price_sen(r.avg_price)) for r in rows if r.avg_price is not None], "line", "series-0")],
        hlines=hlines, x_label=_("time (%(zone)s)", zone=current_app.config["COMMUNITY_TIMEZONE"]),
        y_label=_("sen/kWh"), x_fmt=x_fmt, y_fmt=lambda v: f"{v:g}", title=_("Local trade price"),
    ))  # fmt: skip
    venue_names = {"book": _("Order book"), "auction": _("Auction"), "offer": _("Direct offers")}
    volume_chart = xy_chart(Chart(
        series=[Series(_("%(venue)s (kWh)", venue=venue_names[v]), [(r.start, kwh(r.volume_wh[v])) for r in rows],
                       "bar", f"series-{i}") for i, v in enumerate(history.VENUES)],
        x_label=_("time (%(zone)s)", zone=current_app.config["COMMUNITY_TIMEZONE"]), y_label=_("kWh"), x_fmt=x_fmt,
        y_fmt=lambda v: f"{v:g}", title=_("Local trade volume"),
    ))  # fmt: skip
    return render_template("history/market.html", rows=list(reversed(rows)), bucket=bucket, buckets=MARKET_BUCKETS,
                           price_chart=price_chart, volume_chart=volume_chart, venue_names=venue_names,
                           window=WINDOW_TEXT[bucket]())  # fmt: skip
