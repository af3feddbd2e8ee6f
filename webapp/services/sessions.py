"""Server-side sessions: every login (browser cookie or API bearer token) is a row of auth_sessions.

The client holds the credential `s1.<session id>.<wrap key>`: Flask-Login keeps it in the signed session cookie
(User.get_id), API clients send it as `Authorization: Bearer`. The database keeps only the SHA-256 of the session
id, so a copy of the database opens no session. Deleting the row ends the session at once, in every process
(logout, log out everywhere); nothing is cached in memory.

A custodial wallet's key is re-encrypted at login under the wrap key (AES-256-GCM) and stored with the row, until
WALLET_UNLOCK_SECONDS after the login. Each request that signs unwraps it: the server cannot sign for a session
without the client's credential, logging out one session leaves the others unlocked, and a restart loses nothing.
"""

from __future__ import annotations

import base64
import hashlib
import re
import secrets
from datetime import UTC, datetime, timedelta

from flask import current_app, g, has_request_context, request
from sqlalchemy import delete, select

from energy_chain import Signer
from webapp.extensions import db
from webapp.models import AuthSession, User, utcnow
from webapp.wallets import NonceCounters, SessionSigner, WalletLocked, new_wrap_key, unwrap_key, wrap_key

_CREDENTIAL = re.compile(r"s1\.([A-Za-z0-9_-]{43})\.([A-Za-z0-9_-]{43})")
TOUCH_SECONDS = 60  # last_seen_at is written at most once a minute per session


def _digest(session_id: str) -> str:
    return hashlib.sha256(session_id.encode()).hexdigest()


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def aware(value: datetime | None) -> datetime | None:
    """SQLite hands back naive datetimes (stored as UTC); PostgreSQL aware ones."""
    if value is None or value.tzinfo is not None:
        return value
    return value.replace(tzinfo=UTC)


def _context(row: AuthSession, user: User) -> str:
    return f"{row.token_hash}:{user.address}"


def nonce_counters() -> NonceCounters:
    return current_app.extensions["nonces"]


def start(user: User, kind: str, private_key: bytes | None = None) -> str:
    """A new session for `user` (kind "web" or "api"), holding the wallet key wrapped when one is given; the
    credential is set on `user` (Flask-Login stores it) and returned (the API hands it out as the bearer token)."""
    now = utcnow()
    session_id, wrap = secrets.token_urlsafe(32), new_wrap_key()
    agent = request.headers.get("User-Agent", "")[:200] if has_request_context() else None
    row = AuthSession(token_hash=_digest(session_id), user_id=user.id, kind=kind, created_at=now, last_seen_at=now,
                      expires_at=now + timedelta(seconds=current_app.config["PERMANENT_SESSION_LIFETIME"]),
                      user_agent=agent or None)  # fmt: skip
    if private_key is not None:
        _store_key(row, user, private_key, wrap, now)
    db.session.execute(delete(AuthSession).where(AuthSession.expires_at < now))  # expired sessions of anyone
    db.session.add(row)
    db.session.commit()
    credential = f"s1.{session_id}.{_b64(wrap)}"
    _attach(user, row, credential, wrap)
    return credential


def _store_key(row: AuthSession, user: User, private_key: bytes, wrap: bytes, now: datetime) -> None:
    row.wrapped_key = wrap_key(private_key, wrap, _context(row, user))
    row.unlocked_until = now + timedelta(seconds=current_app.config["WALLET_UNLOCK_SECONDS"])


def _attach(user: User, row: AuthSession, credential: str, wrap: bytes) -> None:
    user.auth_session = row
    user.session_credential = credential
    user._session_wrap = wrap  # type: ignore[attr-defined] - lives as long as this request's User object


def load(credential: str | None) -> User | None:
    """The user of a live session credential (cookie or bearer token), else None."""
    match = _CREDENTIAL.fullmatch(credential or "")
    if match is None:
        return None
    row = db.session.scalar(select(AuthSession).where(AuthSession.token_hash == _digest(match.group(1))))
    now = utcnow()
    if row is None:
        return None
    if aware(row.expires_at) <= now:
        db.session.delete(row)
        db.session.commit()
        return None
    user = db.session.get(User, row.user_id)
    if user is None:
        return None
    if now - aware(row.last_seen_at) > timedelta(seconds=TOUCH_SECONDS):
        row.last_seen_at = now
        db.session.commit()
    _attach(user, row, credential, _unb64(match.group(2)))
    return user


def load_from_request(req) -> User | None:
    """Bearer tokens for API clients (load tests, scripts); browsers use the session cookie."""
    header = req.headers.get("Authorization", "")
    if header.startswith("Bearer "):
        return load(header[len("Bearer ") :].strip())
    return None


def unlock(user: User, private_key: bytes) -> None:
    """Keep the wallet key (just decrypted with the password) with the user's current session."""
    row = user.auth_session
    if row is None:
        raise WalletLocked("no session to unlock")
    _store_key(row, user, private_key, user._session_wrap, utcnow())  # type: ignore[attr-defined]
    db.session.commit()
    g.pop("_session_signer", None)


def _unlocked_until(row: AuthSession) -> datetime:
    return aware(row.unlocked_until) or datetime.min.replace(tzinfo=UTC)


def is_unlocked(user: User) -> bool:
    row = user.auth_session
    return bool(row is not None and row.wrapped_key and _unlocked_until(row) > utcnow())


def signer(user: User) -> Signer:
    """The session's wallet key as a signer for this request (one nonce counter per address), or WalletLocked."""
    cached = g.get("_session_signer")
    if cached is not None and cached.address == user.address:
        return cached
    row = user.auth_session
    if row is None or not row.wrapped_key:
        raise WalletLocked("your wallet is locked: log in again to unlock it")
    if _unlocked_until(row) <= utcnow():
        row.wrapped_key, row.unlocked_until = None, None  # the unlock time ran out: forget even the ciphertext
        db.session.commit()
        raise WalletLocked("your wallet is locked: log in again to unlock it")
    key = unwrap_key(row.wrapped_key, user._session_wrap, _context(row, user))  # type: ignore[attr-defined]
    result = SessionSigner.from_private_key(key, nonce_counters())
    if result.address != user.address:
        raise WalletLocked("this session's key is not the account's")
    g._session_signer = result
    return result


def end(user: User) -> None:
    """Log out this session only (the other devices stay logged in and unlocked)."""
    if user.auth_session is not None:
        db.session.execute(delete(AuthSession).where(AuthSession.id == user.auth_session.id))
        db.session.commit()
        user.auth_session = None


def end_all(user: User) -> int:
    """Log out everywhere: every session and API token of the user ends at once. Returns how many."""
    count = db.session.execute(delete(AuthSession).where(AuthSession.user_id == user.id)).rowcount
    db.session.commit()
    user.auth_session = None
    return count


def count(user: User) -> int:
    rows = db.session.scalars(select(AuthSession.id).where(AuthSession.user_id == user.id,
                                                          AuthSession.expires_at > utcnow()))  # fmt: skip
    return len(list(rows))
