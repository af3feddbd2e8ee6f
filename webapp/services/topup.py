"""Demo top-up: the operator issues settlement tokens to a user as if a bank transfer had arrived."""

from __future__ import annotations

import secrets

from flask import current_app

from webapp.errors import UserError
from webapp.models import User
from webapp.services.context import chain


def ensure_enabled() -> None:
    if not current_app.config["TOPUP_ENABLED"]:
        raise UserError("Top-ups are handled by the operator on this installation.", "topup_disabled", 403)


def top_up(user: User, units: int, channel: str) -> str:
    """Issue `units` to the user (`channel`: "web" or "api", part of the unique reference); returns the tx hash."""
    ensure_enabled()
    receipt = chain().top_up(user.address, units, f"{channel}-topup:{user.id}:{secrets.token_hex(8)}")
    return receipt["transactionHash"].to_0x_hex()
