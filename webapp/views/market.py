"""Market page: depth of bids and asks, recent trades, place and cancel orders (with confirmation)."""

from __future__ import annotations

from dataclasses import replace

from flask import Blueprint, current_app, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from webapp.charts import depth_chart
from webapp.errors import UserError
from webapp.forms import CancelForm, OrderForm
from webapp.services import offers, trading
from webapp.services.context import sync_index
from webapp.services.price_band import grid_band
from webapp.units import InvalidAmount, fmt_kwh, fmt_myr, fmt_price, parse_energy_kwh
from webapp.validation import UINT256_MAX, parse_uint
from webapp.views.helpers import keeps_draft, order_form_values, take_draft

bp = Blueprint("market", __name__, url_prefix="/market")


@bp.get("")
def index():
    book, error = {"bids": [], "asks": []}, None
    try:
        book = trading.depth()
    except UserError as exc:
        error = exc.localized()
    mine = trading.open_orders(current_user.address) if current_user.is_authenticated else []
    listed = {"bids": [], "asks": []}
    if error is None:
        try:
            listed = offers.listed(current_user.address if current_user.is_authenticated else None)
        except UserError as exc:
            error = exc.localized()
    band = grid_band()
    return render_template(
        "market.html",
        book=book,
        chart=depth_chart(book["bids"], book["asks"], band.window() if band else None),
        band=band,
        draft=order_draft(),
        chain_error=error,
        trades=trading.recent_trades(limit=20),
        my_orders=mine,
        offers=listed,
        offer_levels=offers.LEVELS,
        form=OrderForm(),
        cancel_form=CancelForm(),
        max_price=current_app.config["MAX_PRICE_SEN"],
        max_kwh=current_app.config["MAX_ORDER_KWH"],
    )


def order_draft() -> dict[str, str]:
    """What the order form shows: the user's input after an error, else the side their role suggests."""
    draft = take_draft()
    if current_user.is_authenticated and not draft.get("side"):
        draft["side"] = trading.default_side(current_user.address)
    return draft


@bp.post("/order")
@login_required
@keeps_draft
def place():
    form = OrderForm()
    values = order_form_values(form, grid_band())
    if values is None:
        return redirect(url_for("market.index"))
    price, amount = values
    result = trading.place_order(current_user, form.side.data, price, amount, form.expiry_minutes.data, wait=True)
    sync_index()
    flash(placement_message(form.side.data, price, amount, result), "success")
    return redirect(url_for("market.index"))


def placement_message(side: str, price: int, amount: int, result: trading.OrderResult) -> str:
    """Exactly what the placement did, from its receipts: fills, follow-ups after the fill cap, what rests."""
    what = {"id": result.order_id, "amount": fmt_kwh(amount), "price": fmt_price(price)}
    if side == "buy":
        parts = [_("Buy order #%(id)s for %(amount)s at %(price)s placed.", **what)]
    else:
        parts = [_("Sell order #%(id)s for %(amount)s at %(price)s placed.", **what)]
    if result.filled_wh:
        filled = {"amount": fmt_kwh(result.filled_wh), "cost": fmt_myr(result.cost, 4), "n": len(result.fills)}
        if len(result.fills) > 1:
            parts.append(_("Filled %(amount)s at once for %(cost)s (%(n)s fills).", **filled))
        else:
            parts.append(_("Filled %(amount)s at once for %(cost)s.", **filled))
    if len(result.order_ids) > 1:
        rest = ", ".join(f"#{i}" for i in result.order_ids[1:])
        parts.append(_("One transaction fills at most %(max)s resting orders, so the sweep continued in %(n)s more "
                       "transaction(s) as order %(rest)s.", max=trading.MAX_FILLS, n=len(result.order_ids) - 1,
                       rest=rest))  # fmt: skip
    if result.resting_wh:
        parts.append(_("%(amount)s rests in the book as order #%(id)s.", amount=fmt_kwh(result.resting_wh),
                       id=result.resting_id))  # fmt: skip
    if result.unplaced_wh:
        parts.append(_("%(amount)s was not placed: the sweep stopped after %(n)s transactions; place it again to "
                       "continue.", amount=fmt_kwh(result.unplaced_wh), n=len(result.order_ids)))  # fmt: skip
    if result.dust_wh:
        parts.append(_("%(amount)s was below the market minimum and did not rest.", amount=fmt_kwh(result.dust_wh)))
    if result.self_trade_cancelled:
        ids = ", ".join(f"#{i}" for i in result.self_trade_cancelled)
        parts.append(_("Your own opposite order %(ids)s was cancelled instead of trading with itself.", ids=ids))
    return " ".join(parts)


@bp.post("/cancel")
@login_required
def cancel():
    form = CancelForm()
    order_id = parse_uint(form.order_id.data, UINT256_MAX) if form.validate_on_submit() else None
    if order_id is None:  # ASCII digits within uint256 only ('²'.isdigit() is true, int('²') fails)
        raise UserError("Choose an order to cancel.", "invalid_order")
    trading.cancel_order(current_user, order_id, wait=True)
    sync_index()
    flash(_("Order #%(id)s cancelled; its escrow was refunded.", id=order_id), "success")
    return redirect(url_for("market.index"))


# ---------------------------------------------------------------------- buy from this offer / sell to this bid
@bp.get("/offer/<int:order_id>")
def offer(order_id: int):
    """The confirmation of taking one order: the dialog's content, and the page itself without JavaScript."""
    chosen = offers.offer(order_id)
    mine = current_user.is_authenticated and chosen.owner.lower() == current_user.address.lower()
    own_ahead = []  # the user's own orders on the chosen order's side that the taker meets (self-trade cancels them)
    if current_user.is_authenticated and not mine:
        listed = offers.listed(current_user.address)["asks" if chosen.side == "sell" else "bids"]
        own_ahead = [o for o in listed if o.mine
                     and (o.price <= chosen.price if chosen.side == "sell" else o.price >= chosen.price)]  # fmt: skip
    template = "_offer_form.html" if request.args.get("partial") == "1" else "offer.html"
    return render_template(template, offer=chosen, mine=mine, own_ahead=own_ahead,
                           own_ahead_ids=", ".join(f"#{o.id}" for o in own_ahead),
                           amount=request.args.get("amount", ""),
                           taker_seconds=offers.TAKER_EXPIRY_SECONDS)  # fmt: skip


def _offer_amount(text: str) -> int | None:
    """The amount typed in the dialog (Wh), or None (empty: all that is left)."""
    text = text.strip()
    try:
        return parse_energy_kwh(text, current_app.config["MAX_ORDER_KWH"]) if text else None
    except InvalidAmount as exc:
        raise UserError(str(exc), "invalid_amount") from exc


@bp.post("/offer/<int:order_id>")
@login_required
def take(order_id: int):
    if not current_user.custodial:  # the form's JavaScript signs in the wallet instead of posting here
        raise UserError(_("With a browser wallet this needs JavaScript: your wallet signs the order in this page."),
                        "wallet_needs_javascript")  # fmt: skip
    amount = _offer_amount(request.form.get("amount") or "")
    result = offers.take(current_user, order_id, amount)
    sync_index()
    flash(take_message(result), "success" if result.filled_wh or result.later_wh else "info")
    return redirect(url_for("market.index"))


def take_message(r: offers.TakeResult) -> str:
    """Exactly what taking an order did, from its receipts."""
    bought = r.taker_side == "buy"
    if not r.filled_wh and not r.later_wh:
        return _("Nothing was filled: order #%(id)d was gone (filled, cancelled or expired) by the time your order "
                 "reached the chain. Nothing rests in the book; nothing was spent.", id=r.order_id)  # fmt: skip
    parts = []
    if r.chosen_wh:
        parts.append(_("%(verb)s %(kwh)s from order #%(id)d at %(price)s.",
                       verb=_("Bought") if bought else _("Sold"), kwh=fmt_kwh(r.chosen_wh), id=r.order_id,
                       price=fmt_price(r.price)))  # fmt: skip
    if r.other_wh:
        prices = sorted({int(f["price"]) for f in r.fills if int(f["maker_id"]) != r.order_id})
        parts.append(_("%(kwh)s filled first from orders ahead of it (a better price, or earlier at the same "
                       "price) at %(prices)s.", kwh=fmt_kwh(r.other_wh),
                       prices=", ".join(fmt_price(p) for p in prices)))  # fmt: skip
    if r.filled_wh:
        parts.append(_("Total %(kwh)s for %(money)s.", kwh=fmt_kwh(r.filled_wh), money=fmt_myr(r.cost, 4)))
    if r.later_wh:
        parts.append(_("%(kwh)s more was filled at %(price)s by another trader in the moment before the rest was "
                       "cancelled.", kwh=fmt_kwh(r.later_wh), price=fmt_price(r.price)))  # fmt: skip
    if r.cancelled_wh:
        parts.append(_("The unfilled %(kwh)s was cancelled at once: nothing rests in the book.",
                       kwh=fmt_kwh(r.cancelled_wh)))  # fmt: skip
    if r.self_trade_cancelled:
        parts.append(_("Your own order %(ids)s on the other side was cancelled instead of trading with itself.",
                       ids=", ".join(f"#{i}" for i in r.self_trade_cancelled)))  # fmt: skip
    return " ".join(parts)


# Browser wallets: the server prepares the taker order (the same rule, webapp.services.offers.taker_order), the
# wallet signs it, /api/v1/tx/raw relays it; then the result comes from its receipt, with the cancel of the rest.
def _json_body() -> dict:
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise UserError(_("Send a JSON object."), "invalid_body")
    return body


@bp.post("/offer/<int:order_id>/prepare")
@login_required
def take_prepare(order_id: int):
    """The unsigned taker order for the user's browser wallet to sign."""
    amount = _offer_amount(str(_json_body().get("amount") or ""))
    return jsonify(offers.prepare_take(current_user.address, order_id, amount))


@bp.post("/offer/<int:order_id>/taken")
@login_required
def take_taken(order_id: int):
    """What the mined taker order did (from its receipt) and, if part of it is still open, its cancel to sign."""
    tx_hash = str(_json_body().get("tx_hash", ""))
    if len(tx_hash) != 66 or not tx_hash.startswith("0x"):
        raise UserError(_("Send the taker order's transaction hash."), "invalid_tx_hash")
    result, taker_id, cancel_tx = offers.taken(current_user.address, order_id, tx_hash)
    sync_index()
    cancelled = None
    if cancel_tx:
        cancelled = _("The unfilled rest of order #%(id)s was cancelled and its escrow returned: nothing rests in "
                      "the book.", id=taker_id)  # fmt: skip
    return jsonify({"message": wallet_take_message(result, taker_id, cancel_tx is not None),
                    "filled_wh": result.filled_wh, "chosen_wh": result.chosen_wh, "other_wh": result.other_wh,
                    "taker_order_id": taker_id, "cancel_tx": cancel_tx, "cancelled_message": cancelled})  # fmt: skip


def wallet_take_message(r: offers.TakeResult, taker_id: int | None, rest_open: bool) -> str:
    """take_message for a browser wallet's taker order, whose unfilled rest the wallet has yet to cancel."""
    if not r.filled_wh and not r.later_wh and not rest_open:
        return take_message(r)
    parts = []
    if r.filled_wh:
        parts.append(take_message(replace(r, later_wh=0)))
    if r.later_wh:  # the rest was not cancelled yet: another trader's order met it after it was mined
        parts.append(_("%(kwh)s more was filled at %(price)s by another trader since.", kwh=fmt_kwh(r.later_wh),
                       price=fmt_price(r.price)))  # fmt: skip
    if not r.filled_wh and not r.later_wh:
        parts.append(_("Nothing was filled: order #%(id)d was gone (filled, cancelled or expired) by the time your "
                       "order reached the chain.", id=r.order_id))  # fmt: skip
    if rest_open:
        parts.append(_("Your order #%(id)s has an unfilled rest: it can no longer fill once it expires (within "
                       "%(s)d seconds), but its escrow stays reserved until it is cancelled. Sign the cancel in your "
                       "wallet now to get it back (or cancel it later from your open orders).",
                       id=taker_id, s=offers.TAKER_EXPIRY_SECONDS))  # fmt: skip
    return " ".join(parts)
