"""Auction page: current round and countdown, submit a bid/ask, last clearing price and its supply/demand curves."""

from __future__ import annotations

from flask import Blueprint, current_app, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from webapp.charts import Chart, HLine, Series, xy_chart
from webapp.errors import UserError
from webapp.formatting import round_window, zone
from webapp.forms import AuctionForm
from webapp.services import auctions, sealed
from webapp.services.context import sync_index
from webapp.units import InvalidAmount, fmt_kwh, fmt_myr, fmt_price, kwh, parse_energy_kwh, parse_price_sen, price_sen
from webapp.views.helpers import keeps_draft, order_form_values
from webapp.views.market import grid_band, order_draft

bp = Blueprint("auction", __name__, url_prefix="/auction")


def curves_chart(rnd, title: str):
    if rnd is None:
        return xy_chart(Chart(series=[], title=title))
    c = auctions.round_curves(rnd)
    hlines = (
        [HLine(price_sen(rnd.clearing_price), _("clearing %(price)s", price=fmt_price(rnd.clearing_price)))]
        if rnd.clearing_price
        else []
    )
    return xy_chart(
        Chart(
            series=[
                Series(_("Supply (asks)"), [(kwh(q), price_sen(p)) for q, p in c["supply"]], "path", "supply"),
                Series(_("Demand (bids)"), [(kwh(q), price_sen(p)) for q, p in c["demand"]], "path", "demand"),
            ],
            hlines=hlines,
            x_label=_("cumulative kWh"),
            y_label=_("price (sen/kWh)"),
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
    sealed_round, commitments = None, []
    if current is not None:
        try:
            sealed_round = sealed.current_round()
            if current_user.is_authenticated:
                commitments = sealed.commitments(current_user)
        except UserError as exc:
            error = exc.localized()
    last = auctions.last_cleared()
    tz = zone(current_app.config["COMMUNITY_TIMEZONE"])
    title = (
        _("Supply and demand, round %(window)s", window=round_window(last.round_id, round_length(last), tz))
        if last
        else _("No cleared round yet")
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
        sealed_round=sealed_round,
        commitments=commitments,
        forfeit_percent=sealed.FORFEIT_PERCENT,
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


# ---------------------------------------------------------------------- sealed rounds: commit, then reveal
def _sealed_values(form) -> tuple[str, int, int]:
    side = form.get("side", "")
    try:
        price = parse_price_sen(form.get("price", ""), current_app.config["MAX_PRICE_SEN"])
        amount = parse_energy_kwh(form.get("amount", ""), current_app.config["MAX_ORDER_KWH"])
    except InvalidAmount as exc:
        raise UserError(str(exc), "invalid_amount") from exc
    return side, price, amount


@bp.post("/sealed/commit")
@login_required
@keeps_draft
def sealed_commit():
    form = AuctionForm()
    values = order_form_values(form, grid_band())
    if values is None:
        return redirect(url_for("auction.index"))
    (price, amount), side = values, form.side.data
    row = sealed.commit(current_user, side, price, amount)
    what = _("Sealed bid") if side == "buy" else _("Sealed ask")
    deposit = fmt_myr(row.money_deposit, 4) if row.money_deposit else fmt_kwh(row.energy_deposit)
    flash(_("%(what)s #%(id)d committed: %(kwh)s at %(price)s, hidden until you reveal it. Deposit held: "
            "%(deposit)s. Its salt is kept with your account, so you can reveal it from any session once the "
            "reveal window opens.", what=what, id=row.order_id, kwh=fmt_kwh(amount), price=fmt_price(price),
            deposit=deposit), "success")  # fmt: skip
    return redirect(url_for("auction.index"))


@bp.post("/sealed/<int:commitment_id>/reveal")
@login_required
def sealed_reveal(commitment_id: int):
    row = sealed.reveal(current_user, commitment_id)
    sync_index()
    flash(_("Sealed order #%(id)d revealed: it is in the round's book and settles at the clearing price.",
            id=row.order_id), "success")  # fmt: skip
    return redirect(url_for("auction.index"))


@bp.post("/sealed/reveal-all")
@login_required
def sealed_reveal_all():
    rows = sealed.reveal_all(current_user)
    sync_index()
    if rows:
        flash(_("Revealed: %(ids)s.", ids=", ".join(f"#{r.order_id}" for r in rows)), "success")
    else:
        flash(_("No sealed order of yours is waiting for its reveal now."), "info")
    return redirect(url_for("auction.index"))


@bp.post("/sealed/<int:commitment_id>/settle")
@login_required
def sealed_settle(commitment_id: int):
    paid = sealed.settle(current_user, commitment_id)
    sync_index()
    if paid["state"] == "forfeited":
        kept = fmt_myr(int(paid["forfeit_money"]), 4) if paid.get("forfeit_money") else fmt_kwh(
            int(paid.get("forfeit_energy", 0)))  # fmt: skip
        flash(_("Not revealed, so it did not trade: the deposit came back less %(kept)s (%(p)d %%, to the "
                "community fund).", kept=kept, p=sealed.FORFEIT_PERCENT), "info")  # fmt: skip
    else:
        flash(_("Settled: %(kwh)s traded for %(money)s.", kwh=fmt_kwh(int(paid.get("fill_wh", 0))),
                money=fmt_myr(int(paid.get("money", 0)), 4)), "success")  # fmt: skip
    return redirect(url_for("auction.index"))


# Browser wallets: the server stores the commitment (and its salt) and prepares the transactions; the wallet signs.
def _json_body() -> dict:
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise UserError(_("Send a JSON object."), "invalid_body")
    return body


@bp.post("/sealed/prepare")
@login_required
def sealed_prepare():
    body = _json_body()
    side, price, amount = _sealed_values({k: str(body.get(k, "")) for k in ("side", "price", "amount")})
    return jsonify(sealed.prepare_commit(current_user, side, price, amount))


@bp.post("/sealed/<int:commitment_id>/mined")
@login_required
def sealed_mined(commitment_id: int):
    tx_hash = str(_json_body().get("tx_hash", ""))
    if len(tx_hash) != 66 or not tx_hash.startswith("0x"):
        raise UserError(_("Send the commit transaction's hash."), "invalid_tx_hash")
    row = sealed.committed(current_user, commitment_id, tx_hash)
    return jsonify({"id": row.id, "order_id": row.order_id, "status": row.status})


@bp.post("/sealed/<int:commitment_id>/prepare-reveal")
@login_required
def sealed_prepare_reveal(commitment_id: int):
    return jsonify(sealed.prepare_reveal(current_user, commitment_id))
