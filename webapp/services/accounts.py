"""Account operations shared by pages and the API: sign up (a new wallet, approved for the markets), log in
(a server-side session that holds the unlocked wallet key wrapped under the client's key), unlock, log out, and
the accounts of browser wallets (Sign-In with Ethereum: webapp.services.siwe)."""

from __future__ import annotations

import contextlib
import logging

from flask import current_app
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from werkzeug.security import check_password_hash, generate_password_hash

from energy_chain import Signer
from energy_chain.approvals import UNLIMITED
from webapp.errors import UserError
from webapp.extensions import db
from webapp.models import User
from webapp.services import passwords, sessions
from webapp.services.context import chain, keys
from webapp.text import Text
from webapp.wallets import SessionSigner, UnlockBusy, WrongPassword, decrypt_keystore, new_wallet

log = logging.getLogger(__name__)

APPROVED_SPENDERS = ("OrderBook", "DoubleAuction")
APPROVED = UNLIMITED // 2  # an unlimited approval, even after the spends of a lifetime
# A fixed hash to compare against when the username is unknown, so both paths take the same time.
_DUMMY_HASH = generate_password_hash("not-a-password")
# Names sign-up cannot take: browser-wallet accounts are called wallet-<address>, and these would mislead.
RESERVED_PREFIXES = ("wallet-",)
RESERVED_NAMES = frozenset({"operator", "admin", "administrator", "root", "system", "support", "solarshare"})
TAKEN = Text("That username is not available. Choose another one.")


def _busy(exc: UnlockBusy) -> UserError:
    return UserError(Text("The server is busy unlocking other wallets. Try again in %(n)s seconds.", n=exc.retry_after),
                     "unlock_busy", 503, retry_after=exc.retry_after)  # fmt: skip


def _scrypt_work():
    """Context manager for scrypt work: a slot of the unlock gate; UnlockBusy becomes a clear 503."""
    gate = current_app.extensions["unlock_gate"]

    @contextlib.contextmanager
    def slot():
        try:
            with gate.slot():
                yield
        except UnlockBusy as exc:
            raise _busy(exc) from exc

    return slot()


def username_problem(username: str) -> str | None:
    lowered = username.lower()
    if lowered.startswith(RESERVED_PREFIXES) or lowered in RESERVED_NAMES:
        return TAKEN
    return None


def signup(username: str, password: str, kind: str | None = "web", operator: bool = False) -> User:
    """Create the account, its wallet and a first session (`kind` "web" or "api"; None: no session, for the demo
    seed). The password policy is checked before the name, and a taken name and a reserved one get the same answer
    (docs/security.md: what sign-up reveals). Only the demo seed creates operators (and may use reserved names)."""
    passwords.check(password, username)
    if username_problem(username) and not operator:
        raise UserError(TAKEN, "username_taken", 409)
    if db.session.scalar(select(User.id).where(func.lower(User.username) == username.lower())) is not None:
        raise UserError(TAKEN, "username_taken", 409)
    with _scrypt_work():
        address, keystore, key = new_wallet(password, current_app.config["WALLET_SCRYPT_N"])
        password_hash = generate_password_hash(password)
    user = User(username=username, password_hash=password_hash, address=address, keystore=keystore,
                is_operator=operator)  # fmt: skip
    db.session.add(user)
    try:
        db.session.commit()
    except IntegrityError as exc:  # the same name, signed up at the same moment
        db.session.rollback()
        raise UserError(TAKEN, "username_taken", 409) from exc
    if kind is not None:
        sessions.start(user, kind, key)
    log.info("signed up %s with wallet %s", username, address)
    approve_markets(SessionSigner.from_private_key(key, sessions.nonce_counters()))
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


def _check_credentials(username: str, password: str) -> tuple[User, bytes | None]:
    """The user and the wallet key their password opens; the same answer for a wrong name and a wrong password."""
    bad = UserError("Wrong username or password.", "bad_credentials", 401)
    if len(password.encode("utf-8")) > passwords.MAX_BYTES:
        raise bad  # no work for an oversized password: it was never accepted at sign-up
    user = db.session.scalar(select(User).where(User.username == username))
    with _scrypt_work():
        if user is None or user.password_hash is None:
            check_password_hash(_DUMMY_HASH, password)
            raise bad
        if not check_password_hash(user.password_hash, password):
            raise bad
        if user.keystore is None:
            return user, None
        try:
            return user, decrypt_keystore(user.keystore, password)
        except WrongPassword as exc:
            raise bad from exc


def authenticate(username: str, password: str, kind: str = "web") -> User:
    """Check the password and start a session holding the unlocked wallet key."""
    user, key = _check_credentials(username, password)
    sessions.start(user, kind, key)
    return user


def unlock(user: User, password: str) -> None:
    """Decrypt the keystore once (scrypt) and keep the key with this session for WALLET_UNLOCK_SECONDS."""
    if user.keystore is None:
        return
    with _scrypt_work():
        try:
            key = decrypt_keystore(user.keystore, password)
        except WrongPassword as exc:
            raise UserError("Wrong password.", "bad_credentials", 401) from exc
    sessions.unlock(user, key)


def unlock_in_process(user: User, password: str) -> Signer:
    """The demo seed and bot (no browser session): the signer stays in this process's UnlockedKeys."""
    signer = SessionSigner.from_private_key(decrypt_keystore(user.keystore or "", password),
                                            sessions.nonce_counters())  # fmt: skip
    keys().put(signer)
    return signer


def log_out(user: User, everywhere: bool = False) -> int:
    """End this session (its wrapped key goes with it), or every session and API token of the user."""
    if everywhere:
        return sessions.end_all(user)
    sessions.end(user)
    return 1


def wallet_user(address: str) -> User:
    """The account of a browser wallet that signed in (EIP-4361), created on its first sign-in.

    Named wallet-<first 8 hex digits>, or wallet-<all 40> when another wallet already has that short name (an
    address with the same first digits is cheap to grind); sign-up cannot take the wallet- prefix.
    """
    user = db.session.scalar(select(User).where(User.address == address))
    if user is not None:
        return user
    for name in (f"wallet-{address[2:10].lower()}", f"wallet-{address[2:].lower()}"):
        if db.session.scalar(select(User.id).where(User.username == name)) is not None:
            continue
        db.session.add(User(username=name, password_hash=None, address=address, keystore=None))
        try:
            db.session.commit()
        except IntegrityError:
            db.session.rollback()  # the same wallet signing in twice at once, or the name taken meanwhile
            user = db.session.scalar(select(User).where(User.address == address))
            if user is not None:
                return user
            continue
        return db.session.scalar(select(User).where(User.address == address))
    raise UserError("This wallet cannot get an account name right now. Try again.", "siwe_unavailable", 409)
