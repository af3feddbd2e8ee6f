"""My account: energy and money balances, open orders, order and trade history, top-up."""

from __future__ import annotations

from flask import Blueprint, current_app, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from webapp.errors import UserError
from webapp.forms import CancelForm, TopUpForm
from webapp.services import earnings, sessions, trading
from webapp.services import topup as topups
from webapp.services.accounts import APPROVED_SPENDERS
from webapp.services.context import chain, sync_index
from webapp.services.periods import community_zone
from webapp.units import InvalidAmount, fmt_myr, parse_myr

bp = Blueprint("account", __name__, url_prefix="/account")


@bp.get("")
@login_required
def index():
    balances, error = None, None
    try:
        balances = chain().balances(current_user.address, spenders=APPROVED_SPENDERS)
    except UserError as exc:
        error = exc.localized()
    open_orders = trading.open_orders(current_user.address)
    escrow = trading.escrow(open_orders)  # what the order book holds for these orders (returned on cancel)
    return render_template(
        "account.html",
        balances=balances,
        chain_error=error,
        escrow=escrow,
        open_orders=open_orders,
        history=trading.order_history(current_user.address),
        trades=trading.recent_trades(limit=50, address=current_user.address),
        unlocked=sessions.is_unlocked(current_user),
        topup_form=TopUpForm(),
        cancel_form=CancelForm(),
        topup=topups.settings(),
        topup_left=topups.left_today(current_user) if topups.settings().self_service else None,
        topup_requests=topups.mine(current_user),
        topup_max=current_app.config["TOPUP_MAX_MYR"],
        session_count=sessions.count(current_user),
        summary=earnings.summary(current_user.address, community_zone()),
    )


@bp.post("/topup")
@login_required
def topup():
    """A top-up request for the operator to confirm, or (demo self-service) an immediate credit within the caps."""
    topups.ensure_enabled()
    form = TopUpForm()
    if not form.validate_on_submit():
        raise UserError("Enter an amount in MYR.", "invalid_amount")
    try:
        units = parse_myr(form.amount.data, current_app.config["TOPUP_MAX_MYR"])
    except InvalidAmount as exc:
        raise UserError(exc.message, "invalid_amount") from exc
    row = topups.request_topup(current_user, units, "web")
    if row.status == "credited":
        sync_index()
        flash(_("Topped up %(amount)s. Demo: credited at once by the operator's key, no real money.",
                amount=fmt_myr(units)), "success")  # fmt: skip
    else:
        flash(_("Top-up request %(ref)s for %(amount)s sent. Transfer %(amount)s quoting %(ref)s; the operator "
                "credits your wallet after confirming the payment.", ref=row.reference, amount=fmt_myr(units)),
              "info")  # fmt: skip
    return redirect(url_for("account.index"))
