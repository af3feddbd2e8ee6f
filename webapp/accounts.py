"""Account operations shared by pages and the API: sign up, log in (unlocks the wallet), API tokens."""

from __future__ import annotations

import contextlib
import hashlib
import logging
import secrets
from datetime import UTC, datetime, timedelta

from flask import current_app
from sqlalchemy import select
from werkzeug.security import check_password_hash, generate_password_hash

from energy_chain import Signer
from webapp.errors import UserError
from webapp.extensions import db
from webapp.models import ApiToken, User
from webapp.views.helpers import chain, keys
from webapp.wallets import WrongPassword, create_keystore, unlock_keystore

log = logging.getLogger(__name__)

APPROVED_SPENDERS = ("OrderBook", "DoubleAuction")
# A fixed hash to compare against when the username is unknown, so both paths take the same time.
_DUMMY_HASH = generate_password_hash("not-a-password")


def signup(username: str, password: str) -> User:
    """Create the account and its wallet; the key exists only encrypted (and unlocked in memory for this login)."""
    if db.session.scalar(select(User).where(User.username == username)) is not None:
        raise UserError("That username is taken.", "username_taken", 409)
    address, keystore = create_keystore(password, current_app.config["WALLET_SCRYPT_N"])
    user = User(
        username=username,
        password_hash=generate_password_hash(password),
        address=address,
        keystore=keystore,
        is_operator=False,
    )
    db.session.add(user)
    db.session.commit()
    signer = unlock_keystore(keystore, password)
    keys().put(signer)
    log.info("signed up %s with wallet %s", username, address)
    approve_markets(signer)
    return user


def approve_markets(signer: Signer) -> None:
    """Let the order book and the auction move this wallet's tokens (zero gas), so orders can escrow them.

    Sent without waiting: the next block includes them long before the user places a first order. A chain
    that is down now only delays this; ensure_approved repeats it before an order.
    """
    service = chain()
    with contextlib.suppress(UserError):
        for spender in APPROVED_SPENDERS:
            if service.has_contract(spender):
                for token in ("EnergyToken", "SettlementToken"):
                    service.approve(signer, token, spender, wait=False)


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


def issue_token(user: User, hours: int = 12) -> str:
    token = secrets.token_urlsafe(32)
    db.session.add(
        ApiToken(
            token_hash=hashlib.sha256(token.encode()).hexdigest(),
            user_id=user.id,
            expires_at=datetime.now(UTC) + timedelta(hours=hours),
        )
    )
    db.session.commit()
    return token


# token hash -> (user id, expiry): every API request presents its token; the table is read once per token.
_token_cache: dict[str, tuple[int, datetime]] = {}
_TOKEN_CACHE_MAX = 100_000


def user_for_token(token: str) -> User | None:
    digest = hashlib.sha256(token.encode()).hexdigest()
    cached = _token_cache.get(digest)
    if cached is None:
        row = db.session.scalar(select(ApiToken).where(ApiToken.token_hash == digest))
        if row is None:
            return None
        expires = row.expires_at if row.expires_at.tzinfo else row.expires_at.replace(tzinfo=UTC)
        if len(_token_cache) >= _TOKEN_CACHE_MAX:
            _token_cache.clear()
        cached = _token_cache[digest] = (row.user_id, expires)
    user_id, expires = cached
    if expires < datetime.now(UTC):
        _token_cache.pop(digest, None)
        return None
    return db.session.get(User, user_id)


def revoke_tokens(user: User) -> None:
    """Logout: the user's API tokens stop working at once."""
    for row in db.session.scalars(select(ApiToken).where(ApiToken.user_id == user.id)):
        _token_cache.pop(row.token_hash, None)
        db.session.delete(row)
    db.session.commit()


def load_user(user_id: str) -> User | None:
    return db.session.get(User, int(user_id)) if user_id.isdigit() else None


def load_user_from_request(req) -> User | None:
    """Bearer tokens for API clients (load tests, scripts); browsers use the session cookie."""
    header = req.headers.get("Authorization", "")
    if header.startswith("Bearer "):
        return user_for_token(header[len("Bearer ") :].strip())
    return None
