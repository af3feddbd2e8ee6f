"""OfferSettlement with a TradingMandate: fillFor (an agent buys for its owner) and offers its seller's agent signed.

A compromised agent key can only trade inside its owner's bounds: below the minimum price, beyond the reserve,
beyond the daily cap, on a venue not granted or after revoke, the fill is refused and no token moves.
"""

from __future__ import annotations

import secrets

import brownie
import pytest

from energy_chain.devchain import dev_key
from energy_chain.offers import Offer, sign_offer
from tests.contracts.offer_fixtures import (
    CHAIN_ID,
    CHECK,
    MIN_FILL_WH,
    PRICE,
    chain_now,
    entry,
    make_offer,
    revert_error,
    sig,
)
from tests.contracts.order_book_fixtures import cost, fund_trader

DIRECT, BOOK_ONLY = 4, 1
U128 = 2**128 - 1
TX = {"gas_price": 0}
AGENT_INDEX = 8


def terms(agent, min_sell=0, max_buy=U128, reserve=0, cap=U128, venues=7, until=0):
    return (agent.address, min_sell, max_buy, reserve, cap, venues, [1] * 6, until)


@pytest.fixture(scope="module")
def agent(accounts):
    return accounts[AGENT_INDEX]


@pytest.fixture(scope="module")
def settlement(OfferSettlement, energy, money, admin):
    return OfferSettlement.deploy(energy, money, MIN_FILL_WH, {"from": admin, **TX})


@pytest.fixture(scope="module")
def mandate(TradingMandate, settlement, energy, admin):
    m = TradingMandate.deploy(admin, energy, 8 * 3600, [settlement], [DIRECT], {"from": admin, **TX})
    settlement.setMandate(m, {"from": admin})
    return m


@pytest.fixture(scope="module")
def people(accounts, settlement, registry, energy, money, operator, oracle, mandate):
    """seller, buyer (accounts 3, 4): funded, approving the settlement."""
    group = [accounts[3], accounts[4]]
    for a in group:
        fund_trader(a, registry, energy, money, operator, oracle, settlement)
    return group


def agent_offer(settlement, seller, amount=1_000, price=PRICE):
    """An offer of `seller` signed by its agent (accounts[8]) instead of the seller."""
    now = chain_now()
    offer = Offer(seller.address, price, amount, now - 60, now + 3_600, secrets.randbits(256),
                  int(settlement.counterOf(seller)))  # fmt: skip
    return sign_offer(offer, dev_key(AGENT_INDEX), CHAIN_ID, settlement.address, as_agent=True)


def balances(energy, money, *who):
    return [(int(energy.balanceOf(w)), int(money.balanceOf(w))) for w in who]


def refused(settlement, fn, args, sender, name):
    decoded = revert_error(settlement, fn, args, sender)
    assert decoded is not None and decoded.name == name, decoded
    with brownie.reverts(revert_pattern=f"{name}.*"):
        getattr(settlement, fn)(*args, {"from": sender, "gas_limit": 5_000_000, "allow_revert": True})


def test_mandate_is_set_once_by_the_deployer(OfferSettlement, settlement, mandate, energy, money, admin, accounts):
    assert settlement.mandate() == mandate.address
    refused(settlement, "setMandate", [accounts[9]], admin, "VenueMandateFixed")
    fresh = OfferSettlement.deploy(energy, money, MIN_FILL_WH, {"from": admin, **TX})
    refused(fresh, "setMandate", [mandate], accounts[9], "OfferSettlementNotDeployer")


def test_fill_for_buys_for_the_owner_and_counts_the_cap(settlement, mandate, people, agent, energy, money):
    seller, buyer = people
    mandate.grant(terms(agent, max_buy=PRICE, cap=cost(PRICE, 2_000)), {"from": buyer})
    signed = make_offer(settlement, seller, amount=5_000)
    before = balances(energy, money, seller, buyer, agent)
    tx = settlement.fillFor(buyer, signed.offer.as_tuple(), sig(signed), 1_000, {"from": agent, **TX})
    after = balances(energy, money, seller, buyer, agent)
    price = cost(PRICE, 1_000)
    assert after[1] == (before[1][0] + 1_000, before[1][1] - price)  # the owner got the energy and paid
    assert after[0] == (before[0][0] - 1_000, before[0][1] + price)
    assert after[2] == before[2]  # the agent holds nothing
    assert tx.events["OfferFilled"]["buyer"] == buyer
    assert tx.events["MandateUsed"]["cost"] == price
    assert int(mandate.spentToday(buyer)) == price
    # beyond the cap, above the maximum price, by another account: refused, nothing moves
    before = balances(energy, money, seller, buyer)
    refused(
        settlement, "fillFor", [buyer, signed.offer.as_tuple(), sig(signed), 1_500], agent, "MandateDailyCapExceeded"
    )
    dear = make_offer(settlement, seller, price=PRICE + 1)
    refused(settlement, "fillFor", [buyer, dear.offer.as_tuple(), sig(dear), 100], agent, "MandatePriceAboveMaximum")
    refused(settlement, "fillFor", [buyer, signed.offer.as_tuple(), sig(signed), 100], seller, "MandateWrongAgent")
    assert balances(energy, money, seller, buyer) == before
    mandate.revoke({"from": buyer})
    refused(settlement, "fillFor", [buyer, signed.offer.as_tuple(), sig(signed), 100], agent, "MandateMissing")


def test_fill_for_needs_the_direct_venue(settlement, mandate, people, agent):
    seller, buyer = people
    mandate.grant(terms(agent, venues=BOOK_ONLY), {"from": buyer})
    signed = make_offer(settlement, seller)
    refused(settlement, "fillFor", [buyer, signed.offer.as_tuple(), sig(signed), 100], agent, "MandateVenueNotAllowed")
    mandate.revoke({"from": buyer})


def test_offer_signed_by_the_sellers_agent_fills_within_the_bounds(settlement, mandate, people, agent, energy, money):
    seller, buyer = people
    balance = int(energy.balanceOf(seller))
    mandate.grant(terms(agent, min_sell=PRICE, reserve=balance - 1_500), {"from": seller})
    signed = agent_offer(settlement, seller, amount=5_000)
    assert settlement.check(signed.offer.as_tuple(), sig(signed), buyer, 1_000)[0] == CHECK["Ok"]
    tx = settlement.fill(signed.offer.as_tuple(), sig(signed), 1_000, {"from": buyer, **TX})
    assert tx.events["OfferFilled"]["seller"] == seller
    assert tx.events["MandateUsed"]["owner"] == seller and tx.events["MandateUsed"]["side"] == 1
    # the reserve: 500 Wh more may go, 501 may not
    before = balances(energy, money, seller, buyer)
    ok = settlement.check(signed.offer.as_tuple(), sig(signed), buyer, 501)
    assert ok[0] == CHECK["MandateRefused"]
    refused(settlement, "fill", [signed.offer.as_tuple(), sig(signed), 501], buyer, "MandateReserveBreached")
    # fillMany skipping gone offers skips it; without skipGone it reverts with the mandate's error
    other = make_offer(settlement, seller, amount=100)
    refused(settlement, "fillMany", [[entry(signed, 501)], False, 1], buyer, "MandateReserveBreached")
    tx = settlement.fillMany([entry(signed, 501), entry(other, 100)], True, 2, {"from": buyer, **TX})
    assert tx.events["OfferSkipped"]["reason"] == CHECK["MandateRefused"]
    assert balances(energy, money, seller, buyer)[0][0] == before[0][0] - 100
    mandate.revoke({"from": seller})


def test_compromised_agent_cannot_sell_below_the_minimum_or_after_revoke(
    settlement, mandate, people, agent, energy, money
):
    seller, buyer = people
    mandate.grant(terms(agent, min_sell=PRICE), {"from": seller})
    cheap = agent_offer(settlement, seller, price=PRICE - 1)
    fair = agent_offer(settlement, seller)
    before = balances(energy, money, seller, buyer)
    refused(settlement, "fill", [cheap.offer.as_tuple(), sig(cheap), 100], buyer, "MandatePriceBelowMinimum")
    mandate.grant(terms(agent, venues=BOOK_ONLY), {"from": seller})
    refused(settlement, "fill", [fair.offer.as_tuple(), sig(fair), 100], buyer, "MandateVenueNotAllowed")
    mandate.revoke({"from": seller})
    # no longer the seller's agent: its signature is nobody's
    refused(settlement, "fill", [fair.offer.as_tuple(), sig(fair), 100], buyer, "OfferSettlementBadSignature")
    assert settlement.check(fair.offer.as_tuple(), sig(fair), buyer, 100)[0] == CHECK["BadSignature"]
    assert balances(energy, money, seller, buyer) == before


def test_a_stranger_signature_stays_bad_with_a_mandate_set(settlement, mandate, people, accounts):
    seller, buyer = people
    now = chain_now()
    offer = Offer(seller.address, PRICE, 1_000, now - 60, now + 3_600, 12345, int(settlement.counterOf(seller)))
    forged = sign_offer(offer, dev_key(9), CHAIN_ID, settlement.address, as_agent=True)
    refused(settlement, "fill", [forged.offer.as_tuple(), sig(forged), 100], buyer, "OfferSettlementBadSignature")
