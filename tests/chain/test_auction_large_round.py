"""A round with 1 000 bids and 1 000 asks: submitted with hints computed off chain, cleared in bounded steps, and
equal to the reference on every order; no clearing transaction exceeds a fifth of a 30M block."""

from __future__ import annotations

import random
from collections.abc import Iterator

import pytest

from energy_chain.auction import GAS_SUBMIT, BookEntry, hint_for
from energy_chain.clearing import Order, Side, Tariffs, clear, effective_price, settle, sort_key
from tests.chain.auction_harness import AuctionChain, start_auction_chain

N = 1_000
STEPS = 400
BLOCK_GAS = 30_000_000
TARIFFS = Tariffs(500_000, 200_000)


@pytest.fixture(scope="module")
def chain() -> Iterator[AuctionChain]:
    c = start_auction_chain()
    yield c
    c.stop()


@pytest.mark.slow
def test_thousand_per_side_clears_in_bounded_steps(chain: AuctionChain) -> None:
    rng = random.Random(4)
    fns = chain.contract.functions
    round_id = chain.start_new_round()
    first = fns.nextOrderId().call()
    books: dict[Side, list[BookEntry]] = {Side.BID: [], Side.ASK: []}
    orders, calls = [], []
    for k in range(2 * N):
        side = Side.BID if k % 2 == 0 else Side.ASK
        # Overlapping price ranges with many ties, so that clearing walks deep into both sides.
        price = rng.randrange(250_000, 450_000, 500) if side == Side.BID else rng.randrange(200_000, 400_000, 500)
        amount = rng.choice([500, 1_000, 1_500, rng.randrange(1, 5_000)])
        oid, eff = first + k, effective_price(side, price, TARIFFS)
        hint = hint_for(books[side], side, eff)
        books[side].append(BookEntry(oid, eff, amount))
        books[side].sort(key=lambda e, s=side: sort_key(s, e.price, e.id))
        orders.append(Order(oid, side, price, amount))
        calls.append((fns.submitOrder(round_id, int(side), price, amount, hint), chain.traders[k % 10], GAS_SUBMIT))
    receipts = chain.send_batch(calls)
    assert all(r["status"] == 1 for r in receipts)
    assert max(r["gasUsed"] for r in receipts) < 500_000  # exact hints: no walking

    chain.end_round(round_id)
    chain.send_one(fns.closeRound(round_id), chain.keeper, 100_000)
    gases = []
    while fns.phaseOf(round_id).call() != 6:  # Cleared
        gases.append(chain.send_one(fns.clearRound(round_id, STEPS), chain.keeper, 10_000_000)["gasUsed"])
    expected = clear(orders, TARIFFS)
    assert expected.steps > 2 * STEPS  # several transactions were needed
    assert len(gases) == -(-expected.steps // STEPS)
    assert max(gases) < BLOCK_GAS // 5

    rnd = chain.auction.round(round_id)
    assert (rnd["clearingPrice"], rnd["volumeWh"]) == (expected.price, expected.volume_wh)
    got = chain.call_many([fns.settlementOf(o.id) for o in orders], "(uint128,uint128,uint128,uint128,uint128)")
    for o, g in zip(orders, got, strict=True):
        want = settle(o, expected, TARIFFS)
        assert g == (want.fill_wh, want.money, want.money_refund, want.energy_refund, want.grid_wh), o
