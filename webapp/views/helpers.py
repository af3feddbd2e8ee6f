"""Small things every blueprint needs: the chain service, the unlocked signer of the current user, formatting."""

from __future__ import annotations

import contextlib
import math
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from flask import current_app, flash, g, request
from sqlalchemy import Select, func, select

from energy_chain import Signer
from webapp.chain.service import ChainService
from webapp.errors import UserError
from webapp.extensions import db
from webapp.models import User
from webapp.units import NONE, InvalidAmount, parse_energy_kwh, parse_price_sen
from webapp.wallets import UnlockedKeys, WalletLocked


def chain() -> ChainService:
    return current_app.extensions["chain"]


def keys() -> UnlockedKeys:
    return current_app.extensions["keys"]


def signer_for(user: User) -> Signer:
    """The user's unlocked key, or a clear error telling them what to do."""
    if not user.custodial:
        raise UserError(
            "Your account uses a browser wallet: sign this transaction in your wallet.", "browser_wallet", 409
        )
    try:
        return keys().get(user.address)
    except WalletLocked as exc:
        raise UserError("Your session expired: log in again to unlock your wallet.", "wallet_locked", 401) from exc


def sync_index() -> None:
    """Bring the history tables up to the head (used right after a page's own transaction was mined)."""
    current_app.extensions["indexer"].sync()


def display_name(address: str | None) -> str:
    """Username for an account's address, contract name for a contract, else the shortened address."""
    if not address:
        return NONE
    names = g.get("_display_names")
    if names is None:
        names = {a: u for a, u in db.session.execute(select(User.address, User.username))}
        with contextlib.suppress(Exception):  # contract names are a nicety; a chain problem must not break a page
            names.update(chain().abi_index.names_by_address)
        g._display_names = names
    return names.get(address) or short_address(address)


def humanize_seconds(seconds: int) -> str:
    """'3 d 4 h', '5 min 2 s', '12 s': the largest two units."""
    parts, rest = [], int(seconds)
    for unit, size in (("d", 86400), ("h", 3600), ("min", 60), ("s", 1)):
        if rest >= size or (unit == "s" and not parts):
            parts.append(f"{rest // size} {unit}")
            rest %= size
    return " ".join(parts[:2])


def short_address(address: str | None) -> str:
    if not address:
        return NONE
    return f"{address[:6]}…{address[-4:]}" if len(address) > 14 else address


def timefmt(ts: int | float | datetime | None) -> str:
    if ts is None or ts == 0:
        return NONE
    if isinstance(ts, datetime):
        moment = ts if ts.tzinfo else ts.replace(tzinfo=UTC)
    else:
        moment = datetime.fromtimestamp(float(ts), UTC)
    return moment.strftime("%Y-%m-%d %H:%M:%S UTC")


@dataclass
class Page:
    items: list[Any]
    page: int
    pages: int
    total: int

    @property
    def has_prev(self) -> bool:
        return self.page > 1

    @property
    def has_next(self) -> bool:
        return self.page < self.pages


def page_number() -> int:
    try:
        return max(1, int(request.args.get("page", "1")))
    except ValueError:
        return 1


def paginate(query: Select, per_page: int | None = None) -> Page:
    per_page = per_page or int(current_app.config["PAGE_SIZE"])
    total = int(db.session.scalar(select(func.count()).select_from(query.order_by(None).subquery())) or 0)
    pages = max(1, math.ceil(total / per_page))
    page = min(page_number(), pages)
    items = list(db.session.scalars(query.limit(per_page).offset((page - 1) * per_page)))
    return Page(items, page, pages, total)


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
