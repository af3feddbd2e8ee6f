"""Send a market transaction; when the market may not move the signer's tokens yet, approve and send once more.

A new wallet's approvals (sent without waiting at sign-up) may not be mined yet, or were never sent because the
chain was down then. The approvals themselves are the market clients' (energy_chain.orders / energy_chain.auction).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from webapp.errors import TransactionRejected

T = TypeVar("T")


def send_approving(send: Callable[[], T], approve: Callable[[], object], allowance_error: str) -> T:
    """`send()`; on the revert named `allowance_error`, `approve()` (waits) and `send()` again."""
    try:
        return send()
    except TransactionRejected as exc:
        if exc.error_name != allowance_error:
            raise
    approve()
    return send()
