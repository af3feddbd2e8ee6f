"""What several blueprints need from the request: the page number and a validated price/amount order form."""

from __future__ import annotations

from typing import Any

from flask import current_app, flash, request
from sqlalchemy import Select

from webapp.errors import UserError
from webapp.services.paging import Page, paginate
from webapp.units import InvalidAmount, parse_energy_kwh, parse_price_sen


def page_number() -> int:
    try:
        return max(1, int(request.args.get("page", "1")))
    except ValueError:
        return 1


def paginate_request(query: Select) -> Page:
    """The page of `query` that ?page= asks for."""
    return paginate(query, page_number())


def order_form_values(form: Any) -> tuple[int, int] | None:
    """Validate a price/amount order form (market or auction): (price units/kWh, Wh), or None after flashing why."""
    if not form.validate_on_submit():
        for field, errors in form.errors.items():
            flash(f"{getattr(form, field).label.text}: {' '.join(errors)}", "error")
        return None
    try:
        price = parse_price_sen(form.price.data, current_app.config["MAX_PRICE_SEN"])
        amount = parse_energy_kwh(form.amount.data, current_app.config["MAX_ORDER_KWH"])
    except InvalidAmount as exc:
        raise UserError(str(exc), "invalid_amount") from exc
    return price, amount
