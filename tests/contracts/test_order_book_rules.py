"""Order book fill cap (docs/security.md, Contracts H): dust remainders below the minimum are closed when they appear,
expired orders at the best price do not use up a taker's fill cap, and the taker's remainder is reported truthfully."""

from __future__ import annotations

import brownie

from tests.contracts import order_book_fixtures as fixtures
from tests.contracts.order_book_fixtures import BUY, MIN_WH, SELL

book, traders = fixtures.book, fixtures.traders
DUST = 3  # IOrderBook.CancelReason.Dust
PRICE = 400_000


def _place(book, who, side, price, amount, expiry=0, max_fills=10):
    return book.placeOrder(side, price, amount, expiry, max_fills, 0, {"from": who})


def test_a_fill_leaving_dust_closes_the_maker_and_refunds_it(book, traders, energy):
    seller, buyer = traders[0], traders[1]
    maker = _place(book, seller, SELL, PRICE, 2 * MIN_WH).events["OrderPlaced"]["id"]
    before = energy.balanceOf(seller)
    tx = _place(book, buyer, BUY, PRICE, 2 * MIN_WH - 1)  # leaves 1 Wh, below the minimum of 10
    cancel = tx.events["OrderCancelled"][0]
    assert (cancel["id"], cancel["remaining"], cancel["refund"], cancel["reason"]) == (maker, 1, 1, DUST)
    assert energy.balanceOf(seller) - before == 1
    assert book.order(maker)["status"] == 3 and book.bestAsk() == 0  # Cancelled: no dust left at the best price


def test_expired_orders_do_not_use_up_the_fill_cap(book, traders):
    spammer, seller, buyer = traders[0], traders[1], traders[2]
    soon = brownie.chain.time() + 100
    for _ in range(5):
        _place(book, spammer, SELL, PRICE, MIN_WH, expiry=soon)
    live = _place(book, seller, SELL, PRICE, MIN_WH).events["OrderPlaced"]["id"]
    brownie.chain.sleep(200)
    # Five fills allowed, six resting orders: the five expired ones are removed on a cap of their own (five too).
    tx = _place(book, buyer, BUY, PRICE, MIN_WH, max_fills=5)
    assert len(tx.events["OrderExpired"]) == 5
    assert tx.events["OrderFilled"][0]["makerId"] == live
    assert "OrderCancelled" not in tx.events  # the taker filled: nothing was cancelled for the cap


def test_taker_remainder_below_the_minimum_does_not_rest(book, traders):
    seller, buyer = traders[0], traders[1]
    _place(book, seller, SELL, PRICE, MIN_WH)
    tx = _place(book, buyer, BUY, PRICE, MIN_WH + 3)
    cancel = tx.events["OrderCancelled"][0]
    taker = tx.events["OrderPlaced"]["id"]
    assert (cancel["id"], cancel["remaining"], cancel["refund"], cancel["reason"]) == (taker, 3, 0, DUST)
    assert book.order(taker)["status"] == 3 and book.bestBid() == 0
