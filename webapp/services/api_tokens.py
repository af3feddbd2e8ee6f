"""API bearer tokens: issue at login, look up per request (cached), revoke at logout; only SHA-256 digests stored."""

from __future__ import annotations

import hashlib
import secrets
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from webapp.extensions import db
from webapp.models import ApiToken, User


def issue_token(user: User, hours: int = 12) -> str:
    token = secrets.token_urlsafe(32)
    db.session.add(ApiToken(token_hash=hashlib.sha256(token.encode()).hexdigest(), user_id=user.id,
                            expires_at=datetime.now(UTC) + timedelta(hours=hours)))  # fmt: skip
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


def load_user_from_request(req) -> User | None:
    """Bearer tokens for API clients (load tests, scripts); browsers use the session cookie."""
    header = req.headers.get("Authorization", "")
    if header.startswith("Bearer "):
        return user_for_token(header[len("Bearer ") :].strip())
    return None
