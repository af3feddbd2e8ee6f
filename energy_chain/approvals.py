"""Token approvals for the market contracts: the one place that decides how much a venue may pull, and the one
approve-then-retry rule for an order that met a missing allowance."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any, TypeVar

from energy_chain.client import ChainClient, TxFailed
from energy_chain.signer import Signer

# A venue escrows on every order, so it is approved once without limit (the contract is the project's own, and a
# holder can revoke with approve(venue, 0)); re-approving only below half of it keeps a second call a no-op.
UNLIMITED = 2**256 - 1
APPROVE_GAS = 100_000
TOKENS = ("EnergyToken", "SettlementToken")
# The reverts that mean "approve first": the order book checks allowances itself, the auction meets OpenZeppelin's.
ALLOWANCE_ERRORS = frozenset({"OrderBookInsufficientAllowance", "ERC20InsufficientAllowance"})

T = TypeVar("T")


def approve_function(chain: ChainClient, token: str, spender: str, amount: int = UNLIMITED) -> Any:
    """`token.approve(spender, amount)` as a contract call (for batches that send many at once)."""
    return chain.contract(token).functions.approve(spender, amount)


def missing_approvals(chain: ChainClient, owner: str, spender: str, tokens: Iterable[str] = TOKENS) -> list[str]:
    """The tokens whose allowance from `owner` to `spender` is below what an unlimited approval leaves."""
    return [t for t in tokens if chain.contract(t).functions.allowance(owner, spender).call() < UNLIMITED // 2]


def ensure_approvals(
    chain: ChainClient, signer: Signer, spender: str, tokens: Iterable[str] = TOKENS
) -> list[dict[str, Any]]:
    """Approve `spender` on each token that needs it and wait; returns the receipts (none when all were done)."""
    return [
        chain.transact(approve_function(chain, t, spender), signer, gas=APPROVE_GAS)
        for t in missing_approvals(chain, signer.address, spender, tokens)
    ]


def approve_and_retry(
    action: Callable[[], T], approve: Callable[[], object], failures: tuple[type[Exception], ...] = (TxFailed,)
) -> T:
    """Run `action`; if it failed for want of an allowance (one of ALLOWANCE_ERRORS), run `approve` and `action`
    once more. `failures` are the exception types that carry `error_name` (a caller's own wrapper of TxFailed)."""
    try:
        return action()
    except failures as exc:
        if getattr(exc, "error_name", None) not in ALLOWANCE_ERRORS:
            raise
    approve()
    return action()


def retry_after_approval(chain: ChainClient, signer: Signer, spender: str, action: Callable[[], T]) -> T:
    """Run `action`; if it failed for want of an allowance, approve `spender` on both tokens and run it once more.

    The first order of a new wallet meets this when its approvals were never sent or are not mined yet.
    """
    return approve_and_retry(action, lambda: ensure_approvals(chain, signer, spender))
