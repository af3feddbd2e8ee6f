"""Auction rules against manipulation and spam (docs/security.md, Contracts A and I): minimum size, no self-trade,
a price a marginal sliver cannot move, no zero-price or never-fillable orders."""

from __future__ import annotations

import brownie
import pytest

from tests.contracts import auction_fixtures as fx
from tests.contracts.auction_fixtures import ASK, BID, FEED_IN, RETAIL, end_round, new_round, order_id, submit

auction, traders = fx.auction, fx.traders


@pytest.fixture
def rid(auction):
    return new_round(auction)


def _clear(auction, rid, who):
    end_round(auction, rid)
    auction.closeRound(rid, {"from": who})
    return auction.clearRound(rid, 1_000, {"from": who}).events["RoundCleared"]


def test_default_minimum_size_rejects_slivers(DoubleAuction, energy, money, admin, operator, traders):
    fresh = DoubleAuction.deploy(admin, operator, energy, money, RETAIL, FEED_IN, {"from": admin, "gas_price": 0})
    assert fresh.minAmount() == 100
    rid = new_round(fresh)
    with brownie.reverts("DoubleAuctionAmountBelowMinimum: 99, 100"):
        fresh.submitOrder(rid, BID, 450_000, 99, 0, {"from": traders[0]})
    with brownie.reverts("DoubleAuctionInvalidMinAmount: 0"):
        fresh.setMinAmount(0, {"from": admin})
    with brownie.reverts():
        fresh.setMinAmount(5, {"from": traders[0]})  # admin only


def test_an_owner_books_one_side_per_round(auction, traders, rid):
    seller = traders[2]
    submit(auction, seller, ASK, 200_000, 1_000, rid)
    submit(auction, seller, ASK, 210_000, 1_000, rid)  # more on the same side is fine
    with brownie.reverts(f"DoubleAuctionSelfTrade: {rid}, {seller.address.lower()}"):
        submit(auction, seller, BID, 450_000, 1, rid)


def test_a_marginal_sliver_does_not_move_the_price(auction, traders, rid, stranger):
    """The issue's attack: bids 500 000 x 500 Wh and 450 000 x 500 Wh against an ask 200 000 x 1 000 Wh (fair price
    325 000); the seller's accomplices add a 450 000 x 1 Wh bid and ask. The old rule cleared at 450 000."""
    b1, b2, seller, sybil_bid, sybil_ask = traders
    submit(auction, b1, BID, 500_000, 500, rid)
    submit(auction, b2, BID, 450_000, 500, rid)
    submit(auction, seller, ASK, 200_000, 1_000, rid)
    bid = order_id(submit(auction, sybil_bid, BID, 450_000, 1, rid))
    ask = order_id(submit(auction, sybil_ask, ASK, 450_000, 1, rid))
    cleared = _clear(auction, rid, stranger)
    assert (cleared["clearingPrice"], cleared["volumeWh"]) == (325_000, 1_000)
    assert auction.settlementOf(bid)[0] == auction.settlementOf(ask)[0] == 0  # the sliver does not trade either


def test_zero_price_and_never_fillable_orders_revert(auction, traders, rid):
    buyer, seller = traders[0], traders[2]
    with brownie.reverts("DoubleAuctionZeroPrice: "):
        submit(auction, buyer, BID, 0, 100, rid)
    with brownie.reverts("DoubleAuctionZeroPrice: "):
        submit(auction, seller, ASK, 0, 100, rid)
    with brownie.reverts(f"DoubleAuctionNeverFillable: {BID}, {FEED_IN - 1}, {RETAIL}, {FEED_IN}"):
        submit(auction, buyer, BID, FEED_IN - 1, 100, rid)  # every ask is raised to feed-in: never meets one
    with brownie.reverts(f"DoubleAuctionNeverFillable: {ASK}, {RETAIL + 1}, {RETAIL}, {FEED_IN}"):
        submit(auction, seller, ASK, RETAIL + 1, 100, rid)  # every bid is capped at retail
    assert order_id(submit(auction, buyer, BID, FEED_IN, 100, rid)) > 0  # the edges are fillable
    assert order_id(submit(auction, seller, ASK, RETAIL, 100, rid)) > 0


def test_unrevealed_commitment_forfeits_a_tenth(auction, traders, admin, operator, stranger, money):
    """Security D: keeping a commitment closed is no longer free (it refunded in full before)."""
    from tests.contracts.auction_fixtures import INTERVAL, REVEAL, cost_up, to_reveal

    auction.setSchedule(INTERVAL, REVEAL, True, {"from": admin})
    rid = new_round(auction)
    salt = b"\x07" * 32
    bob = traders[1]
    deposit = cost_up(395_000, 1_000)
    digest = auction.commitmentHash(BID, 395_000, 1_000, salt, bob)
    oid = order_id(auction.commitOrder(rid, digest, deposit, 0, {"from": bob}))
    to_reveal(auction, rid)
    bob_before, fund_before = money.balanceOf(bob), money.balanceOf(operator)
    _clear(auction, rid, stranger)
    auction.claim(oid, {"from": stranger})
    assert money.balanceOf(bob) - bob_before == deposit - deposit // 10
    assert money.balanceOf(operator) - fund_before == deposit // 10
    auction.setSchedule(INTERVAL, REVEAL, False, {"from": admin})


def test_claim_many_skips_orders_claimed_before(auction, traders, rid, stranger):
    """Security G: a front-run claim() of one order no longer reverts the keeper's batch."""
    buyer, seller = traders[0], traders[2]
    ids = [order_id(submit(auction, buyer, BID, 400_000, 100, rid)) for _ in range(3)]
    ids.append(order_id(submit(auction, seller, ASK, 300_000, 300, rid)))
    _clear(auction, rid, stranger)
    auction.claim(ids[1], {"from": buyer})
    tx = auction.claimMany(ids, {"from": stranger})
    assert sorted(e["orderId"] for e in tx.events["OrderClaimed"]) == [ids[0], ids[2], ids[3]]
    with brownie.reverts(f"DoubleAuctionAlreadyClaimed: {ids[1]}"):
        auction.claim(ids[1], {"from": stranger})
