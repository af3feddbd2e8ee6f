"""What several blueprints need from the request: the page number and a validated price/amount order form."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any
from urllib.parse import urlparse

from flask import current_app, flash, request, session
from sqlalchemy import Select

from webapp.errors import UserError
from webapp.services.paging import Page, paginate
from webapp.services.price_band import Band, unusual_price
from webapp.text import Text
from webapp.units import InvalidAmount, parse_energy_kwh, parse_price_sen

DRAFT_FIELDS = ("side", "price", "amount", "expiry_minutes")


def local_path(target: str | None, default: str) -> str:
    """`target` when it is a same-site relative path, else `default`: never redirect to another site. No control
    character (a CR/LF cannot go into the Location header) and no backslash (browsers read it as '/')."""
    target = target or ""
    if (target.startswith("/") and not target.startswith("//") and not urlparse(target).netloc
            and target.isprintable() and "\\" not in target):  # fmt: skip
        return target
    return default


def page_number() -> int:
    try:
        return max(1, int(request.args.get("page", "1")))
    except ValueError:
        return 1


def paginate_request(query: Select) -> Page:
    """The page of `query` that ?page= asks for."""
    return paginate(query, page_number())


def order_form_values(form: Any, band: Band | None = None) -> tuple[int, int] | None:
    """Validate a price/amount order form (market or auction): (price units/kWh, Wh), or None after flashing why.

    A price far from the grid tariffs (`band`) needs the form's `price_confirmed=1`, which the confirmation
    dialog sets after showing the warning; without it the order is refused with the warning."""
    if not form.validate_on_submit():
        for field, errors in form.errors.items():
            flash(f"{getattr(form, field).label.text}: {' '.join(str(e) for e in errors)}", "error")
        keep_draft()
        return None
    try:
        price = parse_price_sen(form.price.data, current_app.config["MAX_PRICE_SEN"])
        amount = parse_energy_kwh(form.amount.data, current_app.config["MAX_ORDER_KWH"])
    except InvalidAmount as exc:
        raise UserError(exc.message, "invalid_amount") from exc
    warning = unusual_price(form.side.data, price, band)
    if warning and request.form.get("price_confirmed") != "1":
        message = Text("%(warning)s Check the price, then confirm the warning to place it anyway.", warning=warning)
        raise UserError(message, "unusual_price")
    return price, amount


def keep_draft() -> None:
    """Remember what the user typed in an order form, so the page they return to after an error shows it again."""
    session["order_draft"] = {k: request.form.get(k, "") for k in DRAFT_FIELDS}


def take_draft() -> dict[str, str]:
    """The order form's values after an error (once), else {}."""
    return session.pop("order_draft", None) or {}


def keeps_draft(view: Callable[..., Any]) -> Callable[..., Any]:
    """An order form post that fails (bad input, a refused transaction) keeps the user's input for the next page."""

    @functools.wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return view(*args, **kwargs)
        except UserError:
            keep_draft()
            raise

    return wrapper
