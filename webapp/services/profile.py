"""The profile of an account: its display name, a password change that re-encrypts the wallet's keystore, and the
encrypted keystore as a download.

The password is the only key to a custodial wallet's keystore: a change decrypts it with the current password and
encrypts the same key again under the new one (same address, scrypt at the configured cost, WALLET_SCRYPT_N), and
the server keeps no other copy, so a lost password loses the wallet. A password change ends every other session
and API token of the account (a change is often made because a device or a password may be compromised); the
session that made it stays logged in and unlocked. Every scrypt step passes the unlock gate (webapp.wallets).
Browser-wallet accounts have no password or keystore here: their key lives in their wallet.
"""

from __future__ import annotations

import json
import logging
import unicodedata

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import delete
from werkzeug.security import check_password_hash, generate_password_hash

from webapp.errors import UserError
from webapp.extensions import db
from webapp.models import AuthSession, User
from webapp.services import passwords, sessions
from webapp.services.accounts import _scrypt_work
from webapp.wallets import WrongPassword, decrypt_keystore, import_keystore

log = logging.getLogger(__name__)

DISPLAY_NAME_MAX = 64


def _browser_wallet() -> UserError:
    return UserError(_("Your account uses a browser wallet: its key and its password live in your wallet, not on "
                       "this server."), "browser_wallet", 409)  # fmt: skip


def clean_display_name(text: str | None) -> str | None:
    """The display name as stored: spaces collapsed, None when empty; UserError for control characters or > 64."""
    name = " ".join((text or "").split())
    if not name:
        return None
    if any(unicodedata.category(c) in ("Cc", "Cf", "Cs", "Co", "Cn") for c in name):
        raise UserError(_("A display name cannot contain control or invisible characters."), "invalid_display_name")
    if len(name) > DISPLAY_NAME_MAX:
        raise UserError(_("Use at most %(n)d characters for your display name.", n=DISPLAY_NAME_MAX),
                        "invalid_display_name")  # fmt: skip
    return name


def set_display_name(user: User, text: str | None) -> str | None:
    """Set (or, with an empty text, remove) the name shown beside the username. Returns what is stored."""
    user.display_name = clean_display_name(text)
    db.session.commit()
    return user.display_name


def _check_password(user: User, password: str) -> bytes:
    """The wallet key the current `password` opens (inside a gate slot), or UserError "wrong_password"."""
    wrong = UserError(_("The current password is wrong."), "wrong_password", 401)
    if not user.password_hash or not check_password_hash(user.password_hash, password):
        raise wrong
    try:
        return decrypt_keystore(user.keystore or "", password)
    except WrongPassword as exc:
        raise wrong from exc


def change_password(user: User, current: str, new: str) -> int:
    """Re-encrypt the keystore under `new` (the policy applies) after `current` has opened it; end every other
    session of the account. Returns how many sessions were ended. The address does not change."""
    if not user.custodial:
        raise _browser_wallet()
    passwords.check(new, user.username)
    if new == current:
        raise UserError(_("The new password is the same as the current one."), "same_password")
    with _scrypt_work():
        key = _check_password(user, current)
        address, keystore = import_keystore(key, new, current_app.config["WALLET_SCRYPT_N"])
        password_hash = generate_password_hash(new)
    if address != user.address:  # cannot happen: the same key; checked so a bug can never swap a wallet
        raise RuntimeError("re-encrypted keystore has another address")
    user.keystore, user.password_hash = keystore, password_hash
    keep = user.auth_session.id if user.auth_session is not None else None
    ended = db.session.execute(delete(AuthSession).where(AuthSession.user_id == user.id, AuthSession.id != keep))
    db.session.commit()
    if user.auth_session is not None:
        sessions.unlock(user, key)  # this session stays unlocked (its wrapped copy is of the same key)
    log.info("password changed for %s (%d other sessions ended)", user.username, ended.rowcount)
    return int(ended.rowcount or 0)


def keystore_download(user: User, password: str) -> tuple[str, bytes]:
    """(file name, the encrypted keystore JSON exactly as stored) after the password has been typed again."""
    if not user.custodial:
        raise _browser_wallet()
    with _scrypt_work():
        wrong = UserError(_("The password is wrong."), "wrong_password", 401)
        if not user.password_hash or not check_password_hash(user.password_hash, password):
            raise wrong
    stored = user.keystore or ""
    json.loads(stored)  # a stored keystore is always JSON; fail loudly rather than hand out something else
    return f"keystore-{user.username}-{user.address}.json", stored.encode()


def scrypt_n(user: User) -> int | None:
    """The scrypt cost (N) of the account's keystore, for the page."""
    if not user.keystore:
        return None
    params = json.loads(user.keystore).get("crypto", {}).get("kdfparams", {})
    return int(params["n"]) if "n" in params else None
