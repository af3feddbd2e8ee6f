"""One rule for stale price-level hints (issue 15, items C and 8): a placement whose hint went stale between the
read and the mining, so far that the contract's bounded walk gave up (`OrderBookHintTooFar`,
`DoubleAuctionHintTooFar`), placed nothing; it is sent again with a hint read afresh from the chain, up to
HINT_RETRIES times. Levels that landed in the block before ours are then part of the state the new hint comes from,
so only a spammer who lands more than the walk's bound of new levels between hint and price in *every* block we
try still makes the order fail (docs/security.md, item C)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TypeVar

from energy_chain.client import TxFailed

log = logging.getLogger(__name__)

HINT_RETRIES = 2  # three attempts in all: each costs the spammer another block of new levels
HINT_ERRORS = frozenset({"OrderBookHintTooFar", "DoubleAuctionHintTooFar"})

T = TypeVar("T")


def with_fresh_hints(
    send: Callable[[int], T],
    read_hint: Callable[[], int],
    hint: int | None,
    retries: int = HINT_RETRIES,
    failures: tuple[type[Exception], ...] = (TxFailed,),
) -> T:
    """`send(hint)`, with `hint` or (None) one read now; after a hint-walk revert, again with a fresh hint.

    `failures`: the exceptions a revert arrives as (each with the decoded `error_name`): the SDK's TxFailed, or a
    caller's own translation of it (the web app's TransactionRejected)."""
    for attempt in range(retries + 1):
        if hint is None:
            hint = read_hint()
        try:
            return send(hint)
        except failures as exc:
            if getattr(exc, "error_name", None) not in HINT_ERRORS or attempt == retries:
                raise
            log.warning("hint %s went stale before mining (%s); sending again with a fresh hint", hint, exc.error_name)
            hint = None
    raise AssertionError("unreachable")
