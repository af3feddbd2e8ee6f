"""energy_chain.hints: a placement reverted by the bounded hint walk is sent again with a fresh hint (both venues'
errors), at most HINT_RETRIES times; other reverts are not retried."""

from __future__ import annotations

import pytest

from energy_chain import TxFailed
from energy_chain.errors import DecodedError
from energy_chain.hints import HINT_RETRIES, with_fresh_hints


def failing(name: str, times: int):
    sent: list[int] = []

    def send(hint: int) -> str:
        sent.append(hint)
        if len(sent) <= times:
            raise TxFailed("reverted", DecodedError(name, {}))
        return "mined"

    return send, sent


@pytest.mark.parametrize("error", ["OrderBookHintTooFar", "DoubleAuctionHintTooFar"])
def test_a_stale_hint_is_read_again(error):
    send, sent = failing(error, 2)
    fresh = iter([11, 12, 13])
    assert with_fresh_hints(send, lambda: next(fresh), hint=7) == "mined"
    assert sent == [7, 11, 12]  # the caller's hint first, then one fresh hint per retry


def test_gives_up_after_the_retries():
    send, sent = failing("OrderBookHintTooFar", 10)
    with pytest.raises(TxFailed):
        with_fresh_hints(send, lambda: 5, hint=None)
    assert len(sent) == HINT_RETRIES + 1


def test_other_reverts_are_not_retried():
    send, sent = failing("OrderBookInsufficientBalance", 1)
    with pytest.raises(TxFailed):
        with_fresh_hints(send, lambda: 5, hint=None)
    assert sent == [5]
