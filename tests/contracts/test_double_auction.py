"""DoubleAuction with open orders: escrow, the grid band, hinted insertion, stepwise clearing, claims, grid
fallback, administration, and every phase error as a named revert."""

import brownie
import pytest

from energy_chain.clearing import Order as ClearingOrder
from energy_chain.clearing import Side, Tariffs, book_side
from tests.contracts import auction_fixtures as fx
from tests.contracts.auction_fixtures import (
    ASK,
    BID,
    CLAIMED,
    CLEARED,
    CLEARING,
    CLOSED,
    ENDED,
    FEED_IN,
    OPEN,
    RETAIL,
    cost_down,
    cost_up,
    end_round,
    new_round,
    order_id,
    submit,
)
from tests.contracts.brownie_utils import plain

auction, traders = fx.auction, fx.traders


@pytest.fixture
def rid(auction):
    return new_round(auction)


def book_ids(auction, rid, side):
    return [int(i) for i in auction.bookPage(rid, side, 0, 1000)[0]]


def cleared_round(auction, traders, rid, keeper):
    """Two bids and two asks that cross partly; returns their ids after close and full clearing."""
    alice, bob, carol, dave = traders[:4]
    ids = [
        order_id(submit(auction, alice, BID, 450_000, 3_000, rid)),
        order_id(submit(auction, bob, BID, 300_000, 2_000, rid)),
        order_id(submit(auction, carol, ASK, 250_000, 1_000, rid)),
        order_id(submit(auction, dave, ASK, 400_000, 5_000, rid)),
    ]
    end_round(auction, rid)
    auction.closeRound(rid, {"from": keeper})
    auction.clearRound(rid, 100, {"from": keeper})
    return ids


# --------------------------------------------------------------------------- submitting
def test_bid_escrows_money_at_ceil_cost(auction, traders, money, rid):
    alice = traders[0]
    before = money.balanceOf(alice)
    tx = submit(auction, alice, BID, 333_333, 7, rid)
    assert before - money.balanceOf(alice) == cost_up(333_333, 7) == 2334
    assert plain(list(tx.events["OrderBooked"].values())) == [rid, order_id(tx), str(alice), BID, 333_333, 333_333, 7]
    assert "RoundOpened" in tx.events and tx.events["RoundOpened"]["retailPrice"] == RETAIL


def test_ask_escrows_energy(auction, traders, energy, rid):
    carol = traders[2]
    before = energy.balanceOf(carol)
    submit(auction, carol, ASK, 300_000, 1_500, rid)
    assert before - energy.balanceOf(carol) == 1_500


def test_grid_band_clamps_prices(auction, traders, money, rid):
    alice, carol = traders[0], traders[2]
    before = money.balanceOf(alice)
    bid = submit(auction, alice, BID, 900_000, 1_000, rid)
    ask = submit(auction, carol, ASK, 1, 1_000, rid)
    assert bid.events["OrderBooked"]["price"] == RETAIL and bid.events["OrderBooked"]["limitPrice"] == 900_000
    assert ask.events["OrderBooked"]["price"] == FEED_IN
    assert before - money.balanceOf(alice) == cost_up(RETAIL, 1_000)  # escrow at the capped price


def test_book_is_sorted_with_time_priority_whatever_the_hint(auction, traders, rid):
    alice, bob = traders[:2]
    a = order_id(submit(auction, alice, BID, 300_000, 1, rid))
    b = order_id(submit(auction, bob, BID, 400_000, 1, rid, hint=a))  # hint too late: walks back to the head
    c = order_id(submit(auction, alice, BID, 300_000, 1, rid, hint=0))  # equal price: after the earlier order
    d = order_id(submit(auction, bob, BID, 350_000, 1, rid, hint=c))
    assert book_ids(auction, rid, BID) == [b, d, a, c]
    carol, dave = traders[2:4]  # sellers: an owner books one side per round
    e = order_id(submit(auction, carol, ASK, 350_000, 1, rid))
    f = order_id(submit(auction, dave, ASK, 250_000, 1, rid, hint=e))
    assert book_ids(auction, rid, ASK) == [f, e]
    assert plain(list(auction.bookPage(rid, BID, b, 2)[0])) == [d, a]


def reference_ids(auction, rid, side):
    """The side's ids in the order the rule gives (energy_chain.clearing, open round: booking = id order)."""
    ids, prices, amounts = auction.bookPage(rid, side, 0, 10_000)
    orders = [ClearingOrder(int(i), Side(side), int(p), int(a)) for i, p, a in zip(ids, prices, amounts, strict=True)]
    return [o.id for o in book_side(orders, Side(side), Tariffs(RETAIL, FEED_IN))]


def test_nonsense_hints_are_ignored(auction, traders, rid):
    alice, carol = traders[0], traders[2]
    ask = order_id(submit(auction, carol, ASK, 300_000, 1, rid))
    a = order_id(submit(auction, alice, BID, 300_000, 1, rid, hint=ask))  # a hint of the other side
    b = order_id(submit(auction, alice, BID, 400_000, 1, rid, hint=999))  # no such order
    c = order_id(submit(auction, alice, BID, 350_000, 1, rid, hint=2**64 - 1))
    assert book_ids(auction, rid, BID) == [b, c, a]
    assert auction.maxHintSteps() == 4


@pytest.mark.parametrize("hint", ["stale", "zero", "nonsense"])
def test_a_spam_wall_between_hint_and_mining_cannot_fail_an_honest_order(auction, traders, rid, hint):
    """The honest bids read their hints, then a spammer books 130 bids at distinct prices between each hint and its
    price and a same-price group (also at retail, where every bid above retail lands) before they are mined: the
    old bounded walk (64) reverted DoubleAuctionHintTooFar; now each is booked at its exact place."""
    alice, spammer, carol = traders[0], traders[1], traders[2]
    top = order_id(submit(auction, alice, BID, 400_000, 1, rid))
    first_retail = order_id(submit(auction, alice, BID, 900_000, 1, rid))  # effective price: retail
    floor = order_id(submit(auction, alice, BID, FEED_IN, 1, rid))
    ask = order_id(submit(auction, carol, ASK, 300_000, 1, rid))
    hints = {"stale": (top, first_retail), "zero": (0, 0), "nonsense": (ask, 10**9)}[hint]
    # The spammer's own orders carry exact hints (each after the one before), so only the honest orders meet the wall.
    last = top
    for i in range(130):  # distinct prices between the honest bid's hint (400 000) and its price (300 000)
        last = order_id(submit(auction, spammer, BID, 399_000 - 700 * i, 1, rid, hint=last))
    last_retail = first_retail
    for _ in range(70):  # a same-price group at the honest price and at retail, all booked before the honest bids
        last = order_id(submit(auction, spammer, BID, 300_000, 1, rid, hint=last))
        last_retail = order_id(submit(auction, spammer, BID, 600_000, 1, rid, hint=last_retail))
    honest = order_id(submit(auction, alice, BID, 300_000, 1, rid, hint=hints[0]))
    capped = order_id(submit(auction, alice, BID, 800_000, 1, rid, hint=hints[1]))
    fresh = order_id(submit(auction, alice, BID, 250_001, 1, rid, hint=hints[0]))  # a price nobody booked yet
    got = book_ids(auction, rid, BID)
    assert got == reference_ids(auction, rid, BID) and len(got) == 4 + 130 + 140 + 2
    assert got.index(honest) == got.index(floor) - 2  # last of the 300 000 group, before the fresh price
    assert got.index(capped) == 71 and got.index(fresh) == len(got) - 2  # last of the retail group; above feed-in
    assert got[0] == first_retail and got[72] == top


def test_zero_and_oversized_orders_revert(auction, traders, rid):
    alice = traders[0]
    with brownie.reverts("DoubleAuctionZeroAmount: "):
        submit(auction, alice, BID, 300_000, 0, rid)
    with brownie.reverts(revert_pattern=r"DoubleAuctionOrderTooLarge: .*"):
        submit(auction, alice, ASK, 10**15 + 1, 1, rid)


def test_submit_to_another_round_reverts(auction, traders, rid):
    with brownie.reverts(f"DoubleAuctionNotCurrentRound: {rid + 900}, {rid}"):
        submit(auction, traders[0], BID, 300_000, 1, rid + 900)


def test_bid_after_window_and_after_close_reverts(auction, traders, rid, stranger):
    alice = traders[0]
    submit(auction, alice, BID, 300_000, 1, rid)
    end_round(auction, rid)
    with brownie.reverts(f"DoubleAuctionWrongPhase: {rid}, {ENDED}"):
        submit(auction, alice, BID, 300_000, 1, rid)
    auction.closeRound(rid, {"from": stranger})
    with brownie.reverts(f"DoubleAuctionWrongPhase: {rid}, {CLOSED}"):
        submit(auction, alice, ASK, 300_000, 1, rid)


def test_commit_in_open_round_reverts(auction, traders, rid):
    with brownie.reverts(f"DoubleAuctionWrongMode: {rid}, False"):
        auction.commitOrder(rid, "0x" + "11" * 32, 1000, 0, {"from": traders[0]})


# --------------------------------------------------------------------------- closing and clearing
def test_closing_early_reverts(auction, traders, rid, stranger):
    submit(auction, traders[0], BID, 300_000, 1, rid)
    with brownie.reverts(f"DoubleAuctionWindowNotOver: {rid}, {rid + 900}"):
        auction.closeRound(rid, {"from": stranger})


def test_close_unknown_round_and_close_twice_revert(auction, traders, rid, stranger):
    with brownie.reverts(f"DoubleAuctionUnknownRound: {rid}"):
        auction.closeRound(rid, {"from": stranger})
    submit(auction, traders[0], BID, 300_000, 1, rid)
    end_round(auction, rid)
    tx = auction.closeRound(rid, {"from": stranger})
    assert plain(list(tx.events["RoundClosed"].values())) == [rid, 1, 0]
    assert auction.phaseOf(rid) == CLOSED
    with brownie.reverts(f"DoubleAuctionWrongPhase: {rid}, {CLOSED}"):
        auction.closeRound(rid, {"from": stranger})


def test_clear_before_close_and_zero_steps_revert(auction, traders, rid, stranger):
    submit(auction, traders[0], BID, 300_000, 1, rid)
    with brownie.reverts(f"DoubleAuctionWrongPhase: {rid}, {OPEN}"):
        auction.clearRound(rid, 10, {"from": stranger})
    end_round(auction, rid)
    with brownie.reverts(f"DoubleAuctionWrongPhase: {rid}, {ENDED}"):
        auction.clearRound(rid, 10, {"from": stranger})
    auction.closeRound(rid, {"from": stranger})
    with brownie.reverts("DoubleAuctionZeroSteps: "):
        auction.clearRound(rid, 0, {"from": stranger})


def test_clearing_twice_reverts(auction, traders, rid, stranger):
    cleared_round(auction, traders, rid, stranger)
    assert auction.phaseOf(rid) == CLEARED
    with brownie.reverts(f"DoubleAuctionWrongPhase: {rid}, {CLEARED}"):
        auction.clearRound(rid, 10, {"from": stranger})


def test_uniform_price_volume_rationing_and_grid_fallback(auction, traders, rid, stranger):
    alice, bob, carol, dave = traders[:4]
    ids = [
        order_id(submit(auction, alice, BID, 450_000, 3_000, rid)),
        order_id(submit(auction, bob, BID, 300_000, 2_000, rid)),
        order_id(submit(auction, carol, ASK, 250_000, 1_000, rid)),
        order_id(submit(auction, dave, ASK, 400_000, 5_000, rid)),
    ]
    end_round(auction, rid)
    auction.closeRound(rid, {"from": stranger})
    tx = auction.clearRound(rid, 100, {"from": stranger})
    # alice 3 000 Wh: 1 000 from carol (250k), 2 000 from dave (400k); bob's 300k < 400k: no trade.
    # Marginal pair alice (450k) / dave (400k): price 425 000; dave rationed to 2 000 of 5 000 Wh.
    assert plain(list(tx.events["RoundCleared"].values())) == [rid, 425_000, 3_000, ids[0], ids[3]]
    assert plain(list(tx.events["GridFallbackRecorded"].values())) == [
        rid,
        2_000,
        RETAIL,
        cost_down(RETAIL, 2_000),
        3_000,
        FEED_IN,
        cost_down(FEED_IN, 3_000),
    ]
    assert [plain(list(auction.settlementOf(i))) for i in ids] == [
        [3_000, cost_up(425_000, 3_000), cost_up(450_000, 3_000) - cost_up(425_000, 3_000), 0, 0],
        [0, 0, cost_up(300_000, 2_000), 0, 2_000],
        [1_000, cost_down(425_000, 1_000), 0, 0, 0],
        [2_000, cost_down(425_000, 2_000), 0, 3_000, 3_000],
    ]


def test_stepwise_clearing_is_bounded_and_resumable(auction, traders, rid, stranger):
    alice, carol = traders[0], traders[2]
    for _ in range(3):
        submit(auction, alice, BID, 400_000, 10, rid)
    for _ in range(3):
        submit(auction, carol, ASK, 300_000, 10, rid)
    end_round(auction, rid)
    auction.closeRound(rid, {"from": stranger})
    tx1 = auction.clearRound(rid, 2, {"from": stranger})
    assert plain(list(tx1.events["RoundClearingProgressed"].values())) == [rid, 2, 20]
    assert auction.phaseOf(rid) == CLEARING
    with brownie.reverts(f"DoubleAuctionWrongPhase: {rid}, {CLEARING}"):
        auction.claim(1, {"from": alice})
    tx2 = auction.clearRound(rid, 4, {"from": stranger})  # 1 step ends the volume pass, 3 make the price walk
    assert "RoundClearingProgressed" not in tx2.events
    assert tx2.events["RoundCleared"]["volumeWh"] == 30 and tx2.events["RoundCleared"]["clearingPrice"] == 350_000


def test_one_sided_round_clears_with_no_trade(auction, traders, rid, stranger):
    submit(auction, traders[0], BID, 400_000, 10, rid)
    end_round(auction, rid)
    auction.closeRound(rid, {"from": stranger})
    tx = auction.clearRound(rid, 1, {"from": stranger})
    assert plain(list(tx.events["RoundCleared"].values())) == [rid, 0, 0, 0, 0]
    assert tx.events["GridFallbackRecorded"]["importedWh"] == 10


# --------------------------------------------------------------------------- claiming
def test_claim_before_clearing_reverts(auction, traders, rid, stranger):
    alice = traders[0]
    oid = order_id(submit(auction, alice, BID, 300_000, 1, rid))
    with brownie.reverts(f"DoubleAuctionWrongPhase: {rid}, {OPEN}"):
        auction.claim(oid, {"from": alice})
    end_round(auction, rid)
    auction.closeRound(rid, {"from": stranger})
    with brownie.reverts(f"DoubleAuctionWrongPhase: {rid}, {CLOSED}"):
        auction.claim(oid, {"from": alice})


def test_claims_pay_fill_and_refund_and_double_claim_reverts(auction, traders, rid, stranger, energy, money):
    alice, bob, carol, dave = traders[:4]
    e0 = {a: energy.balanceOf(a) for a in traders[:4]}
    m0 = {a: money.balanceOf(a) for a in traders[:4]}
    ids = cleared_round(auction, traders, rid, stranger)
    tx = auction.claim(ids[0], {"from": stranger})  # anyone may trigger a claim; the owner is paid
    assert plain(list(tx.events["OrderClaimed"].values())) == [
        rid,
        ids[0],
        str(alice),
        BID,
        3_000,
        cost_up(425_000, 3_000),
        cost_up(450_000, 3_000) - cost_up(425_000, 3_000),
        0,
        0,
    ]
    with brownie.reverts(f"DoubleAuctionAlreadyClaimed: {ids[0]}"):
        auction.claim(ids[0], {"from": alice})
    auction.claimMany(ids[1:], {"from": dave})
    tx = auction.claimMany([ids[2]], {"from": carol})  # already claimed: skipped, the batch does not revert
    assert "OrderClaimed" not in tx.events
    assert energy.balanceOf(alice) - e0[alice] == 3_000
    assert m0[alice] - money.balanceOf(alice) == cost_up(425_000, 3_000)
    assert (energy.balanceOf(bob), money.balanceOf(bob)) == (e0[bob], m0[bob])
    assert e0[carol] - energy.balanceOf(carol) == 1_000 and money.balanceOf(carol) - m0[carol] == 425_000
    assert e0[dave] - energy.balanceOf(dave) == 2_000 and money.balanceOf(dave) - m0[dave] == 850_000
    assert energy.balanceOf(auction) == 0 and money.balanceOf(auction) == 0
    assert all(auction.getOrder(i)[3] == CLAIMED for i in ids)


def test_claim_unknown_and_bad_batches_revert(auction, stranger):
    with brownie.reverts("DoubleAuctionUnknownOrder: 77"):
        auction.claim(77, {"from": stranger})
    with brownie.reverts("DoubleAuctionUnknownOrder: 77"):
        auction.settlementOf(77)
    with brownie.reverts("DoubleAuctionInvalidBatchLength: 0"):
        auction.claimMany([], {"from": stranger})
    with brownie.reverts("DoubleAuctionInvalidBatchLength: 101"):
        auction.claimMany(list(range(1, 102)), {"from": stranger})


# --------------------------------------------------------------------------- administration
def test_tariffs_are_snapshotted_per_round(auction, traders, rid, operator):
    submit(auction, traders[0], BID, 900_000, 1, rid)
    tx = auction.setGridTariffs(600_000, 100_000, {"from": operator})
    assert plain(list(tx.events["GridTariffsSet"].values())) == [600_000, 100_000]
    r = auction.getRound(rid)
    assert (r[5], r[6]) == (RETAIL, FEED_IN)
    assert submit(auction, traders[1], BID, 900_000, 1, rid).events["OrderBooked"]["price"] == RETAIL
    nxt = new_round(auction)
    assert submit(auction, traders[1], BID, 900_000, 1, nxt).events["OrderBooked"]["price"] == 600_000


def test_admin_checks(auction, admin, operator, stranger):
    with brownie.reverts(revert_pattern=r"AccessControlUnauthorizedAccount: .*"):
        auction.setGridTariffs(1, 1, {"from": stranger})
    with brownie.reverts(revert_pattern=r"AccessControlUnauthorizedAccount: .*"):
        auction.setSchedule(300, 60, True, {"from": operator})
    with brownie.reverts("DoubleAuctionInvalidTariffs: 100, 200"):
        auction.setGridTariffs(100, 200, {"from": operator})
    with brownie.reverts("DoubleAuctionInvalidTariffs: 0, 0"):
        auction.setGridTariffs(0, 0, {"from": operator})
    with brownie.reverts("DoubleAuctionInvalidSchedule: 0, 60"):
        auction.setSchedule(0, 60, False, {"from": admin})
    tx = auction.setSchedule(300, 60, True, {"from": admin})
    assert plain(list(tx.events["ScheduleSet"].values())) == [300, 60, True]
    assert plain(list(auction.schedule())) == [300, 60, True]


def test_interval_change_applies_to_new_rounds(auction, traders, admin, rid):
    submit(auction, traders[0], BID, 300_000, 1, rid)
    auction.setSchedule(300, 60, False, {"from": admin})
    assert auction.getRound(rid)[1] == rid + 900  # the open round keeps its window
    nxt = new_round(auction)
    assert nxt % 300 == 0
    tx = submit(auction, traders[0], BID, 300_000, 1, nxt)
    assert tx.events["RoundOpened"]["end"] == nxt + 300
