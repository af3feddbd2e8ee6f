"""Who an address is: a username (with the display name its owner chose), a contract name, or the shortened
address (cached per request)."""

from __future__ import annotations

import contextlib

from flask import g
from sqlalchemy import select

from webapp.extensions import db
from webapp.formatting import short_address
from webapp.models import User
from webapp.services.context import chain
from webapp.units import NONE


def display_name(address: str | None) -> str:
    """Username for an account's address ("Display Name (username)" when its owner chose a display name: the
    unique username stays beside it, so nobody can pass for someone else), contract name for a contract, else the
    shortened address."""
    if not address:
        return NONE
    names = g.get("_display_names")
    if names is None:
        rows = db.session.execute(select(User.address, User.username, User.display_name))
        names = {a: (f"{d} ({u})" if d and d != u else u) for a, u, d in rows}
        with contextlib.suppress(Exception):  # contract names are a nicety; a chain problem must not break a page
            names.update(chain().abi_index.names_by_address)
        g._display_names = names
    return names.get(address) or short_address(address)
