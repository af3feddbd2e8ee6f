"""What every service needs from the running app: the chain service, the signer of the logged-in session, the
indexer."""

from __future__ import annotations

from flask import current_app, has_request_context

from energy_chain import Signer
from webapp.chain.service import ChainService
from webapp.errors import UserError
from webapp.models import User
from webapp.services import sessions
from webapp.wallets import UnlockedKeys, WalletLocked


def chain() -> ChainService:
    return current_app.extensions["chain"]


def keys() -> UnlockedKeys:
    """Signers unlocked in this process by the demo seed and bot (never used for a web request)."""
    return current_app.extensions["keys"]


def signer_for(user: User) -> Signer:
    """The user's unlocked key, or a clear error telling them what to do."""
    if not user.custodial:
        raise UserError("Your account uses a browser wallet: sign this transaction in your wallet.",
                        "browser_wallet", 409)  # fmt: skip
    try:
        if has_request_context():  # a web request signs only with its own session's key
            return sessions.signer(user)
        return keys().get(user.address)  # the demo bot and seed, in their own processes
    except WalletLocked as exc:
        raise UserError("Your session expired: log in again to unlock your wallet.", "wallet_locked", 401) from exc


def sync_index() -> None:
    """Bring the history tables up to the head (used right after a page's own transaction was mined)."""
    current_app.extensions["indexer"].sync()
