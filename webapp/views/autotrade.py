"""Automatic trading page: the agent's bounds (a mandate on chain), turning it on and off, what it did and why,
and its forecast beside the meter's actual readings."""

from __future__ import annotations

from datetime import datetime

from flask import Blueprint, current_app, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from webapp.charts import Chart, Series, xy_chart
from webapp.errors import UserError
from webapp.formatting import zone
from webapp.services import auctions, autotrade
from webapp.services.price_band import Band
from webapp.units import UNITS_PER_MYR, UNITS_PER_SEN, WH_PER_KWH, kwh
from webapp.views.helpers import page_number

bp = Blueprint("autotrade", __name__, url_prefix="/autotrade")


def forecast_chart(rows: list[dict]):
    """Forecast generation and load per interval (dashed) beside the meter's actual readings (solid)."""
    community = zone(current_app.config["COMMUNITY_TIMEZONE"])

    def points(kind: str, key: str) -> list[tuple[float, float]]:
        return [(r["interval"], kwh(r[kind][key])) for r in rows if r[kind] and r[kind][key] is not None]

    return xy_chart(Chart(
        series=[
            Series(_("Generation forecast"), points("forecast", "generation_wh"), "line", "pv"),
            Series(_("Generation actual"), points("actual", "generation_wh"), "line", "gen"),
            Series(_("Consumption forecast"), points("forecast", "load_wh"), "line", "use"),
            Series(_("Consumption actual"), points("actual", "load_wh"), "line", "demand"),
        ],
        x_label=_("interval start (%(zone)s)", zone=current_app.config["COMMUNITY_TIMEZONE"]),
        y_label=_("kWh per interval"),
        x_fmt=lambda v: datetime.fromtimestamp(v, community).strftime("%d %H:%M"),
        y_fmt=lambda v: f"{v:g}",
        title=_("Forecast and actual"),
        height=240,
    ))  # fmt: skip


def _defaults(state: autotrade.State | None) -> dict[str, object]:
    """What the form shows: the terms on chain, else a start from the grid tariffs (never sell below what the grid
    pays for export, never buy above what it charges)."""
    terms = state.terms if state else None
    if terms is not None:
        return {
            "min_sell_price_sen": _number(terms.min_sell_price / UNITS_PER_SEN),
            "max_buy_price_sen": "" if terms.max_buy_price >= autotrade.UINT128_MAX
            else _number(terms.max_buy_price / UNITS_PER_SEN),
            "reserve_kwh": _number(terms.reserve_wh / WH_PER_KWH),
            "daily_cap_myr": "" if terms.daily_spend_cap >= autotrade.UINT128_MAX
            else _number(terms.daily_spend_cap / UNITS_PER_MYR),
            "venues": [n for n, bit in autotrade.VENUES if terms.venues & bit],
            "weights": dict(zip(autotrade.WEIGHT_TERMS, terms.weights, strict=True)),
            "valid_days": "",
        }  # fmt: skip
    band = _band()
    return {
        "min_sell_price_sen": _number(band.feed_in / UNITS_PER_SEN) if band else "",
        "max_buy_price_sen": _number(band.retail / UNITS_PER_SEN) if band else "",
        "reserve_kwh": "1",
        "daily_cap_myr": "5",
        "venues": [n for n, _bit in autotrade.VENUES],
        "weights": dict(zip(autotrade.WEIGHT_TERMS, autotrade.DEFAULT_WEIGHTS, strict=True)),
        "valid_days": "",
    }


def _number(value: float) -> str:
    return f"{value:.6f}".rstrip("0").rstrip(".")


def _band() -> Band | None:
    try:
        return Band.of(auctions.grid_tariffs())
    except UserError:
        return None


def bounds_from_form() -> autotrade.Bounds:
    form = request.form
    return autotrade.Bounds(
        min_sell_price_sen=form.get("min_sell_price_sen", ""),
        max_buy_price_sen=form.get("max_buy_price_sen", ""),
        reserve_kwh=form.get("reserve_kwh", ""),
        daily_cap_myr=form.get("daily_cap_myr", ""),
        venues=form.getlist("venues"),
        weights={t: form.get(f"weight_{t}", "") for t in autotrade.WEIGHT_TERMS},
        valid_days=form.get("valid_days", ""),
    )


@bp.get("")
@login_required
def index():
    state, error = None, None
    try:
        state = autotrade.state(current_user)
    except UserError as exc:
        error = exc.localized()
    draft = _defaults(state)
    kept = _take_draft()
    if kept:
        draft.update(kept)
    size = current_app.config["AUTOTRADE_PAGE_SIZE"]
    log = autotrade.decisions(current_user.address, page_number(), size)
    rows = autotrade.forecast_vs_actual(current_user.address)
    return render_template(
        "autotrade.html",
        state=state,
        chain_error=error,
        draft=draft,
        log=log,
        rows=rows[-24:][::-1],
        chart=forecast_chart(rows),
        weights=autotrade.weight_labels(),
        venues=autotrade.venue_labels(),
        max_price=current_app.config["MAX_PRICE_SEN"],
        max_weight=autotrade.MAX_WEIGHT,
        max_days=autotrade.MAX_VALID_DAYS,
        venue_bits=autotrade.VENUES,
        uint_max=autotrade.UINT128_MAX,
    )


def _keep_draft() -> None:
    session["autotrade_draft"] = {
        "min_sell_price_sen": request.form.get("min_sell_price_sen", ""),
        "max_buy_price_sen": request.form.get("max_buy_price_sen", ""),
        "reserve_kwh": request.form.get("reserve_kwh", ""),
        "daily_cap_myr": request.form.get("daily_cap_myr", ""),
        "venues": request.form.getlist("venues"),
        "weights": {t: request.form.get(f"weight_{t}", "") for t in autotrade.WEIGHT_TERMS},
        "valid_days": request.form.get("valid_days", ""),
    }


def _take_draft() -> dict[str, object]:
    return session.pop("autotrade_draft", None) or {}


@bp.post("")
@login_required
def save():
    """Turn on or change the bounds (custodial: signed with the session's key; browser wallets sign in the page)."""
    try:
        terms = autotrade.turn_on(current_user, bounds_from_form())
    except UserError as exc:  # back to this page (not the referrer) with the message and what was typed
        _keep_draft()
        flash(exc.localized(), "error")
        return redirect(url_for("autotrade.index"))
    flash(_("Automatic trading is on. The agent %(agent)s may now trade for you within these bounds, enforced "
            "on chain.", agent=terms.agent), "success")  # fmt: skip
    return redirect(url_for("autotrade.index"))


@bp.post("/off")
@login_required
def off():
    try:
        autotrade.turn_off(current_user)
    except UserError as exc:
        flash(exc.localized(), "error")
        return redirect(url_for("autotrade.index"))
    flash(_("Automatic trading is off: the agent's mandate is revoked on chain and it can no longer trade for you."),
          "success")  # fmt: skip
    return redirect(url_for("autotrade.index"))
