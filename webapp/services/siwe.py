"""Sign-In with Ethereum (EIP-4361) for browser wallets: the server writes the message, the wallet signs it.

The domain and URI come from configuration (PUBLIC_URL), never from the request's Host header; the chain id is
the configured one (SIWE_CHAIN_ID, else CHAIN_ID, else the connected chain's). Each message carries a nonce kept in
the database (siwe_nonces) for that address, with the SHA-256 of the exact message issued: it is valid for
SIWE_NONCE_SECONDS and used up by the first sign-in that presents it, in any process. A message whose domain, URI,
chain id, version, issued-at or expiry differs from what was issued is refused before its signature is looked at.
"""

from __future__ import annotations

import hashlib
import re
import secrets
import warnings
from datetime import UTC, datetime, timedelta
from urllib.parse import urlparse

from eth_utils import to_checksum_address
from flask import current_app
from sqlalchemy import delete

from webapp.errors import UserError
from webapp.extensions import db
from webapp.models import SiweNonce, User, utcnow
from webapp.services import accounts, sessions
from webapp.services.context import chain

STATEMENT = "Sign in to the SolarShare energy market."
CLOCK_SKEW = timedelta(seconds=30)
ADDRESS = re.compile(r"0x[0-9a-fA-F]{40}")


def _lib():
    """The siwe package, imported on first use (its grammar library warns noisily at import)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            import siwe
        except Exception as exc:  # a broken install disables wallet sign-in only, with a clear message
            raise UserError("Wallet sign-in is not available on this server.", "siwe_unavailable", 503) from exc
    return siwe


def expected() -> tuple[str, str, int]:
    """(domain, URI, chain id) that every sign-in message must name."""
    url = current_app.config["PUBLIC_URL"].rstrip("/")
    chain_id = current_app.config.get("SIWE_CHAIN_ID") or current_app.config.get("CHAIN_ID") or chain().client.chain_id
    return urlparse(url).netloc, url, int(chain_id)


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def issue(address: str) -> dict[str, str]:
    """A fresh message for `address` to sign, and its nonce (stored server-side, single use, short-lived)."""
    if not ADDRESS.fullmatch(address or ""):
        raise UserError("Give your wallet address as ?address=0x...", "invalid_address")
    domain, uri, chain_id = expected()
    now = utcnow()
    ttl = timedelta(seconds=current_app.config["SIWE_NONCE_SECONDS"])
    nonce = secrets.token_hex(16)  # EIP-4361: at least 8 alphanumeric characters
    message = _lib().SiweMessage(
        domain=domain, address=to_checksum_address(address), uri=uri, version="1", chain_id=chain_id, nonce=nonce,
        issued_at=_iso(now), expiration_time=_iso(now + ttl), statement=STATEMENT,
    ).prepare_message()  # fmt: skip
    db.session.execute(delete(SiweNonce).where(SiweNonce.expires_at < now))
    db.session.add(SiweNonce(nonce=nonce, address=to_checksum_address(address), message_hash=_digest(message),
                             expires_at=now + ttl))  # fmt: skip
    db.session.commit()
    return {"message": message, "nonce": nonce}


def _invalid(reason: str, status: int = 401) -> UserError:
    return UserError(reason, "siwe_invalid", status)


def _parsed_time(value) -> datetime | None:
    if value is None:
        return None
    moment = getattr(value, "_datetime", None)
    if moment is None:
        moment = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def verify(message_text: object, signature: object) -> User:
    """The account of the wallet that signed a message this server issued (created on its first sign-in), with
    a new session; the message's nonce is used up."""
    if not isinstance(message_text, str) or not isinstance(signature, str) or not message_text or not signature:
        raise _invalid("Ask for a fresh sign-in message and sign it with your wallet.", 400)
    siwe = _lib()
    try:
        message = siwe.SiweMessage.from_message(message_text)
    except Exception as exc:  # siwe raises many specific types; all mean "not a sign-in message"
        raise _invalid("That is not a sign-in message of this site. Ask for a fresh one.", 400) from exc
    domain, uri, chain_id = expected()
    if message.domain != domain:
        raise _invalid(f"This sign-in message is for {message.domain}, not {domain}. Sign in on {uri}.")
    if message.uri != uri or message.version != "1" or message.scheme not in (None, urlparse(uri).scheme):
        raise _invalid(f"This sign-in message names another site ({message.uri}). Sign in on {uri}.")
    if int(message.chain_id) != chain_id:
        raise _invalid(f"This sign-in message is for chain {message.chain_id}; this market runs on chain {chain_id}.")
    now = utcnow()
    ttl = timedelta(seconds=current_app.config["SIWE_NONCE_SECONDS"])
    issued, expires = _parsed_time(message.issued_at), _parsed_time(message.expiration_time)
    if issued is None or not now - ttl - CLOCK_SKEW <= issued <= now + CLOCK_SKEW:
        raise _invalid("This sign-in message is too old. Ask for a fresh one.")
    if expires is None or expires > issued + ttl + CLOCK_SKEW or expires <= now:
        raise _invalid("This sign-in message has expired. Ask for a fresh one.")
    try:
        message.verify(signature, domain=domain, nonce=message.nonce, timestamp=now)
    except Exception as exc:
        raise _invalid("The wallet signature did not verify. Try again.") from exc
    # Use the nonce up: only the first request that deletes its row signs in (atomic on SQLite and PostgreSQL).
    used = db.session.execute(delete(SiweNonce).where(
        SiweNonce.nonce == message.nonce, SiweNonce.address == message.address,
        SiweNonce.message_hash == _digest(message_text), SiweNonce.expires_at > now))  # fmt: skip
    db.session.commit()
    if used.rowcount != 1:
        raise _invalid("This sign-in message was already used, has expired or was not issued here. "
                       "Ask for a fresh one.", 400)  # fmt: skip
    user = accounts.wallet_user(message.address)
    sessions.start(user, "web")
    return user
