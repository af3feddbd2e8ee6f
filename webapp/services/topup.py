"""Top-ups: money enters the market only through the operator's key.

A user asks for a top-up (a pending request with a payment reference); the operator, once the bank transfer
with that reference has arrived, confirms it on the operator page and the operator key issues the settlement
tokens, or rejects it. Only the demo (WEBAPP_TOPUP_SELF_SERVICE=1, which `make demo` sets) credits at once, within
a per-user and an all-users cap per rolling 24 hours (WEBAPP_TOPUP_USER_DAILY_MYR, WEBAPP_TOPUP_DAILY_MYR).

Each request is a row of topup_requests whose status moves pending -> minting -> credited (or rejected / failed)
by conditional updates, so a double click or two operators never issue the same request twice; self-service rows
are written before the caps are summed, so parallel requests can never pass the cap together.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import timedelta

from flask import current_app
from sqlalchemy import func, select, update

from webapp.errors import UserError
from webapp.extensions import db
from webapp.models import TopUpRequest, User, utcnow
from webapp.services.context import chain
from webapp.text import Text
from webapp.units import UNITS_PER_MYR, fmt_myr

MAX_PENDING_PER_USER = 5
COUNTED = ("minting", "credited")  # self-service rows that use up the caps
DAY = timedelta(hours=24)


@dataclass(frozen=True)
class Settings:
    enabled: bool
    self_service: bool
    max_units: int
    user_daily_units: int
    daily_units: int


def settings() -> Settings:
    c = current_app.config
    return Settings(c["TOPUP_ENABLED"], c["TOPUP_SELF_SERVICE"], c["TOPUP_MAX_MYR"] * UNITS_PER_MYR,
                    c["TOPUP_USER_DAILY_MYR"] * UNITS_PER_MYR, c["TOPUP_DAILY_MYR"] * UNITS_PER_MYR)  # fmt: skip


def ensure_enabled() -> None:
    if not current_app.config["TOPUP_ENABLED"]:
        raise UserError("Top-ups are handled by the operator on this installation.", "topup_disabled", 403)


def _self_service_used(user_id: int | None) -> int:
    query = select(func.coalesce(func.sum(TopUpRequest.amount_units), 0)).where(
        TopUpRequest.status.in_(COUNTED), TopUpRequest.channel.like("demo-%"), TopUpRequest.created_at > utcnow() - DAY
    )
    if user_id is not None:
        query = query.where(TopUpRequest.user_id == user_id)
    return int(db.session.scalar(query) or 0)


def left_today(user: User) -> int:
    """What demo self-service would still credit to `user` now (units)."""
    s = settings()
    return max(0, min(s.user_daily_units - _self_service_used(user.id), s.daily_units - _self_service_used(None)))


def request_topup(user: User, units: int, channel: str) -> TopUpRequest:
    """A top-up request (`channel` "web" or "api"): credited at once in demo self-service, else pending until the
    operator confirms it. The returned row tells which."""
    ensure_enabled()
    if settings().self_service:
        return _self_service(user, units, channel)
    waiting = db.session.scalar(
        select(func.count(TopUpRequest.id)).where(TopUpRequest.user_id == user.id, TopUpRequest.status == "pending")
    )
    if (waiting or 0) >= MAX_PENDING_PER_USER:
        raise UserError(Text("You already have %(n)s top-up requests waiting for the operator. Wait until they are "
                             "confirmed or rejected.", n=waiting), "topup_pending_limit", 429)  # fmt: skip
    row = TopUpRequest(user_id=user.id, amount_units=units, channel=channel, status="pending", created_at=utcnow())
    db.session.add(row)
    db.session.commit()
    return row


def _self_service(user: User, units: int, channel: str) -> TopUpRequest:
    s = settings()
    row = TopUpRequest(user_id=user.id, amount_units=units, channel=f"demo-{channel}", status="minting",
                       created_at=utcnow())  # fmt: skip
    db.session.add(row)
    db.session.commit()  # counted before the sums: two requests at once cannot both fit under the cap
    mine, everyone = _self_service_used(user.id), _self_service_used(None)
    if mine > s.user_daily_units or everyone > s.daily_units:
        row.status, row.decided_at = "rejected", utcnow()
        db.session.commit()
        if mine > s.user_daily_units:
            left = max(0, s.user_daily_units - (mine - units))
            message = Text("The demo credits at most %(cap)s per account in 24 hours; %(left)s is left for you now.",
                           cap=fmt_myr(s.user_daily_units), left=fmt_myr(left))  # fmt: skip
        else:
            message = Text("The demo has credited its %(cap)s for all accounts in the last 24 hours. Ask the operator.",
                           cap=fmt_myr(s.daily_units))  # fmt: skip
        raise UserError(message, "topup_limit", 429)
    return _mint(row, user)


def _mint(row: TopUpRequest, user: User) -> TopUpRequest:
    try:
        receipt = chain().top_up(user.address, row.amount_units, f"topup-request:{row.id}:{secrets.token_hex(4)}")
    except UserError:
        row.status = "failed" if row.channel.startswith("demo-") else "pending"  # the operator may try again
        db.session.commit()
        raise
    row.status, row.decided_at = "credited", utcnow()
    row.tx_hash = receipt["transactionHash"].to_0x_hex()
    db.session.commit()
    return row


def _claim(request_id: int, to: str, operator: User) -> TopUpRequest:
    """Move a pending request to `to`, only if it is still pending (one decision per request)."""
    claimed = db.session.execute(update(TopUpRequest).where(TopUpRequest.id == request_id,
                                                            TopUpRequest.status == "pending")
                                 .values(status=to, decided_by=operator.id, decided_at=utcnow()))  # fmt: skip
    db.session.commit()
    row = db.session.get(TopUpRequest, request_id)
    if row is None:
        raise UserError(Text("There is no top-up request %(id)s.", id=request_id), "not_found", 404)
    if claimed.rowcount != 1:
        message = Text("Top-up request %(ref)s was already %(status)s.", ref=row.reference, status=Text(row.status))
        raise UserError(message, "topup_decided", 409)
    db.session.refresh(row)
    return row


def confirm(request_id: int, operator: User) -> TopUpRequest:
    """The operator has received the payment: issue the settlement tokens."""
    row = _claim(request_id, "minting", operator)
    user = db.session.get(User, row.user_id)
    if user is None:
        row.status = "rejected"
        db.session.commit()
        raise UserError("The account of this request no longer exists.", "not_found", 404)
    return _mint(row, user)


def reject(request_id: int, operator: User) -> TopUpRequest:
    return _claim(request_id, "rejected", operator)


def pending() -> list[tuple[TopUpRequest, User]]:
    rows = db.session.execute(select(TopUpRequest, User).join(User, User.id == TopUpRequest.user_id)
                              .where(TopUpRequest.status.in_(("pending", "minting")))
                              .order_by(TopUpRequest.id))  # fmt: skip
    return [(r, u) for r, u in rows]


def mine(user: User, limit: int = 10) -> list[TopUpRequest]:
    return list(db.session.scalars(select(TopUpRequest).where(TopUpRequest.user_id == user.id)
                                   .order_by(TopUpRequest.id.desc()).limit(limit)))  # fmt: skip
