"""The pure-Python reference clearing (energy_chain.clearing) on hand-worked books, and the hint search."""

from __future__ import annotations

from energy_chain.auction import BookEntry, commitment_hash, hint_for
from energy_chain.clearing import (
    Order,
    Side,
    Tariffs,
    band,
    book_side,
    clear,
    cost_rounded_down,
    cost_rounded_up,
    curves,
    settle,
)

T = Tariffs(retail=500_000, feed_in=200_000)
BID, ASK = Side.BID, Side.ASK


def test_worked_example_price_volume_rationing_grid() -> None:
    orders = [
        Order(1, BID, 450_000, 3_000),
        Order(2, BID, 300_000, 2_000),
        Order(3, ASK, 250_000, 1_000),
        Order(4, ASK, 400_000, 5_000),
    ]
    r = clear(orders, T)
    assert (r.price, r.volume_wh, r.marginal_bid, r.marginal_ask) == (425_000, 3_000, 1, 4)
    assert r.fills == {1: 3_000, 2: 0, 3: 1_000, 4: 2_000}
    assert (r.imported_wh, r.exported_wh, r.steps) == (2_000, 3_000, 4)  # 2 steps each: volume pass, price walk


def test_price_comes_from_the_band_edge_not_the_last_sliver() -> None:
    fair = [Order(1, BID, 500_000, 500), Order(2, BID, 450_000, 500), Order(3, ASK, 200_000, 1_000)]
    assert clear(fair, T).price == 325_000
    slivers = [Order(4, BID, 450_000, 1), Order(5, ASK, 450_000, 1)]  # the old rule priced the last pair: 450 000
    r = clear(fair + slivers, T)
    assert (r.price, r.volume_wh, r.fills[4], r.fills[5]) == (325_000, 1_000, 0, 0)
    assert band(1_000) == 100 and band(9) == 1


def test_no_crossing_one_side_empty_and_empty_book() -> None:
    assert clear([Order(1, BID, 300_000, 5), Order(2, ASK, 300_001, 5)], T).volume_wh == 0
    r = clear([Order(1, ASK, 300_000, 5)], T)
    assert (r.price, r.volume_wh, r.exported_wh, r.imported_wh) == (0, 0, 5, 0)
    r = clear([], T)
    assert (r.price, r.volume_wh, r.fills) == (0, 0, {})


def test_equal_prices_ration_by_time_priority() -> None:
    orders = [Order(1, BID, 350_000, 3), Order(2, BID, 350_000, 3), Order(3, ASK, 350_000, 4)]
    r = clear(orders, T)
    assert r.fills == {1: 3, 2: 1, 3: 4}
    assert (r.price, r.marginal_bid) == (350_000, 2)


def test_grid_band_clamps_and_price_stays_in_band() -> None:
    r = clear([Order(1, BID, 9_000_000, 10), Order(2, ASK, 0, 10)], T)
    assert r.price == (500_000 + 200_000) // 2 and r.volume_wh == 10


def test_midpoint_rounds_down_and_settlement_rounds_buyers_up() -> None:
    orders = [Order(1, BID, 300_001, 3), Order(2, ASK, 300_000, 3)]
    r = clear(orders, T)
    assert r.price == 300_000
    bid, ask = settle(orders[0], r, T), settle(orders[1], r, T)
    assert (bid.fill_wh, bid.money, bid.money_refund) == (3, 900, cost_rounded_up(300_001, 3) - 900)
    assert (ask.money, ask.energy_refund, ask.grid_wh) == (900, 0, 0)
    assert cost_rounded_up(333_333, 7) == 2_334 and cost_rounded_down(333_333, 7) == 2_333


def test_curves_are_cumulative_steps() -> None:
    c = curves([Order(1, BID, 300_000, 5), Order(2, BID, 400_000, 2), Order(3, ASK, 100_000, 4)], T)
    assert c["demand"] == [(0, 400_000), (2, 400_000), (2, 300_000), (7, 300_000)]
    assert c["supply"] == [(0, 200_000), (4, 200_000)]


def test_hint_for_finds_predecessor_with_time_priority() -> None:
    book = [BookEntry(1, 400_000, 1), BookEntry(3, 300_000, 1), BookEntry(5, 300_000, 1)]
    assert hint_for(book, BID, 500_000) == 0
    assert hint_for(book, BID, 300_000) == 5  # equal price: after every order booked before it
    assert hint_for(book, BID, 350_000) == 1
    assert hint_for(book, BID, 200_000) == 5
    asks = [BookEntry(2, 200_000, 1), BookEntry(8, 250_000, 1), BookEntry(4, 250_000, 1)]  # sealed: 4 revealed last
    assert hint_for(asks, ASK, 250_000) == 4 and hint_for(asks, ASK, 199_999) == 0 and hint_for(asks, ASK, 220_000) == 2
    assert hint_for([], ASK, 1) == 0


def test_sealed_equal_prices_go_by_reveal_order_not_commitment_id() -> None:
    # Commitments 1, 2, 3 at one price, revealed 3, 1, 2: the reveal order is the time priority.
    orders = [
        Order(1, BID, 350_000, 3, booked=2),
        Order(2, BID, 350_000, 3, booked=3),
        Order(3, BID, 350_000, 3, booked=1),
        Order(4, ASK, 350_000, 4, booked=1),
    ]
    r = clear(orders, T)
    assert r.fills == {1: 1, 2: 0, 3: 3, 4: 4}
    assert (r.price, r.marginal_bid) == (350_000, 1)
    assert [o.id for o in book_side(orders, BID, T)] == [3, 1, 2]
    assert Order(9, BID, 1, 1).rank == 9 and Order(9, BID, 1, 1, booked=2).rank == 2  # open rounds: the id


def test_commitment_hash_is_deterministic_and_binds_every_field() -> None:
    owner = "0x" + "ab" * 20
    base = commitment_hash(BID, 1, 2, b"\x01" * 32, owner)
    assert base == commitment_hash(BID, 1, 2, b"\x01" * 32, owner)
    assert (
        len(
            {
                base,
                commitment_hash(ASK, 1, 2, b"\x01" * 32, owner),
                commitment_hash(BID, 2, 2, b"\x01" * 32, owner),
                commitment_hash(BID, 1, 3, b"\x01" * 32, owner),
                commitment_hash(BID, 1, 2, b"\x02" * 32, owner),
                commitment_hash(BID, 1, 2, b"\x01" * 32, "0x" + "cd" * 20),
            }
        )
        == 6
    )
