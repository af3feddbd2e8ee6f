"""TradingMandate and the venues' "for owner" entry points: every bound holds against a compromised agent.

The agent (accounts[8]) holds no key of the owner; the owner (alice) approved the venues as for her own trading.
"""

from __future__ import annotations

import brownie
import pytest
from eth_account import Account
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from energy_chain.devchain import dev_key
from energy_chain.mandate import MandateTerms, mandate_typed_data
from tests.contracts.brownie_utils import plain
from tests.contracts.order_book_fixtures import MAX_UINT, MIN_WH, cost, fund_trader

BUY, SELL = 0, 1
OPEN, CANCELLED = 1, 3
BOOK_VENUE, AUCTION_VENUE, DIRECT_VENUE = 1, 2, 4
RETAIL, FEED_IN = 500_000, 200_000
DAY, OFFSET = 86_400, 8 * 3600
P = 400_000  # 0.40 MYR per kWh
U128 = 2**128 - 1
FUND_WH = 10_000_000
TX = {"gas_price": 0}


def now() -> int:
    return int(brownie.web3.eth.get_block("latest")["timestamp"])


def mine_at(timestamp: int) -> None:
    brownie.web3.provider.make_request("evm_setNextBlockTimestamp", [timestamp])
    brownie.web3.provider.make_request("evm_mine", [])


def terms(agent, min_sell=0, max_buy=U128, reserve=0, cap=U128, venues=7, weights=(1, 1, 1, 1, 1, 1), until=0):
    return (agent.address if hasattr(agent, "address") else agent, min_sell, max_buy, reserve, cap, venues,
            list(weights), until)  # fmt: skip


def reverts(name: str, args: str = ".*"):
    return brownie.reverts(revert_pattern=rf"{name}: {args}")


@pytest.fixture(scope="module")
def agent(accounts):
    return accounts[8]


@pytest.fixture(scope="module")
def book(OrderBook, energy, money, admin):
    return OrderBook.deploy(admin, energy, money, MIN_WH, {"from": admin, **TX})


@pytest.fixture(scope="module")
def auction(DoubleAuction, energy, money, admin, operator):
    return DoubleAuction.deploy(admin, operator, energy, money, RETAIL, FEED_IN, {"from": admin, **TX})


@pytest.fixture(scope="module")
def mandate(TradingMandate, book, auction, energy, admin):
    m = TradingMandate.deploy(
        admin, energy, OFFSET, [book, auction], [BOOK_VENUE, AUCTION_VENUE], {"from": admin, **TX}
    )
    book.setMandate(m, {"from": admin})
    auction.setMandate(m, {"from": admin})
    return m


@pytest.fixture(scope="module")
def owners(accounts, book, auction, registry, energy, money, operator, oracle, mandate):
    """alice, bob, carol (accounts 3..5): funded, approving both venues."""
    group = [accounts[i] for i in range(3, 6)]
    for a in group:
        fund_trader(a, registry, energy, money, operator, oracle, book, wh=FUND_WH)
        energy.approve(auction, MAX_UINT, {"from": a})
        money.approve(auction, MAX_UINT, {"from": a})
    return group


def balances(energy, money, who) -> tuple[int, int]:
    return int(energy.balanceOf(who)), int(money.balanceOf(who))


# ------------------------------------------------------------------ grant, revoke, views
def test_grant_stores_terms_lists_the_owner_and_emits(mandate, owners, agent):
    alice = owners[0]
    t = terms(
        agent, min_sell=1, max_buy=P, reserve=5, cap=10**9, venues=3, weights=(9, 8, 7, 6, 5, 4), until=now() + 999
    )
    tx = mandate.grant(t, {"from": alice})
    assert plain(mandate.termsOf(alice)) == plain(list(t))
    assert mandate.isLive(alice) and mandate.ownerCount(agent) == 1
    assert list(mandate.ownersOf(agent, 0, 10)) == [alice]
    event = tx.events["MandateGranted"]
    assert event["owner"] == alice and event["agent"] == agent
    # a second grant to the same agent replaces the terms, keeps one list entry
    mandate.grant(terms(agent, max_buy=P + 1), {"from": alice})
    assert mandate.termsOf(alice)[2] == P + 1 and mandate.ownerCount(agent) == 1


def test_grant_to_another_agent_moves_the_owner(mandate, owners, agent, stranger):
    alice, bob = owners[0], owners[1]
    mandate.grant(terms(agent), {"from": alice})
    mandate.grant(terms(agent), {"from": bob})
    tx = mandate.grant(terms(stranger), {"from": alice})
    assert tx.events["MandateRevoked"]["agent"] == agent
    assert list(mandate.ownersOf(agent, 0, 10)) == [bob]
    assert list(mandate.ownersOf(stranger, 0, 10)) == [alice]
    assert list(mandate.ownersOf(agent, 5, 10)) == []


def test_invalid_terms_are_refused(mandate, owners, agent):
    alice = owners[0]
    zero = "0x" + "00" * 20
    with reverts("MandateInvalidAgent", zero):
        mandate.grant(terms(zero), {"from": alice})
    with reverts("MandateInvalidAgent"):
        mandate.grant(terms(alice), {"from": alice})
    for venues in (0, 8):
        with reverts("MandateInvalidVenues", str(venues)):
            mandate.grant(terms(agent, venues=venues), {"from": alice})
    with reverts("MandateInvalidValidity"):
        mandate.grant(terms(agent, until=now() - 1), {"from": alice})


def test_revoke_without_mandate_and_admin_only_setters(mandate, book, auction, owners, stranger):
    with reverts("MandateMissing", owners[0].address.lower()):
        mandate.revoke({"from": owners[0]})
    for call in (
        lambda: mandate.setVenue(stranger, 1, {"from": stranger}),
        lambda: book.setMandate(stranger, {"from": stranger}),
        lambda: auction.setMandate(stranger, {"from": stranger}),
    ):
        with reverts("AccessControlUnauthorizedAccount"):
            call()


def test_set_venue_checks_its_bit(mandate, admin, stranger):
    with reverts("MandateInvalidParameter", ""):
        mandate.setVenue(stranger, 3, {"from": admin})
    tx = mandate.setVenue(stranger, 4, {"from": admin})
    assert mandate.venueOf(stranger) == 4 and tx.events["VenueSet"]["bit"] == 4


def test_only_registered_venues_authorize(mandate, owners, agent, stranger, admin):
    mandate.grant(terms(agent), {"from": owners[0]})
    with reverts("MandateNotVenue"):
        mandate.authorize(owners[0], agent, BOOK_VENUE, BUY, P, 1000, 1, {"from": agent})
    mandate.setVenue(stranger, DIRECT_VENUE, {"from": admin})
    with reverts("MandateNotVenue"):  # a venue cannot claim another venue's bit
        mandate.authorize(owners[0], agent, BOOK_VENUE, BUY, P, 1000, 1, {"from": stranger})


def test_a_venues_mandate_is_set_once(book, auction, mandate, admin, stranger):
    for venue in (book, auction):
        with reverts("VenueMandateFixed", mandate.address.lower()):
            venue.setMandate(stranger, {"from": admin})
        assert venue.mandate() == mandate


def test_venue_without_mandate_refuses_for_owner_calls(OrderBook, energy, money, admin, owners, agent):
    fresh = OrderBook.deploy(admin, energy, money, MIN_WH, {"from": admin, **TX})
    with reverts("VenueMandateNotSet", ""):
        fresh.placeOrderFor(owners[0], BUY, P, 1000, 0, 10, 0, {"from": agent})
    with reverts("VenueMandateNotSet", ""):
        fresh.cancelOrderFor(owners[0], 1, {"from": agent})
    with reverts("VenueMandateFixed", "0x" + "00" * 20):
        fresh.setMandate("0x" + "00" * 20, {"from": admin})


# ------------------------------------------------------------------ order book for owner
def test_place_for_owner_is_the_owners_order(book, mandate, owners, agent, energy, money):
    alice, bob = owners[0], owners[1]
    mandate.grant(terms(agent, max_buy=P, cap=cost(P, 5_000)), {"from": alice})
    book.placeOrder(SELL, P - 10_000, 2_000, 0, 10, 0, {"from": bob})
    e0, m0 = balances(energy, money, alice)
    tx = book.placeOrderFor(alice, BUY, P, 3_000, 0, 10, 0, {"from": agent})
    oid = tx.return_value
    o = book.order(oid)
    assert o["owner"] == alice and o["status"] == OPEN and o["remaining"] == 1_000
    fill = tx.events["OrderFilled"][0]
    assert fill["taker"] == alice and fill["amount"] == 2_000
    # alice paid the fill at the maker's price and escrowed the rest; she got the energy; the agent holds nothing
    assert balances(energy, money, alice) == (e0 + 2_000, m0 - cost(P - 10_000, 2_000) - cost(P, 1_000))
    assert balances(energy, money, agent) == (0, 0)
    used = tx.events["MandateUsed"]
    assert used["cost"] == cost(P, 3_000) and used["spentToday"] == cost(P, 3_000) and used["venue"] == BOOK_VENUE
    assert mandate.spentToday(alice) == cost(P, 3_000)
    book.cancelOrderFor(alice, oid, {"from": agent})
    assert book.order(oid)["status"] == CANCELLED
    assert balances(energy, money, alice) == (e0 + 2_000, m0 - cost(P - 10_000, 2_000))
    assert mandate.spentToday(alice) == cost(P, 3_000)  # the refund does not give the allowance back


def test_cancel_for_owner_needs_the_agent_and_the_owners_order(book, mandate, owners, agent, stranger):
    alice, bob = owners[0], owners[1]
    mandate.grant(terms(agent), {"from": alice})
    bob_order = book.placeOrder(SELL, P, 1_000, 0, 10, 0, {"from": bob}).return_value
    with reverts("OrderBookNotOwner", rf"{bob_order}, {alice.address.lower()}"):
        book.cancelOrderFor(alice, bob_order, {"from": agent})
    own = book.placeOrder(SELL, P, 1_000, 0, 10, 0, {"from": alice}).return_value
    with reverts("MandateWrongAgent"):
        book.cancelOrderFor(alice, own, {"from": stranger})
    with reverts("MandateMissing"):
        book.cancelOrderFor(bob, bob_order, {"from": agent})
    book.cancelOrderFor(alice, own, {"from": agent})  # the agent may cancel the owner's own orders too


def test_revoke_takes_effect_at_once(book, mandate, owners, agent):
    alice = owners[0]
    mandate.grant(terms(agent), {"from": alice})
    oid = book.placeOrderFor(alice, SELL, P, 1_000, 0, 10, 0, {"from": agent}).return_value
    tx = mandate.revoke({"from": alice})
    assert tx.events["MandateRevoked"]["agent"] == agent
    assert not mandate.isLive(alice) and mandate.ownerCount(agent) == 0
    with reverts("MandateMissing"):
        book.placeOrderFor(alice, SELL, P, 1_000, 0, 10, 0, {"from": agent})
    with reverts("MandateMissing"):
        book.cancelOrderFor(alice, oid, {"from": agent})
    book.cancelOrder(oid, {"from": alice})  # the owner's own trading is untouched


def test_compromised_agent_never_moves_tokens_beyond_the_bounds(
    book, auction, mandate, owners, agent, stranger, energy, money
):
    """The agent key is in an attacker's hands: every attempt outside the bounds reverts; what gets through is
    bounded by the cap (money) and the reserve (energy)."""
    alice, bob = owners[0], owners[1]
    cap, reserve = cost(P, 4_000), FUND_WH - 3_000
    until = now() + 3_600
    mandate.grant(terms(agent, min_sell=P, max_buy=P, reserve=reserve, cap=cap, venues=BOOK_VENUE, until=until),
                  {"from": alice})  # fmt: skip
    e0, m0 = balances(energy, money, alice)
    rid = auction.currentRoundId()
    attempts = [
        ("MandatePriceAboveMaximum", lambda: book.placeOrderFor(alice, BUY, P + 1, 1_000, 0, 10, 0, {"from": agent})),
        ("MandatePriceBelowMinimum", lambda: book.placeOrderFor(alice, SELL, P - 1, 1_000, 0, 10, 0, {"from": agent})),
        ("MandateReserveBreached", lambda: book.placeOrderFor(alice, SELL, P, 3_001, 0, 10, 0, {"from": agent})),
        ("MandateDailyCapExceeded", lambda: book.placeOrderFor(alice, BUY, P, 4_001, 0, 10, 0, {"from": agent})),
        (
            "MandateVenueNotAllowed",
            lambda: auction.submitOrderFor(alice, rid, BUY, P, 1_000, 0, {"from": agent}),
        ),
        ("MandateWrongAgent", lambda: book.placeOrderFor(alice, BUY, P, 1_000, 0, 10, 0, {"from": stranger})),
        ("MandateMissing", lambda: book.placeOrderFor(bob, BUY, P, 1_000, 0, 10, 0, {"from": agent})),
    ]
    for name, attempt in attempts:
        with reverts(name):
            attempt()
    # Within the bounds: sell down to the reserve, buy up to the cap (in two orders); then nothing more.
    book.placeOrderFor(alice, SELL, P, 3_000, 0, 10, 0, {"from": agent})
    book.placeOrderFor(alice, BUY, P - 1, 2_000, 0, 10, 0, {"from": agent})
    book.placeOrderFor(alice, BUY, P - 1, 2_000, 0, 10, 0, {"from": agent})
    with reverts("MandateReserveBreached"):
        book.placeOrderFor(alice, SELL, P, MIN_WH, 0, 10, 0, {"from": agent})
    with reverts("MandateDailyCapExceeded"):
        book.placeOrderFor(alice, BUY, P - 1, 1_000, 0, 10, 0, {"from": agent})
    e1, m1 = balances(energy, money, alice)
    assert e0 - e1 <= e0 - reserve and m0 - m1 <= cap
    mine_at(until)
    with reverts("MandateExpired", rf"{alice.address.lower()}, {until}"):
        book.placeOrderFor(alice, BUY, 1, 1_000, 0, 10, 0, {"from": agent})
    assert balances(energy, money, alice) == (e1, m1)
    assert balances(energy, money, agent) == (0, 0)


def test_cap_resets_next_community_day_and_survives_a_regrant(book, mandate, owners, agent):
    alice = owners[0]
    start = now()
    day_start = ((start + OFFSET) // DAY + 1) * DAY - OFFSET  # next local midnight (UTC+8)
    mine_at(day_start + 60)
    cap = cost(P, 1_000)
    mandate.grant(terms(agent, cap=cap), {"from": alice})
    book.placeOrderFor(alice, BUY, P, 1_000, 0, 10, 0, {"from": agent})
    assert mandate.spentToday(alice) == cap
    mandate.grant(terms(agent, cap=cap), {"from": alice})  # a re-grant does not reset the day
    with reverts("MandateDailyCapExceeded", rf"{cap}, {cap}, {cap}"):
        book.placeOrderFor(alice, BUY, P, 1_000, 0, 10, 0, {"from": agent})
    mine_at(day_start + DAY - 5)
    with reverts("MandateDailyCapExceeded"):
        book.placeOrderFor(alice, BUY, P, 1_000, 0, 10, 0, {"from": agent})
    mine_at(day_start + DAY)
    assert mandate.spentToday(alice) == 0 and mandate.today() == (day_start + DAY + OFFSET) // DAY
    book.placeOrderFor(alice, BUY, P, 1_000, 0, 10, 0, {"from": agent})
    assert mandate.spentToday(alice) == cap


# ------------------------------------------------------------------ auction for owner
def test_auction_submit_for_owner_at_the_effective_price(auction, mandate, owners, agent, energy, money):
    alice = owners[0]
    mandate.grant(terms(agent, min_sell=FEED_IN, max_buy=RETAIL, reserve=0, venues=AUCTION_VENUE), {"from": alice})
    rid = auction.currentRoundId()
    e0, m0 = balances(energy, money, alice)
    # a bid above retail is capped at retail (its effective price): within max_buy = retail
    tx = auction.submitOrderFor(alice, rid, BUY, RETAIL + 50_000, 1_000, 0, {"from": agent})
    order = auction.getOrder(tx.return_value)
    assert order["owner"] == alice and order["price"] == RETAIL
    assert balances(energy, money, alice) == (e0, m0 - cost(RETAIL, 1_000))
    assert mandate.spentToday(alice) == cost(RETAIL, 1_000)
    with reverts("DoubleAuctionSelfTrade"):  # one side per owner and round, whoever places it
        auction.submitOrderFor(alice, rid, SELL, FEED_IN, 1_000, 0, {"from": agent})


def test_sealed_rounds_take_no_orders_for_owners(auction, mandate, owners, agent, admin):
    mandate.grant(terms(agent, venues=AUCTION_VENUE), {"from": owners[0]})
    auction.setSchedule(900, 300, True, {"from": admin})
    with reverts("DoubleAuctionWrongMode"):
        auction.submitOrderFor(owners[0], auction.currentRoundId(), BUY, RETAIL, 1_000, 0, {"from": agent})


def test_auction_sell_for_owner_keeps_the_reserve(auction, mandate, owners, agent, energy):
    bob = owners[1]
    mandate.grant(terms(agent, min_sell=FEED_IN, reserve=FUND_WH - 1_000, venues=AUCTION_VENUE), {"from": bob})
    rid = auction.currentRoundId()
    with reverts("MandateReserveBreached", rf"{FUND_WH}, 1001, {FUND_WH - 1_000}"):
        auction.submitOrderFor(bob, rid, SELL, FEED_IN, 1_001, 0, {"from": agent})
    # an ask below feed-in is raised to feed-in (its effective price), which is within min_sell = feed-in
    tx = auction.submitOrderFor(bob, rid, SELL, FEED_IN - 1, 1_000, 0, {"from": agent})
    assert auction.getOrder(tx.return_value)["owner"] == bob
    assert energy.balanceOf(bob) == FUND_WH - 1_000
    assert tx.events["MandateUsed"]["cost"] == 0


# ------------------------------------------------------------------ grant by EIP-712 signature
def _signed(mandate, owner_index, owner, t, deadline, nonce=None):
    nonce = mandate.nonces(owner) if nonce is None else nonce
    mt = MandateTerms(t[0], t[1], t[2], t[3], t[4], t[5], tuple(t[6]), t[7])
    typed = mandate_typed_data(owner.address, mt, nonce, deadline, 1337, mandate.address)
    return Account.from_key(dev_key(owner_index)).sign_typed_data(full_message=typed).signature


def test_grant_by_signature(mandate, owners, agent, stranger):
    alice = owners[0]  # dev account 3
    t = terms(agent, max_buy=P, cap=10**6, weights=(3, 1, 4, 1, 5, 9))
    deadline = now() + 600
    sig = _signed(mandate, 3, alice, t, deadline)
    tx = mandate.grantBySig(alice, t, deadline, sig, {"from": stranger})  # anyone relays it
    assert tx.events["MandateGranted"]["owner"] == alice
    assert plain(mandate.termsOf(alice)) == plain(list(t)) and mandate.nonces(alice) == 1
    with reverts("MandateBadSignature"):  # replay: the nonce moved on
        mandate.grantBySig(alice, t, deadline, sig, {"from": stranger})


def test_grant_by_signature_refuses_wrong_signer_altered_terms_and_late_use(mandate, owners, agent, stranger):
    alice = owners[0]
    t = terms(agent, max_buy=P)
    deadline = now() + 600
    by_bob = _signed(mandate, 4, alice, t, deadline)  # bob's key signs alice's grant
    with reverts("MandateBadSignature", rf"{alice.address.lower()}, {owners[1].address.lower()}"):
        mandate.grantBySig(alice, t, deadline, by_bob, {"from": stranger})
    sig = _signed(mandate, 3, alice, t, deadline)
    with reverts("MandateBadSignature"):  # the relayer raises the price bound
        mandate.grantBySig(alice, terms(agent, max_buy=P * 2), deadline, sig, {"from": stranger})
    with reverts("MandateBadSignature"):
        mandate.grantBySig(alice, t, deadline, b"\x00" * 65, {"from": stranger})
    mine_at(deadline + 1)
    with reverts("MandateSignatureExpired"):
        mandate.grantBySig(alice, t, deadline, sig, {"from": stranger})
    assert not mandate.isLive(alice)


# ------------------------------------------------------------------ property
@settings(max_examples=15, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    orders=st.lists(
        st.tuples(st.integers(min_value=1, max_value=2 * P), st.integers(min_value=MIN_WH, max_value=5_000)),
        min_size=1,
        max_size=6,
    ),
    cap=st.integers(min_value=0, max_value=cost(P, 8_000)),
)
def test_property_spend_never_exceeds_the_cap(book, mandate, owners, agent, money, orders, cap):
    alice = owners[2]
    brownie.chain.snapshot()
    try:
        mandate.grant(terms(agent, max_buy=P, cap=cap, venues=BOOK_VENUE), {"from": alice})
        m0 = int(money.balanceOf(alice))
        counted = 0
        for price, amount in orders:
            escrow = cost(price, amount)
            allowed = price <= P and counted + escrow <= cap and escrow > 0
            try:
                book.placeOrderFor(alice, BUY, price, amount, 0, 10, 0, {"from": agent})
                assert allowed
                counted += escrow
            except brownie.exceptions.VirtualMachineError:
                assert not allowed
        assert mandate.spentToday(alice) == counted <= cap
        assert m0 - int(money.balanceOf(alice)) <= cap
    finally:
        brownie.chain.revert()
