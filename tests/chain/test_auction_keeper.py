"""Security B: the keeper clears a round of 1 000 bids and 1 000 asks of 1 kWh each (every clearing step exhausts both
orders: the costliest step) with its default step size, within budgets taken from these measured worst cases; and a
step size whose gas budget is too small shrinks and retries instead of leaving the round's escrow locked."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from web3.logs import DISCARD

from energy_chain.auction import CLEAR_STEPS, GAS_CLEAR_BASE, GAS_CLEAR_STEP, BookEntry, hint_for
from energy_chain.clearing import Side
from tests.chain.auction_harness import AuctionChain, start_auction_chain

N = 1_000
KWH = 1_000


@pytest.fixture(scope="module")
def chain() -> Iterator[AuctionChain]:
    c = start_auction_chain(min_amount=KWH)  # the minimum allows 1 kWh orders
    yield c
    c.stop()


def _kwh_round(chain: AuctionChain, n: int = N) -> int:
    """`n` bids at 450 000 and `n` asks at 250 000, 1 kWh each; exact tail hints (equal prices: append)."""
    round_id = chain.start_new_round()
    first = chain.contract.functions.nextOrderId().call()
    books: dict[Side, list[BookEntry]] = {Side.BUY: [], Side.SELL: []}
    orders = []
    for k in range(2 * n):
        side = Side.BUY if k % 2 == 0 else Side.SELL
        price = 450_000 if side == Side.BUY else 250_000
        hint = hint_for(books[side], side, price)
        books[side].append(BookEntry(first + k, price, KWH))
        orders.append((k % 10, int(side), price, KWH, hint))  # even traders buy, odd ones sell: no self-trade
    assert all(r["status"] == 1 for r in chain.send_batch(chain.submit_calls(round_id, orders)))
    chain.end_round(round_id)
    return round_id


@pytest.mark.slow
def test_default_budget_clears_the_costliest_book(chain: AuctionChain) -> None:
    round_id = _kwh_round(chain)
    fns = chain.contract.functions
    chain.send_one(fns.closeRound(round_id), chain.keeper, 100_000)
    budget = GAS_CLEAR_BASE + GAS_CLEAR_STEP * CLEAR_STEPS
    used = []
    for _ in range(4):
        receipt = chain.send_one(fns.clearRound(round_id, CLEAR_STEPS), chain.keeper, budget)  # raises on failure
        used.append(int(receipt["gasUsed"]))
        if chain.contract.events.RoundCleared().process_receipt(receipt, errors=DISCARD):
            break
    assert len(used) == 2  # 1 000 steps for the volume pass, 1 000 for the price walk
    per_step = max(used) / CLEAR_STEPS
    print(f"clearRound, 1 kWh x 1 000 per side: {used} gas, {per_step:.0f} per step (budget {GAS_CLEAR_STEP})")
    assert max(used) <= budget
    assert per_step > 10_000  # the old budget of 200 000 + 10 000 a step ran out of gas here
    assert chain.auction.round(round_id)["volumeWh"] == N * KWH


def test_keeper_shrinks_a_failed_step_size_and_retries(chain: AuctionChain) -> None:
    n = 200
    round_id = _kwh_round(chain, n)
    chain.send_one(chain.contract.functions.closeRound(round_id), chain.keeper, 100_000)
    # 1 000 gas a step is far too little: 1 000 steps fail, and so do 500, 250, ... until a step size fits.
    sent = chain.auction.clear(chain.keeper, round_id, max_steps=CLEAR_STEPS, gas_per_step=1_000)
    assert chain.auction.round(round_id)["volumeWh"] == n * KWH
    assert chain.auction.phase(round_id) == 6  # Cleared
    assert sent >= 10  # six failures (1 000 .. 31 steps), then steps of 15 or fewer
