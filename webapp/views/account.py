"""My account: energy and money balances, open orders, order and trade history, top-up."""

from __future__ import annotations

import secrets

from flask import Blueprint, current_app, flash, redirect, render_template, url_for
from flask_login import current_user, login_required

from webapp import trading
from webapp.errors import UserError
from webapp.forms import CancelForm, TopUpForm
from webapp.units import InvalidAmount, fmt_myr, parse_myr
from webapp.views.helpers import chain, keys, sync_index

bp = Blueprint("account", __name__, url_prefix="/account")


@bp.get("")
@login_required
def index():
    balances, error = None, None
    try:
        balances = chain().balances(current_user.address, spenders=("OrderBook", "DoubleAuction"))
    except UserError as exc:
        error = exc.message
    open_orders = trading.open_orders(current_user.address)
    escrow = {  # what the order book holds for this account's open orders (returned on cancel)
        "energy_wh": sum(o.remaining_wh for o in open_orders if o.side == "sell"),
        "money": sum(o.price * o.remaining_wh // 1000 for o in open_orders if o.side == "buy"),
    }
    return render_template(
        "account.html",
        balances=balances,
        chain_error=error,
        escrow=escrow,
        open_orders=open_orders,
        history=trading.order_history(current_user.address),
        trades=trading.recent_trades(limit=50, address=current_user.address),
        unlocked=keys().is_unlocked(current_user.address),
        topup_form=TopUpForm(),
        cancel_form=CancelForm(),
        topup_enabled=current_app.config["TOPUP_ENABLED"],
        topup_max=current_app.config["TOPUP_MAX_MYR"],
    )


@bp.post("/topup")
@login_required
def topup():
    """Demo top-up: the operator issues settlement tokens as if a bank transfer had arrived."""
    if not current_app.config["TOPUP_ENABLED"]:
        raise UserError("Top-ups are handled by the operator on this installation.", "topup_disabled", 403)
    form = TopUpForm()
    if not form.validate_on_submit():
        raise UserError("Enter an amount in MYR.", "invalid_amount")
    try:
        units = parse_myr(form.amount.data, current_app.config["TOPUP_MAX_MYR"])
    except InvalidAmount as exc:
        raise UserError(str(exc), "invalid_amount") from exc
    chain().top_up(current_user.address, units, f"web-topup:{current_user.id}:{secrets.token_hex(8)}")
    sync_index()
    flash(f"Topped up {fmt_myr(units)}.", "success")
    return redirect(url_for("account.index"))
