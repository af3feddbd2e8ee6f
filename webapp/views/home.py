"""Landing page: what the market is, best prices, and a quick buy/sell form for logged-in users."""

from __future__ import annotations

from flask import Blueprint, redirect, render_template, request
from flask_login import current_user

from webapp.errors import UserError
from webapp.forms import OrderForm
from webapp.i18n import COOKIE, LANGUAGES
from webapp.services import earnings, trading
from webapp.services.periods import community_zone
from webapp.text import Text
from webapp.views.helpers import local_path
from webapp.views.market import grid_band, order_draft

bp = Blueprint("home", __name__)


@bp.get("/")
def index():
    book, error = None, None
    try:
        book = trading.depth(levels=5)
    except UserError as exc:
        error = exc.localized()
    form = OrderForm() if current_user.is_authenticated else None
    draft = order_draft() if form else {}
    mine = earnings.this_month(current_user.address, community_zone()) if current_user.is_authenticated else None
    return render_template("home.html", book=book, chain_error=error, form=form, draft=draft, band=grid_band(),
                           trades=trading.recent_trades(limit=8), earnings=mine)  # fmt: skip


@bp.post("/language")
def set_language():
    """The language switch: remembered in a cookie for a year, back to the page it was used on."""
    chosen = request.form.get("lang", "")
    if chosen not in LANGUAGES:
        raise UserError(
            Text("Unknown language %(lang)r; choose one of %(known)s.", lang=chosen, known=", ".join(LANGUAGES))
        )
    response = redirect(local_path(request.form.get("next"), "/"))
    response.set_cookie(COOKIE, chosen, max_age=365 * 24 * 3600, samesite="Lax", httponly=True)
    return response


@bp.get("/healthz")
def healthz():
    return {"ok": True}
