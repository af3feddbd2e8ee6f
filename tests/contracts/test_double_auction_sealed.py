"""DoubleAuction in sealed mode (commit-reveal): hashes, deposits, reveal window, unrevealed commitments, errors."""

import brownie
import pytest

from energy_chain.auction import commitment_hash
from energy_chain.clearing import Side
from tests.contracts import auction_fixtures as fx
from tests.contracts.auction_fixtures import (
    ASK,
    BID,
    CLAIMED,
    COMMITTED,
    ENDED,
    INTERVAL,
    OPEN,
    REVEAL,
    REVEAL_PHASE,
    cost_up,
    end_round,
    new_round,
    order_id,
    submit,
    to_reveal,
)
from tests.contracts.brownie_utils import plain

auction, traders = fx.auction, fx.traders
SALT = "0x" + "5a" * 32


@pytest.fixture
def rid(auction, admin):
    auction.setSchedule(INTERVAL, REVEAL, True, {"from": admin})
    return new_round(auction)


def digest(auction, who, side, price, amount, salt=SALT):
    return auction.commitmentHash(side, price, amount, salt, who)


def commit(auction, who, side, price, amount, rid, money=None, energy=0, salt=SALT):
    money = cost_up(price, amount) if money is None and side == BID else (money or 0)
    energy = amount if side == ASK and not energy else energy
    return order_id(
        auction.commitOrder(rid, digest(auction, who, side, price, amount, salt), money, energy, {"from": who})
    )


def test_commitment_hash_matches_python_client(auction, traders):
    alice = traders[0]
    on_chain = auction.commitmentHash(ASK, 123_456, 789, SALT, alice)
    assert (
        str(on_chain) == "0x" + commitment_hash(Side.ASK, 123_456, 789, bytes.fromhex("5a" * 32), alice.address).hex()
    )


def test_sealed_round_full_cycle(auction, traders, rid, stranger, energy, money):
    alice, bob, carol = traders[:3]
    e0, m0 = energy.balanceOf(alice), money.balanceOf(alice)
    deposit = cost_up(450_000, 3_000) + 7_777  # over-deposit, and some energy too, to hide side and size
    tx = auction.commitOrder(rid, digest(auction, alice, BID, 450_000, 3_000), deposit, 500, {"from": alice})
    a = order_id(tx)
    assert tx.events["RoundOpened"]["sealedBids"] is True
    assert tx.events["RoundOpened"]["revealEnd"] == rid + INTERVAL + REVEAL
    assert plain(list(tx.events["OrderCommitted"].values()))[3:] == [
        str(digest(auction, alice, BID, 450_000, 3_000)),
        deposit,
        500,
    ]
    b = commit(auction, bob, BID, 400_000, 1_000, rid)  # never revealed
    c = commit(auction, carol, ASK, 250_000, 1_000, rid)
    assert auction.getOrder(a)[3] == COMMITTED and auction.getRound(rid)[7] == 0  # nothing in the book yet

    with brownie.reverts(f"DoubleAuctionWrongPhase: {rid}, {OPEN}"):
        auction.revealOrder(a, BID, 450_000, 3_000, SALT, 0, {"from": alice})
    to_reveal(auction, rid)
    assert auction.phaseOf(rid) == REVEAL_PHASE
    with brownie.reverts(f"DoubleAuctionWrongPhase: {rid}, {REVEAL_PHASE}"):
        commit(auction, bob, BID, 1, 1, rid)
    with brownie.reverts(f"DoubleAuctionWindowNotOver: {rid}, {rid + INTERVAL + REVEAL}"):
        auction.closeRound(rid, {"from": stranger})
    tx = auction.revealOrder(a, BID, 450_000, 3_000, SALT, 0, {"from": alice})
    assert plain(list(tx.events["OrderBooked"].values())) == [rid, a, str(alice), BID, 450_000, 450_000, 3_000]
    auction.revealOrder(c, ASK, 250_000, 1_000, SALT, 0, {"from": carol})

    end_round(auction, rid)
    with brownie.reverts(f"DoubleAuctionWrongPhase: {rid}, {ENDED}"):
        auction.revealOrder(b, BID, 400_000, 1_000, SALT, 0, {"from": bob})
    auction.closeRound(rid, {"from": stranger})
    tx = auction.clearRound(rid, 10, {"from": stranger})
    assert plain(list(tx.events["RoundCleared"].values())) == [rid, 350_000, 1_000, a, c]

    tx = auction.claim(b, {"from": stranger})  # unrevealed: no fill, 10 % of the deposit forfeited to the operator
    held = cost_up(400_000, 1_000)
    kept = held * 10 // 100
    assert plain(list(tx.events["CommitmentRefunded"].values())) == [rid, b, str(bob), held - kept, 0]
    assert plain(list(tx.events["CommitmentForfeited"].values())) == [rid, b, str(bob), kept, 0]
    assert [t["value"] for t in tx.events["Transfer"] if t["to"] == auction.forfeitRecipient()] == [kept]
    assert auction.getOrder(b)[3] == CLAIMED
    auction.claimMany([a, c], {"from": stranger})
    assert energy.balanceOf(alice) - e0 == 1_000  # the fill; the 500 Wh deposit came back
    assert m0 - money.balanceOf(alice) == cost_up(350_000, 1_000)
    assert energy.balanceOf(auction) == 0 and money.balanceOf(auction) == 0


def test_reveal_without_commit_reverts(auction, traders, rid):
    alice = traders[0]
    with brownie.reverts("DoubleAuctionNotCommitted: 42"):
        auction.revealOrder(42, BID, 1, 1, SALT, 0, {"from": alice})
    a = commit(auction, alice, BID, 300_000, 10, rid)
    to_reveal(auction, rid)
    auction.revealOrder(a, BID, 300_000, 10, SALT, 0, {"from": alice})
    with brownie.reverts(f"DoubleAuctionNotCommitted: {a}"):  # revealed once already
        auction.revealOrder(a, BID, 300_000, 10, SALT, 0, {"from": alice})


def test_reveal_checks_owner_hash_and_deposit(auction, traders, rid):
    alice, bob = traders[:2]
    a = commit(auction, alice, BID, 300_000, 10, rid)
    short = commit(auction, bob, BID, 300_000, 10, rid, money=cost_up(300_000, 10) - 1)
    to_reveal(auction, rid)
    with brownie.reverts(f"DoubleAuctionNotOwner: {a}, {bob.address.lower()}"):
        auction.revealOrder(a, BID, 300_000, 10, SALT, 0, {"from": bob})
    with brownie.reverts(f"DoubleAuctionCommitmentMismatch: {a}"):
        auction.revealOrder(a, BID, 300_001, 10, SALT, 0, {"from": alice})
    with brownie.reverts(f"DoubleAuctionCommitmentMismatch: {a}"):
        auction.revealOrder(a, ASK, 300_000, 10, SALT, 0, {"from": alice})
    with brownie.reverts(f"DoubleAuctionDepositTooSmall: {short}, {cost_up(300_000, 10)}, {cost_up(300_000, 10) - 1}"):
        auction.revealOrder(short, BID, 300_000, 10, SALT, 0, {"from": bob})


def test_empty_commitments_and_open_orders_revert_in_sealed_round(auction, traders, rid):
    alice = traders[0]
    with brownie.reverts("DoubleAuctionEmptyCommitment: "):
        auction.commitOrder(rid, "0x" + "00" * 32, 1_000, 0, {"from": alice})
    with brownie.reverts("DoubleAuctionEmptyCommitment: "):
        auction.commitOrder(rid, "0x" + "11" * 32, 0, 0, {"from": alice})
    with brownie.reverts(f"DoubleAuctionWrongMode: {rid}, True"):
        submit(auction, alice, BID, 300_000, 10, rid)


def test_equal_prices_rank_by_reveal_order_not_commitment(auction, traders, rid, stranger):
    """Commitments 1, 2, 3 at one price revealed 3, 1, 2 (stale, zero and nonsense hints): each reveal joins the
    tail of its price group, and settlement rations by that order (a late reveal costs priority)."""
    alice, bob, dave, carol = traders[0], traders[1], traders[3], traders[2]
    first = commit(auction, alice, BID, 300_000, 10, rid)
    second = commit(auction, bob, BID, 300_000, 10, rid)
    third = commit(auction, dave, BID, 300_000, 10, rid)
    ask = commit(auction, carol, ASK, 300_000, 15, rid)
    to_reveal(auction, rid)
    auction.revealOrder(third, BID, 300_000, 10, SALT, 0, {"from": dave})
    auction.revealOrder(first, BID, 300_000, 10, SALT, 999, {"from": alice})  # nonsense hint
    auction.revealOrder(second, BID, 300_000, 10, SALT, third, {"from": bob})  # stale hint
    auction.revealOrder(ask, ASK, 300_000, 15, SALT, first, {"from": carol})  # hint of the other side
    assert plain(list(auction.bookPage(rid, BID, 0, 10)[0])) == [third, first, second]
    assert [auction.getOrder(i)["bookSeq"] for i in (third, first, second, ask)] == [1, 2, 3, 1]
    end_round(auction, rid)
    auction.closeRound(rid, {"from": stranger})
    auction.clearRound(rid, 10, {"from": stranger})
    assert auction.getRound(rid)["marginalBid"] == first
    fills = [auction.settlementOf(i)[0] for i in (third, first, second, ask)]
    assert fills == [10, 5, 0, 15]
