"""Landing page: what the market is, best prices, and a quick buy/sell form for logged-in users."""

from __future__ import annotations

from flask import Blueprint, render_template
from flask_login import current_user

from webapp.errors import UserError
from webapp.forms import OrderForm
from webapp.services import trading
from webapp.views.market import grid_band, order_draft

bp = Blueprint("home", __name__)


@bp.get("/")
def index():
    book, error = None, None
    try:
        book = trading.depth(levels=5)
    except UserError as exc:
        error = exc.message
    form = OrderForm() if current_user.is_authenticated else None
    draft = order_draft() if form else {}
    return render_template("home.html", book=book, chain_error=error, form=form, draft=draft, band=grid_band(),
                           trades=trading.recent_trades(limit=8))  # fmt: skip


@bp.get("/healthz")
def healthz():
    return {"ok": True}
