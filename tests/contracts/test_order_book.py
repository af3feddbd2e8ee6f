"""OrderBook unit tests: placing, matching with partial fills, price-time priority, caps, self-trades, cancel,
expiry, hints, views, admin, and every bad input as a named revert."""

import brownie
import pytest

from tests.contracts import order_book_fixtures as fixtures
from tests.contracts.brownie_utils import plain
from tests.contracts.order_book_fixtures import BUY, CANCELLED, EXPIRED, FILLED, MIN_WH, OPEN, SELL, cost, fund_trader

book, traders = fixtures.book, fixtures.traders  # module fixtures, shared with the stateful test

P = 450_000  # 0.45 MYR per kWh


def place(book, who, side, price, amount, expiry=0, max_fills=20, hint=0):
    return book.placeOrder(side, price, amount, expiry, max_fills, hint, {"from": who})


def order(book, order_id):
    """order(id) as a dict of plain values."""
    keys = ["id", "owner", "side", "price", "amount", "remaining", "escrow", "expiry", "status"]
    return dict(zip(keys, plain(list(book.order(order_id))), strict=True))


def fills(tx):
    return (
        [
            (int(e["makerId"]), int(e["takerId"]), int(e["price"]), int(e["amount"]), int(e["cost"]))
            for e in tx.events["OrderFilled"]
        ]
        if "OrderFilled" in tx.events
        else []
    )


def chain_now():
    """Latest block time (Brownie's chain.time() drifts from anvil's clock after snapshot reverts)."""
    return brownie.web3.eth.get_block("latest").timestamp


def depth(book, side, levels):
    return [(int(p), int(a)) for p, a in book.depth(side, levels)]


def level_orders(book, side, price, cursor, limit):
    ids, nxt = book.levelOrders(side, price, cursor, limit)
    return [int(i) for i in ids], int(nxt)


def open_orders(book, owner, cursor, limit):
    ids, nxt = book.openOrdersOf(owner, cursor, limit)
    return [int(i) for i in ids], int(nxt)


def balances(token, *who):
    return [token.balanceOf(w) for w in who]


# --------------------------------------------------------------------------- resting orders and escrow
def test_sell_rests_and_escrows_energy(book, traders, energy):
    alice = traders[0]
    before = energy.balanceOf(alice)
    tx = place(book, alice, SELL, P, 1_500)
    oid = tx.return_value
    assert oid == 1 and book.nextOrderId() == 2
    assert energy.balanceOf(alice) == before - 1_500
    assert energy.balanceOf(book) == 1_500
    assert plain(list(tx.events["OrderPlaced"][0].values())) == [1, alice.address, SELL, P, 1_500, 0]
    assert order(book, oid) == {
        "id": 1,
        "owner": alice.address,
        "side": SELL,
        "price": P,
        "amount": 1_500,
        "remaining": 1_500,
        "escrow": 1_500,
        "expiry": 0,
        "status": OPEN,
    }
    assert (book.bestAsk(), book.bestBid()) == (P, 0)


def test_buy_rests_and_escrows_its_cost(book, traders, money):
    bob = traders[1]
    before = money.balanceOf(bob)
    oid = place(book, bob, BUY, 123_457, 999).return_value
    assert money.balanceOf(bob) == before - cost(123_457, 999)
    assert money.balanceOf(book) == cost(123_457, 999) == order(book, oid)["escrow"]
    assert book.bestBid() == 123_457


# --------------------------------------------------------------------------- matching
def test_buy_fills_a_resting_sell_completely(book, traders, energy, money):
    alice, bob = traders[:2]
    sell = place(book, alice, SELL, P, 2_000).return_value
    e0, m0 = balances(energy, alice, bob), balances(money, alice, bob)
    tx = place(book, bob, BUY, P, 2_000)
    buy = tx.return_value
    assert fills(tx) == [(sell, buy, P, 2_000, cost(P, 2_000))]
    ev = tx.events["OrderFilled"][0]
    assert (ev["maker"], ev["taker"], ev["takerSide"]) == (alice, bob, BUY)
    assert balances(energy, alice, bob) == [e0[0], e0[1] + 2_000]
    assert balances(money, alice, bob) == [m0[0] + cost(P, 2_000), m0[1] - cost(P, 2_000)]
    assert order(book, sell)["status"] == FILLED and order(book, sell)["remaining"] == 0
    assert order(book, buy)["status"] == FILLED
    assert (book.bestAsk(), book.bestBid()) == (0, 0)
    assert energy.balanceOf(book) == 0 and money.balanceOf(book) == 0


def test_fill_is_at_the_resting_price(book, traders, money):
    """A buy limit above the ask pays the ask: price improvement goes to the taker."""
    alice, bob = traders[:2]
    place(book, alice, SELL, 400_000, 1_000)
    before = money.balanceOf(bob)
    tx = place(book, bob, BUY, 500_000, 1_000)
    assert fills(tx)[0][2:] == (400_000, 1_000, 400_000)
    assert money.balanceOf(bob) == before - 400_000


def test_partial_fill_leaves_the_maker_resting(book, traders, energy):
    alice, bob = traders[:2]
    sell = place(book, alice, SELL, P, 3_000).return_value
    tx = place(book, bob, BUY, P, 1_000)
    assert fills(tx) == [(sell, tx.return_value, P, 1_000, cost(P, 1_000))]
    o = order(book, sell)
    assert (o["remaining"], o["escrow"], o["status"]) == (2_000, 2_000, OPEN)
    assert depth(book, SELL, 5) == [(P, 2_000)]
    assert energy.balanceOf(book) == 2_000


def test_level_totals_after_complete_partial_expired_and_self_trade_removals(book, traders):
    """The aggregated depth stays the sum of the level's remaining amounts whichever way orders leave it."""
    alice, bob, carol, dave = traders[:4]
    now = chain_now()
    place(book, alice, SELL, P, 1_000)
    place(book, bob, SELL, P, 700, expiry=now + 100)
    place(book, carol, SELL, P, 400)
    place(book, dave, SELL, P, 300)
    place(book, carol, BUY, P, 1_000, max_fills=1)  # alice's order fills completely
    assert depth(book, SELL, 5) == [(P, 1_400)]
    brownie.chain.sleep(200)
    tx = place(book, carol, BUY, P, 100, max_fills=3)  # bob's expired, carol's own cancelled, dave's filled in part
    assert [e.name for e in tx.events if e.name.startswith("Order")] == [
        "OrderPlaced",
        "OrderExpired",
        "OrderCancelled",
        "OrderFilled",
    ]
    assert depth(book, SELL, 5) == [(P, 200)]


def test_partial_fill_rests_the_taker_remainder(book, traders, money):
    alice, bob = traders[:2]
    place(book, alice, SELL, P, 1_000)
    tx = place(book, bob, BUY, P, 2_500)
    buy = tx.return_value
    assert sum(f[3] for f in fills(tx)) == 1_000
    o = order(book, buy)
    assert (o["remaining"], o["escrow"], o["status"]) == (1_500, cost(P, 1_500), OPEN)
    assert (book.bestBid(), book.bestAsk()) == (P, 0)
    assert money.balanceOf(book) == cost(P, 1_500)


def test_price_time_priority(book, traders):
    alice, bob, carol, dave = traders[:4]
    a1 = place(book, alice, SELL, 410_000, 1_000).return_value
    b1 = place(book, bob, SELL, 400_000, 1_000).return_value
    c1 = place(book, carol, SELL, 410_000, 1_000).return_value
    b2 = place(book, bob, SELL, 400_000, 500).return_value
    tx = place(book, dave, BUY, 420_000, 3_200)
    assert [(f[0], f[2], f[3]) for f in fills(tx)] == [
        (b1, 400_000, 1_000),
        (b2, 400_000, 500),
        (a1, 410_000, 1_000),
        (c1, 410_000, 700),
    ]
    assert order(book, c1)["remaining"] == 300
    assert level_orders(book, SELL, 410_000, 0, 10) == ([c1], 0)


def test_sell_taker_sweeps_bids_best_first(book, traders, energy, money):
    alice, bob, carol = traders[:3]
    low = place(book, alice, BUY, 300_000, 1_000).return_value
    high = place(book, bob, BUY, 350_000, 1_000).return_value
    m0 = money.balanceOf(carol)
    e_alice = energy.balanceOf(alice)
    tx = place(book, carol, SELL, 290_000, 1_500)
    assert [(f[0], f[2], f[3]) for f in fills(tx)] == [(high, 350_000, 1_000), (low, 300_000, 500)]
    assert money.balanceOf(carol) == m0 + cost(350_000, 1_000) + cost(300_000, 500)
    assert energy.balanceOf(alice) == e_alice + 500
    assert order(book, low)["escrow"] == cost(300_000, 500)


def test_buy_maker_rounding_dust_is_refunded_on_completion(book, traders, money):
    """Floors per fill can leave escrow above floor(price*remaining/1000); it goes back to the buyer at the end."""
    alice, bob = traders[:2]
    m0 = money.balanceOf(alice)
    buy = place(book, alice, BUY, 1_999, 20).return_value  # escrow floor(39.98) = 39
    place(book, bob, SELL, 1_999, 10)  # pays floor(19.99) = 19, escrow 20 of which 1 dust
    assert order(book, buy)["escrow"] == 20 and order(book, buy)["remaining"] == 10
    assert money.balanceOf(book) == 20
    place(book, bob, SELL, 1_999, 10)
    assert money.balanceOf(book) == 0
    assert money.balanceOf(alice) == m0 - 19 - 19  # paid exactly the two fills' costs


def test_cap_stops_a_sweep_and_cancels_a_crossing_remainder(book, traders, money):
    alice, bob = traders[:2]
    ids = [place(book, alice, SELL, P, 1_000).return_value for _ in range(3)]
    m0 = money.balanceOf(bob)
    tx = place(book, bob, BUY, P, 3_000, max_fills=2)
    assert [f[0] for f in fills(tx)] == ids[:2]
    ev = tx.events["OrderCancelled"][0]
    assert (ev["id"], ev["remaining"], ev["refund"], ev["reason"]) == (tx.return_value, 1_000, 0, 2)  # CapReached
    assert order(book, tx.return_value)["status"] == CANCELLED
    assert money.balanceOf(bob) == m0 - cost(P, 2_000)  # nothing escrowed for the cancelled remainder
    assert book.bestBid() == 0 and book.bestAsk() == P


def test_cap_reached_but_no_longer_crossing_rests(book, traders):
    alice, bob = traders[:2]
    place(book, alice, SELL, P, 1_000)
    place(book, alice, SELL, P + 1, 1_000)
    tx = place(book, bob, BUY, P, 2_000, max_fills=1)
    assert order(book, tx.return_value)["status"] == OPEN
    assert (book.bestBid(), book.bestAsk()) == (P, P + 1)


def test_zero_max_fills_never_matches(book, traders):
    alice, bob = traders[:2]
    place(book, alice, SELL, P, 1_000)
    tx = place(book, bob, BUY, P + 5, 1_000, max_fills=0)
    assert fills(tx) == [] and order(book, tx.return_value)["status"] == CANCELLED
    place(book, bob, BUY, P - 5, 1_000, max_fills=0)  # does not cross: rests
    assert book.bestBid() == P - 5


def test_self_trade_cancels_the_resting_order(book, traders, energy, money):
    alice, bob = traders[:2]
    own = place(book, alice, SELL, P, 1_000).return_value
    other = place(book, bob, SELL, P, 1_000).return_value
    e0, m0 = energy.balanceOf(alice), money.balanceOf(alice)
    tx = place(book, alice, BUY, P, 1_000)
    ev = tx.events["OrderCancelled"][0]
    assert (ev["id"], ev["owner"], ev["refund"], ev["reason"]) == (own, alice, 1_000, 1)  # SelfTrade
    assert [f[0] for f in fills(tx)] == [other]
    assert order(book, own)["status"] == CANCELLED
    assert energy.balanceOf(alice) == e0 + 1_000 + 1_000  # own sell refunded + bought from bob
    assert money.balanceOf(alice) == m0 - cost(P, 1_000)


# --------------------------------------------------------------------------- cancel
def test_owner_cancels_and_gets_the_escrow_back(book, traders, money):
    bob = traders[1]
    m0 = money.balanceOf(bob)
    oid = place(book, bob, BUY, P, 2_000).return_value
    tx = book.cancelOrder(oid, {"from": bob})
    assert plain(list(tx.events["OrderCancelled"][0].values())) == [oid, bob.address, 2_000, cost(P, 2_000), 0]
    assert money.balanceOf(bob) == m0 and money.balanceOf(book) == 0
    assert order(book, oid)["status"] == CANCELLED and book.bestBid() == 0


def test_cancel_from_the_middle_keeps_the_queue(book, traders):
    alice, bob, carol = traders[:3]
    ids = [place(book, who, SELL, P, 1_000).return_value for who in (alice, bob, carol)]
    book.cancelOrder(ids[1], {"from": bob})
    assert level_orders(book, SELL, P, 0, 10) == (ids[::2], 0)
    book.cancelOrder(ids[2], {"from": carol})  # the tail
    assert level_orders(book, SELL, P, 0, 10) == ([ids[0]], 0)
    tail = place(book, bob, SELL, P, 1_000).return_value
    assert level_orders(book, SELL, P, 0, 10) == ([ids[0], tail], 0)
    assert depth(book, SELL, 3) == [(P, 2_000)]


def test_cancel_unlinks_an_emptied_level(book, traders):
    alice = traders[0]
    ids = [place(book, alice, SELL, p, 100).return_value for p in (300, 200, 100)]
    book.cancelOrder(ids[1], {"from": alice})
    assert [p for p, _ in depth(book, SELL, 5)] == [100, 300]
    book.cancelOrder(ids[2], {"from": alice})  # the best level
    assert book.bestAsk() == 300


def test_cancel_someone_elses_order_reverts(book, traders):
    alice, bob = traders[:2]
    oid = place(book, alice, SELL, P, 1_000).return_value
    with brownie.reverts(f"OrderBookNotOwner: {oid}, {bob.address.lower()}"):
        book.cancelOrder(oid, {"from": bob})


def test_cancel_closed_or_unknown_order_reverts(book, traders):
    alice = traders[0]
    oid = place(book, alice, SELL, P, 1_000).return_value
    book.cancelOrder(oid, {"from": alice})
    with brownie.reverts(f"OrderBookOrderNotOpen: {oid}, {CANCELLED}"):
        book.cancelOrder(oid, {"from": alice})
    with brownie.reverts("OrderBookUnknownOrder: 99"):
        book.cancelOrder(99, {"from": alice})
    with brownie.reverts("OrderBookUnknownOrder: 99"):
        book.order(99)


# --------------------------------------------------------------------------- expiry
def test_expired_resting_order_cannot_fill_and_is_refunded(book, traders, energy):
    alice, bob = traders[:2]
    now = chain_now()
    stale = place(book, alice, SELL, P - 10, 1_000, expiry=now + 100).return_value
    fresh = place(book, traders[2], SELL, P, 1_000).return_value
    brownie.chain.sleep(200)
    e0 = energy.balanceOf(alice)
    tx = place(book, bob, BUY, P, 1_000, max_fills=2)
    ev = tx.events["OrderExpired"][0]
    assert (ev["id"], ev["owner"], ev["remaining"], ev["refund"]) == (stale, alice, 1_000, 1_000)
    assert [f[0] for f in fills(tx)] == [fresh]
    assert order(book, stale)["status"] == EXPIRED
    assert energy.balanceOf(alice) == e0 + 1_000


def test_expired_orders_have_a_cap_of_their_own(book, traders):
    alice, bob = traders[:2]
    now = chain_now()
    place(book, alice, SELL, P, 1_000, expiry=now + 100)
    place(book, alice, SELL, P, 1_000, expiry=now + 100)
    place(book, traders[2], SELL, P, 1_000)
    brownie.chain.sleep(200)
    tx = place(book, bob, BUY, P, 1_000, max_fills=1)  # removes one expired order (its own cap of 1), no fill
    assert "OrderExpired" in tx.events and fills(tx) == []
    assert order(book, tx.return_value)["status"] == CANCELLED  # still crossing when the caps were hit
    tx = place(book, bob, BUY, P, 1_000, max_fills=1)  # the second expired order costs the fill nothing
    assert "OrderExpired" in tx.events and len(fills(tx)) == 1


def test_anyone_cleans_expired_orders(book, traders, money, accounts):
    alice, bob = traders[:2]
    now = chain_now()
    m0 = money.balanceOf(alice)
    a = place(book, alice, BUY, P, 1_000, expiry=now + 100).return_value
    b = place(book, alice, BUY, P - 1, 1_000, expiry=now + 10_000).return_value
    c = place(book, bob, BUY, P - 2, 1_000).return_value
    brownie.chain.sleep(200)
    tx = book.cleanExpired([a, b, c, a, 1234], {"from": accounts[9]})
    assert tx.return_value == 1
    assert [int(e["id"]) for e in tx.events["OrderExpired"]] == [a]
    assert order(book, a)["status"] == EXPIRED and order(book, b)["status"] == OPEN
    assert money.balanceOf(alice) == m0 - cost(P - 1, 1_000)
    assert book.bestBid() == P - 1


def test_placing_an_already_expired_order_reverts(book, traders):
    now = chain_now()
    with brownie.reverts(revert_pattern=r"OrderBookExpired: .*"):
        place(book, traders[0], SELL, P, 1_000, expiry=now - 1)


def test_expiry_beyond_storage_reverts(book, traders):
    with brownie.reverts(f"OrderBookExpiryTooLarge: {2**40}, {2**40 - 1}"):
        place(book, traders[0], SELL, P, 1_000, expiry=2**40)


# --------------------------------------------------------------------------- bad input
@pytest.mark.parametrize(
    ("price", "amount", "error"),
    [
        (P, 0, "OrderBookZeroAmount: "),
        (0, 1_000, "OrderBookZeroPrice: "),
        (P, MIN_WH - 1, f"OrderBookAmountBelowMinimum: {MIN_WH - 1}, {MIN_WH}"),
        (P, 2**40, f"OrderBookAmountTooLarge: {2**40}, {2**40 - 1}"),
        (2**40, 1_000, f"OrderBookPriceTooHigh: {2**40}, {2**40 - 1}"),
        (P, 2**128 - 1, f"OrderBookAmountTooLarge: {2**128 - 1}, {2**40 - 1}"),
        (2**128 - 1, 2**128 - 1, f"OrderBookAmountTooLarge: {2**128 - 1}, {2**40 - 1}"),
        (99, 10, "OrderBookZeroCost: 99, 10"),
    ],
)
@pytest.mark.parametrize("side", [BUY, SELL])
def test_bad_order_parameters_revert(book, traders, side, price, amount, error):
    with brownie.reverts(error):
        place(book, traders[0], side, price, amount)


def test_insufficient_balance_reverts(book, accounts, registry, energy, money, operator, oracle, traders):
    poor = accounts[8]
    fund_trader(poor, registry, energy, money, operator, oracle, book, wh=500, units=1_000)
    with brownie.reverts(f"OrderBookInsufficientBalance: {energy.address.lower()}, {poor.address.lower()}, 500, 1000"):
        place(book, poor, SELL, P, 1_000)
    with brownie.reverts(
        f"OrderBookInsufficientBalance: {money.address.lower()}, {poor.address.lower()}, 1000, {cost(P, 1_000)}"
    ):
        place(book, poor, BUY, P, 1_000)


def test_insufficient_allowance_reverts(book, traders, energy, money):
    alice = traders[0]
    energy.approve(book, 999, {"from": alice})
    money.approve(book, 5, {"from": alice})
    with brownie.reverts(
        f"OrderBookInsufficientAllowance: {energy.address.lower()}, {alice.address.lower()}, 999, 1000"
    ):
        place(book, alice, SELL, P, 1_000)
    with brownie.reverts(
        f"OrderBookInsufficientAllowance: {money.address.lower()}, {alice.address.lower()}, 5, {cost(P, 1_000)}"
    ):
        place(book, alice, BUY, P, 1_000)


def test_invalid_side_reverts(book, traders):
    with brownie.reverts():
        book.placeOrder(2, P, 1_000, 0, 1, 0, {"from": traders[0]})


# --------------------------------------------------------------------------- hints and sorted levels
def _levels(book, side):
    return [p for p, _ in depth(book, side, 100)]


def test_levels_stay_sorted_with_any_hint(book, traders):
    alice = traders[0]
    prices = [500, 100, 300, 200, 400, 350, 150]
    for i, p in enumerate(prices):
        place(book, alice, SELL, p * 1000, 100, hint=[0, 500_000, 100_000, 999][i % 4])
        place(book, alice, BUY, p, 100_000, hint=[0, 500, 100, 7][i % 4])
    assert _levels(book, SELL) == sorted(p * 1000 for p in prices)
    assert _levels(book, BUY) == sorted(prices, reverse=True)


def test_stale_hint_walks_towards_the_right_place(book, traders):
    alice = traders[0]
    for p in range(1, 11):
        place(book, alice, SELL, p * 1000, 100, hint=(p - 1) * 1000)
    # Hint worse than the price: walks back towards better prices.
    place(book, alice, SELL, 2_500, 100, hint=9_000)
    # Hint that is not a level (emptied since): falls back to the best level.
    place(book, alice, SELL, 4_500, 100, hint=4_400)
    assert _levels(book, SELL) == sorted([p * 1000 for p in range(1, 11)] + [2_500, 4_500])


def test_an_order_far_from_its_hint_is_placed_by_the_price_index(book, traders, admin):
    """A wall of levels between the hint and the price (here: more than the walk bound) cannot make a placement fail:
    past the walk's bound the book's price index finds the position (issue #15 C)."""
    alice = traders[0]
    for p in range(1, 11):
        place(book, alice, SELL, p * 1000, 100, hint=(p - 1) * 1000)
    book.setMaxHintSteps(3, {"from": admin})
    place(book, alice, SELL, 9_500, 100)  # no hint: 9 levels from the best
    place(book, alice, SELL, 8_500, 100, hint=2_000)  # stale hint, 6 levels off
    place(book, alice, SELL, 7_500, 100, hint=123)  # not a level at all
    place(book, alice, SELL, 1_500, 100, hint=10_000)  # a hint on the wrong side of the price, 9 levels off
    expected = sorted([p * 1000 for p in range(1, 11)] + [9_500, 8_500, 7_500, 1_500])
    assert _levels(book, SELL) == expected
    assert book.findHint(SELL, 9_700) == 9_500 and book.findHint(SELL, 500) == 0 and book.findHint(SELL, 1_000) == 0
    assert book.findHint(BUY, 5_000) == 0  # the other side is empty


@pytest.mark.parametrize("side", [SELL, BUY])
def test_the_worst_placement_the_index_makes_stays_under_the_sdks_gas_bound(book, traders, side):
    """The SDK sends placements with a fixed gas limit (energy_chain.orders.place_gas), a bound and not an estimate:
    the index path at its worst (a full walk first, 11 word reads, 5 fresh index words) must fit in it."""
    from energy_chain.orders import place_gas

    alice = traders[0]
    wall = [1_000 * k for k in range(1, 21)] if side == SELL else [2**39 + 1_000 * k for k in range(1, 21)]
    for p in wall:
        place(book, alice, side, p, MIN_WH, max_fills=0)
    far = 2**39 + 12_345 if side == SELL else 1_000 + 12_345  # worse than the whole wall, in untouched index words
    tx = place(book, alice, side, far, MIN_WH, max_fills=0, hint=0)  # hint 0: walks from the best level, then index
    assert _levels(book, side)[-1] == far
    print(f"worst index placement ({'sell' if side == SELL else 'buy'}): {tx.gas_used} gas, bound {place_gas(0)}")
    assert tx.gas_used < place_gas(0)


def _nearest_better(levels: set[int], side: int, price: int) -> int:
    better = [p for p in levels if (p > price if side == BUY else p < price)]
    return (min(better) if side == BUY else max(better)) if better else 0


@pytest.mark.parametrize("side", [SELL, BUY])
def test_the_price_index_finds_every_position_across_the_whole_price_range(book, traders, admin, side):
    """Levels placed and removed at random prices over 1..2^40-1 (around every word boundary of the index), each with
    a hint that is useless on purpose: the book stays sorted and findHint equals the nearest better level."""
    import random

    rng = random.Random(15 + side)
    alice = traders[0]
    book.setMaxHintSteps(1, {"from": admin})
    edges = [100, 127, 128, 129, 255, 256, 16_383, 16_384, 16_385, 2**21 - 1, 2**21, 2**28, 2**35 - 1, 2**35]
    edges += [2**40 - 2, 2**40 - 1]
    levels: dict[int, int] = {}  # price -> order id
    for step in range(110):
        if levels and rng.random() < 0.35:
            price = rng.choice(sorted(levels))
            book.cancelOrder(levels.pop(price), {"from": alice})
        else:
            price = rng.choice(edges) if rng.random() < 0.5 else rng.randrange(1, 2**40)
            if price < 100:
                price += 100  # 10 Wh below 100 per kWh would cost nothing (OrderBookZeroCost)
            if price in levels:
                continue
            hint = rng.choice([0, rng.randrange(1, 2**40), *(sorted(levels)[:1] or [0])])
            levels[price] = place(book, alice, side, price, MIN_WH, max_fills=0, hint=hint).return_value
        if step % 5 == 0:
            assert _levels(book, side) == sorted(levels, reverse=side == BUY)
            for probe in [*rng.sample(edges, 3), rng.randrange(1, 2**40)]:
                assert book.findHint(side, probe) == _nearest_better(set(levels), side, probe), (probe, sorted(levels))
    assert _levels(book, side) == sorted(levels, reverse=side == BUY)


def test_joining_an_existing_level_ignores_the_hint(book, traders, admin):
    alice = traders[0]
    for p in range(1, 6):
        place(book, alice, SELL, p * 1000, 100, hint=(p - 1) * 1000)
    book.setMaxHintSteps(1, {"from": admin})
    place(book, alice, SELL, 5_000, 100)  # 5 levels from the best, but the level exists
    assert depth(book, SELL, 10)[-1] == (5_000, 200)


# --------------------------------------------------------------------------- views
def test_depth_aggregates_levels_best_first(book, traders):
    alice, bob = traders[:2]
    place(book, alice, BUY, 300_000, 1_000)
    place(book, bob, BUY, 300_000, 500)
    place(book, bob, BUY, 310_000, 200)
    place(book, alice, BUY, 290_000, 50)
    assert depth(book, BUY, 2) == [(310_000, 200), (300_000, 1_500)]
    assert depth(book, BUY, 10) == [(310_000, 200), (300_000, 1_500), (290_000, 50)]
    assert depth(book, SELL, 10) == []


def test_open_orders_of_pages_newest_first(book, traders):
    """maxScan bounds the order ids looked at (every owner's), newest first; the cursor is the next id to look at."""
    alice, bob = traders[:2]
    ids = [place(book, alice, SELL, P + i, 100).return_value for i in range(5)]
    bobs = place(book, bob, SELL, P, 100).return_value
    book.cancelOrder(ids[3], {"from": alice})
    page, cursor = open_orders(book, alice, 0, 3)  # looks at bob's order, ids[4], ids[3] (cancelled)
    assert bobs == ids[4] + 1 and page == [ids[4]] and cursor == ids[2]
    page, cursor = open_orders(book, alice, cursor, 3)
    assert page == [ids[2], ids[1], ids[0]] and cursor == ids[0] - 1
    assert open_orders(book, alice, ids[1], 1) == ([ids[1]], ids[0])
    assert open_orders(book, traders[4], 0, 10) == ([], 0)  # never traded


def test_level_orders_pages(book, traders):
    ids = [place(book, traders[i], SELL, P, 100).return_value for i in range(4)]
    page, cursor = level_orders(book, SELL, P, 0, 3)
    assert page == ids[:3] and cursor == ids[3]
    assert level_orders(book, SELL, P, cursor, 3) == ([ids[3]], 0)


def test_parameters_and_tokens(book, energy, money):
    assert (book.energyToken(), book.settlementToken()) == (energy, money)
    assert (book.minAmount(), book.maxHintSteps(), book.maxFillsCap()) == (MIN_WH, 8, 100)
    assert book.maxPrice() == book.maxAmount() == book.maxExpiry() == 2**40 - 1


# --------------------------------------------------------------------------- admin
def test_admin_sets_parameters(book, admin, traders):
    tx = book.setMinAmount(1_000, {"from": admin})
    assert tx.events["MinAmountSet"][0]["minAmount"] == 1_000
    with brownie.reverts("OrderBookAmountBelowMinimum: 999, 1000"):
        place(book, traders[0], SELL, P, 999)
    assert "MaxHintStepsSet" in book.setMaxHintSteps(10, {"from": admin}).events


@pytest.mark.parametrize(
    ("fn", "value"), [("setMinAmount", 0), ("setMinAmount", 2**40), ("setMaxHintSteps", 0), ("setMaxHintSteps", 10_001)]
)
def test_invalid_parameters_revert(book, admin, fn, value):
    with brownie.reverts(f"OrderBookInvalidParameter: {value}"):
        getattr(book, fn)(value, {"from": admin})


@pytest.mark.parametrize("fn", ["setMinAmount", "setMaxHintSteps"])
def test_only_admin_sets_parameters(book, traders, fn):
    with brownie.reverts(revert_pattern=r"AccessControlUnauthorizedAccount: .*"):
        getattr(book, fn)(5, {"from": traders[0]})


def test_constructor_rejects_zero_addresses(OrderBook, admin, energy, money):
    with brownie.reverts("OrderBookZeroAddress: "):
        OrderBook.deploy(admin, brownie.ZERO_ADDRESS, money, MIN_WH, {"from": admin})
    with brownie.reverts("OrderBookInvalidParameter: 0"):
        OrderBook.deploy(admin, energy, money, 0, {"from": admin})


# --------------------------------------------------------------------------- reentrancy
REENTRANT_TOKEN = """
// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

interface IBook {
    function placeOrder(uint8, uint128, uint128, uint64, uint256, uint128) external returns (uint256);
    function cancelOrder(uint256) external;
}

/// A token that calls back into the book from transferFrom / transfer, as a hostile token could.
contract ReentrantToken {
    mapping(address => uint256) public balanceOf;
    mapping(address => mapping(address => uint256)) public allowance;
    IBook public book;
    uint256 public attackOrder; // 0: re-enter placeOrder, else cancel this order

    function mint(address to, uint256 amount) external { balanceOf[to] += amount; }
    function approve(address spender, uint256 amount) external returns (bool) {
        allowance[msg.sender][spender] = amount;
        return true;
    }
    function arm(IBook b, uint256 orderId) external { book = b; attackOrder = orderId; }

    function _attack() private {
        if (address(book) == address(0)) return;
        IBook b = book;
        book = IBook(address(0));
        if (attackOrder == 0) b.placeOrder(1, 1000, 1000, 0, 10, 0);
        else b.cancelOrder(attackOrder);
    }
    function transfer(address to, uint256 amount) external returns (bool) {
        _attack();
        balanceOf[msg.sender] -= amount;
        balanceOf[to] += amount;
        return true;
    }
    function transferFrom(address from, address to, uint256 amount) external returns (bool) {
        _attack();
        allowance[from][msg.sender] -= amount;
        balanceOf[from] -= amount;
        balanceOf[to] += amount;
        return true;
    }
}
"""


@pytest.fixture(scope="module")
def hostile(OrderBook, money, admin, alice):
    token = brownie.compile_source(REENTRANT_TOKEN, evm_version="berlin").ReentrantToken.deploy({"from": admin})
    hostile_book = OrderBook.deploy(admin, token, money, MIN_WH, {"from": admin})
    token.mint(alice, 10_000, {"from": admin})
    token.approve(hostile_book, 2**256 - 1, {"from": alice})
    return token, hostile_book


def test_reentering_place_from_a_token_callback_fails(hostile, alice):
    token, hostile_book = hostile
    token.arm(hostile_book, 0, {"from": alice})
    with brownie.reverts(revert_pattern=r"OrderBookTransferFailed: .*"):  # the guard's revert, seen by the book
        hostile_book.placeOrder(SELL, 1_000, 1_000, 0, 10, 0, {"from": alice})
    assert hostile_book.nextOrderId() == 1 and token.balanceOf(hostile_book) == 0


def test_reentering_cancel_from_a_token_callback_fails(hostile, alice):
    token, hostile_book = hostile
    oid = hostile_book.placeOrder(SELL, 1_000, 1_000, 0, 10, 0, {"from": alice}).return_value
    token.arm(hostile_book, oid, {"from": alice})
    # cancelOrder refunds with transfer(); the token re-enters cancelOrder for the same order: blocked by the guard.
    with brownie.reverts(revert_pattern=r"ReentrancyGuardReentrantCall: .*"):
        hostile_book.cancelOrder(oid, {"from": alice})
    assert order(hostile_book, oid)["status"] == OPEN and token.balanceOf(hostile_book) == 1_000
