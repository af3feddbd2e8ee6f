"""Market page: depth of bids and asks, recent trades, place and cancel orders (with confirmation)."""

from __future__ import annotations

from flask import Blueprint, current_app, flash, redirect, render_template, url_for
from flask_login import current_user, login_required

from webapp.charts import depth_chart
from webapp.errors import UserError
from webapp.forms import CancelForm, OrderForm
from webapp.services import trading
from webapp.services.context import sync_index
from webapp.units import fmt_kwh, fmt_myr, fmt_price
from webapp.validation import UINT256_MAX, parse_uint
from webapp.views.helpers import order_form_values

bp = Blueprint("market", __name__, url_prefix="/market")


@bp.get("")
def index():
    book, error = {"bids": [], "asks": []}, None
    try:
        book = trading.depth()
    except UserError as exc:
        error = exc.message
    mine = trading.open_orders(current_user.address) if current_user.is_authenticated else []
    return render_template(
        "market.html",
        book=book,
        chart=depth_chart(book["bids"], book["asks"]),
        chain_error=error,
        trades=trading.recent_trades(limit=20),
        my_orders=mine,
        form=OrderForm(),
        cancel_form=CancelForm(),
        max_price=current_app.config["MAX_PRICE_SEN"],
        max_kwh=current_app.config["MAX_ORDER_KWH"],
    )


@bp.post("/order")
@login_required
def place():
    form = OrderForm()
    values = order_form_values(form)
    if values is None:
        return redirect(url_for("market.index"))
    price, amount = values
    result = trading.place_order(current_user, form.side.data, price, amount, form.expiry_minutes.data, wait=True)
    sync_index()
    verb = "Buy" if form.side.data == "buy" else "Sell"
    message = f"{verb} order #{result.order_id} for {fmt_kwh(amount)} at {fmt_price(price)} placed."
    if result.filled_wh:
        cost = sum(f["cost"] for f in result.fills)
        message += f" Filled {fmt_kwh(result.filled_wh)} at once for {fmt_myr(cost, 4)}."
        if result.filled_wh < amount:
            message += f" {fmt_kwh(amount - result.filled_wh)} rests in the book."
    flash(message, "success")
    return redirect(url_for("market.index"))


@bp.post("/cancel")
@login_required
def cancel():
    form = CancelForm()
    order_id = parse_uint(form.order_id.data, UINT256_MAX) if form.validate_on_submit() else None
    if order_id is None:  # ASCII digits within uint256 only ('²'.isdigit() is true, int('²') fails)
        raise UserError("Choose an order to cancel.", "invalid_order")
    trading.cancel_order(current_user, order_id, wait=True)
    sync_index()
    flash(f"Order #{order_id} cancelled; its escrow was refunded.", "success")
    return redirect(url_for("market.index"))
