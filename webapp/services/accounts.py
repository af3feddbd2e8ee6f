"""Account operations shared by pages and the API: sign up (a new wallet, approved for the markets), log in
(unlocks the wallet), load the logged-in user."""

from __future__ import annotations

import contextlib
import logging

from flask import current_app
from sqlalchemy import select
from werkzeug.security import check_password_hash, generate_password_hash

from energy_chain import Signer
from energy_chain.approvals import UNLIMITED
from webapp.errors import UserError
from webapp.extensions import db
from webapp.models import User
from webapp.services import api_tokens
from webapp.services.context import chain, keys
from webapp.wallets import WrongPassword, create_keystore, unlock_keystore

log = logging.getLogger(__name__)

APPROVED_SPENDERS = ("OrderBook", "DoubleAuction")
APPROVED = UNLIMITED // 2  # an unlimited approval, even after the spends of a lifetime
# A fixed hash to compare against when the username is unknown, so both paths take the same time.
_DUMMY_HASH = generate_password_hash("not-a-password")


def signup(username: str, password: str) -> User:
    """Create the account and its wallet; the key exists only encrypted (and unlocked in memory for this login)."""
    if db.session.scalar(select(User).where(User.username == username)) is not None:
        raise UserError("That username is taken.", "username_taken", 409)
    address, keystore = create_keystore(password, current_app.config["WALLET_SCRYPT_N"])
    user = User(username=username, password_hash=generate_password_hash(password), address=address,
                keystore=keystore, is_operator=False)  # fmt: skip
    db.session.add(user)
    db.session.commit()
    signer = unlock_keystore(keystore, password)
    keys().put(signer)
    log.info("signed up %s with wallet %s", username, address)
    approve_markets(signer)
    return user


def approve_markets(signer: Signer, only_missing: bool = False) -> list[str]:
    """Let the order book and the auction move this wallet's tokens (zero gas), so orders can escrow them;
    `only_missing` skips those already approved (a new wallet has none). Returns the transaction hashes.

    Sent without waiting: the next block includes them long before the user places a first order. A chain
    that is down now only delays this; a placement that meets a missing allowance approves and retries.
    """
    service = chain()
    pending: list[str] = []
    with contextlib.suppress(UserError):
        for spender in APPROVED_SPENDERS:
            if not service.has_contract(spender):
                continue
            spender_address = service.client.deployment.address(spender)
            for token in ("EnergyToken", "SettlementToken"):
                if only_missing and service.call(token, "allowance", signer.address, spender_address) >= APPROVED:
                    continue
                pending.append(service.approve(signer, token, spender, wait=False))
    return pending


def authenticate(username: str, password: str) -> User:
    user = db.session.scalar(select(User).where(User.username == username))
    if user is None or user.password_hash is None:
        check_password_hash(_DUMMY_HASH, password)
        raise UserError("Wrong username or password.", "bad_credentials", 401)
    if not check_password_hash(user.password_hash, password):
        raise UserError("Wrong username or password.", "bad_credentials", 401)
    unlock(user, password)
    return user


def unlock(user: User, password: str) -> None:
    """Decrypt the keystore once (scrypt) and keep the signer in memory for WALLET_UNLOCK_SECONDS."""
    if user.keystore is None:
        return
    try:
        signer = unlock_keystore(user.keystore, password)
    except WrongPassword as exc:
        raise UserError("Wrong password.", "bad_credentials", 401) from exc
    keys().put(signer)


def load_user(user_id: str) -> User | None:
    return db.session.get(User, int(user_id)) if user_id.isdigit() else None


def log_out(user: User) -> None:
    """Forget the unlocked key and revoke the user's API tokens at once."""
    keys().drop(user.address)
    api_tokens.revoke_tokens(user)


def wallet_user(address: str) -> User:
    """The account of a browser wallet that signed in (EIP-4361), created on its first sign-in."""
    user = db.session.scalar(select(User).where(User.address == address))
    if user is None:
        user = User(username=f"wallet-{address[2:10].lower()}", password_hash=None, address=address, keystore=None)
        db.session.add(user)
        db.session.commit()
    return user
