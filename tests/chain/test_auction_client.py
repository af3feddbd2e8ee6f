"""energy_chain.auction.AuctionClient end to end: hints from the live book, bounded clearing, claims, sealed rounds,
decoded errors."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from energy_chain.clearing import Side
from energy_chain.client import TxFailed
from energy_chain.devchain import dev_signer
from tests.chain.auction_harness import AuctionChain, start_auction_chain


@pytest.fixture(scope="module")
def chain() -> Iterator[AuctionChain]:
    c = start_auction_chain(traders=4)
    yield c
    c.stop()


def test_open_round_through_the_client(chain: AuctionChain) -> None:
    auction, (alice, bob, carol, dave) = chain.auction, chain.traders
    rid = chain.start_new_round()
    assert auction.current_round_id() == rid
    b1 = auction.submit(alice, Side.BID, 300_000, 2_000)
    b2 = auction.submit(bob, Side.BID, 450_000, 1_000)  # goes before b1: the client's hint is 0 (head)
    b3 = auction.submit(alice, Side.BID, 300_000, 500)  # equal price: after b1
    a1 = auction.submit(carol, Side.ASK, 250_000, 2_500)
    assert [e.id for e in auction.book(rid, Side.BID)] == [b2, b1, b3]
    assert auction.phase(rid) == 1  # Open
    with pytest.raises(TxFailed) as err:
        auction.close(dave, rid)
    assert err.value.error_name == "DoubleAuctionWindowNotOver"

    chain.end_round(rid)
    auction.close(dave, rid)
    assert auction.clear(dave, rid, max_steps=1) == 4  # two matches in each walk (volume, price), one per transaction
    assert auction.round(rid)["clearingPrice"] == (300_000 + 250_000) // 2
    assert auction.settlement_of(b3)[0] == 0 and auction.settlement_of(b1)[0] == 1_500
    auction.claim(alice, b1)
    auction.claim_many(dave, [b2, b3, a1])
    with pytest.raises(TxFailed) as err:
        auction.claim(alice, b1)
    assert err.value.error_name == "DoubleAuctionAlreadyClaimed"


def test_sealed_round_through_the_client(chain: AuctionChain) -> None:
    auction, (alice, bob, carol, dave) = chain.auction, chain.traders
    auction._send(auction.contract.functions.setSchedule(chain.interval, 600, True), dev_signer(0), 100_000)
    try:
        rid = chain.start_new_round()
        salt = b"\x07" * 32
        bid = auction.commit(alice, Side.BID, 400_000, 1_000, salt, money_deposit=400_000, energy_deposit=0)
        ask = auction.commit(carol, Side.ASK, 300_000, 800, salt, money_deposit=0, energy_deposit=800)
        ghost = auction.commit(bob, Side.BID, 500_000, 10, salt, money_deposit=5_000, energy_deposit=0)
        chain.set_time(rid + chain.interval)  # reveal window
        auction.reveal(alice, bid, Side.BID, 400_000, 1_000, salt)
        auction.reveal(carol, ask, Side.ASK, 300_000, 800, salt)
        chain.end_round(rid, reveal_seconds=600)
        auction.close(dave, rid)
        auction.clear(dave, rid)
        assert auction.settlement_of(bid)[:2] == (800, 280_000)
        assert auction.settlement_of(ghost) == (0, 0, 4_500, 0, 0)  # unrevealed: no fill, 10 % of the deposit forfeited
    finally:
        auction._send(auction.contract.functions.setSchedule(chain.interval, 600, False), dev_signer(0), 100_000)


def test_a_spam_wall_mined_in_the_same_block_ahead_of_honest_orders_cannot_fail_them(chain: AuctionChain) -> None:
    """Issue 15 item C: the honest orders' hints are read from the live book, then a spammer's 130 bids at distinct
    prices between hint and price and a same-price group of 70 land in the SAME block, ahead of them. Each honest
    order (stale hint, hint 0, a nonsense hint) is booked at its exact place; the old 64-step walk reverted."""
    auction, (alice, bob, spammer, carol) = chain.auction, chain.traders
    client, fns = chain.client, chain.contract.functions
    rid = chain.start_new_round()
    top = auction.submit(alice, Side.BID, 400_000, 10)
    ask = auction.submit(carol, Side.ASK, 300_000, 10)
    stale = auction.hint(rid, Side.BID, 300_000)  # read before the spam: `top`
    assert stale == top
    first = int(fns.nextOrderId().call())
    calls = [(fns.submitOrder(rid, 0, 399_000 - 700 * i, 10, first + i - 1 if i else top), spammer, 300_000)
             for i in range(130)]  # fmt: skip
    calls += [(fns.submitOrder(rid, 0, 300_000, 10, first + 129 + i), spammer, 300_000) for i in range(70)]
    honest = [(fns.submitOrder(rid, 0, 300_000, 10, h), bob, 500_000) for h in (stale, 0, ask, 10**9)]
    chain.rpc("evm_setAutomine", False)
    try:
        hashes = [client.send_raw(signer.sign(client.build_tx(fn, signer, gas))) for fn, signer, gas in calls + honest]
        chain.rpc("evm_mine")
    finally:
        chain.rpc("evm_setAutomine", True)
    receipts = client.wait_for_receipts(hashes)
    mined = [receipts[h] for h in hashes]
    assert len({r["blockNumber"] for r in mined}) == 1  # one block
    assert all(int(r["status"], 16) == 1 for r in mined)
    spam_last = max(int(r["transactionIndex"], 16) for r in mined[: len(calls)])
    assert all(int(r["transactionIndex"], 16) > spam_last for r in mined[len(calls) :])  # the wall came first
    ids = [e.id for e in auction.book(rid, Side.BID)]
    honest_ids = ids[-4:]
    assert honest_ids == list(range(first + 200, first + 204))  # the tail of the 300 000 group, in booking order
    assert ids == [top, *range(first, first + 130), *range(first + 130, first + 200), *honest_ids]
