"""OfferSettlementClient with a trading mandate, on a real anvil: fill_for (an agent buys for its owner) and offers
that the seller's agent signs (sign(agent=...)), within the owners' bounds.

Plain pytest (no Brownie plugin): the module starts its own anvil on a free port and deploys (devchain.local_chain).
"""

from __future__ import annotations

import secrets

import pytest

from energy_chain import Signer, TxFailed
from energy_chain.devchain import fund_traders, local_chain
from energy_chain.mandate import VENUE_DIRECT, VENUE_ORDER_BOOK, MandateClient, MandateTerms
from energy_chain.offer_settlement import OfferSettlementClient
from energy_chain.orders import cost

P = 420_000


@pytest.fixture(scope="module")
def chain():
    with local_chain(gas_limit=300_000_000) as client:
        yield client


@pytest.fixture(scope="module")
def offers(chain):
    return OfferSettlementClient(chain)


@pytest.fixture(scope="module")
def people(chain, offers):
    """seller, buyer: funded households approving the settlement for both tokens (as for their own trading)."""
    signers = [Signer.from_key("0x" + secrets.token_hex(32)) for _ in range(2)]
    fund_traders(chain, signers, offers.address, f"OFFER-MANDATE-{secrets.token_hex(4)}", wh=100_000)
    return signers


@pytest.fixture()
def agent():
    return Signer.from_key("0x" + secrets.token_hex(32))


def now(chain) -> int:
    return int(chain.w3.eth.get_block("latest")["timestamp"])


def energy(chain, who: str) -> int:
    return int(chain.contract("EnergyToken").functions.balanceOf(who).call())


def money(chain, who: str) -> int:
    return int(chain.contract("SettlementToken").functions.balanceOf(who).call())


def test_deployment_registers_the_settlement_as_the_direct_venue(chain, offers):
    mandate = chain.deployment.address("TradingMandate")
    assert offers.contract.functions.mandate().call() == mandate
    assert chain.contract("TradingMandate").functions.venueOf(offers.address).call() == VENUE_DIRECT


def test_fill_for_buys_for_the_owner_within_the_cap(chain, offers, people, agent):
    seller, buyer = people
    mandates = MandateClient(chain)
    mandates.grant(buyer, MandateTerms(agent.address, max_buy_price=P, daily_spend_cap=cost(P, 1_000)))
    t = now(chain)
    signed = offers.sign(seller, P, 5_000, t - 60, t + 3_600)
    before = energy(chain, buyer.address), money(chain, buyer.address)
    result = offers.fill_for(agent, buyer.address, signed, 600)
    assert result.buyer == buyer.address and result.amount_wh == 600
    assert (energy(chain, buyer.address), money(chain, buyer.address)) == (before[0] + 600, before[1] - cost(P, 600))
    assert mandates.spent_today(buyer.address) == cost(P, 600)
    with pytest.raises(TxFailed) as exc:
        offers.fill_for(agent, buyer.address, signed, 500)  # 1 100 Wh today: beyond the cap
    assert exc.value.error_name == "MandateDailyCapExceeded"
    assert energy(chain, buyer.address) == before[0] + 600
    mandates.revoke(buyer)
    with pytest.raises(TxFailed) as exc:
        offers.fill_for(agent, buyer.address, signed, 100)
    assert exc.value.error_name == "MandateMissing"


def test_offers_signed_by_the_sellers_agent_respect_the_minimum_and_the_reserve(chain, offers, people, agent):
    seller, buyer = people
    mandates = MandateClient(chain)
    reserve = energy(chain, seller.address) - 1_000
    mandates.grant(seller, MandateTerms(agent.address, min_sell_price=P, reserve_wh=reserve))
    t = now(chain)
    signed = offers.sign(seller.address, P, 2_000, t - 60, t + 3_600, agent=agent)
    assert offers.precheck(signed, 800, buyer.address) is None
    assert offers.fill(signed, 800, buyer).seller == seller.address
    assert offers.precheck(signed, 300, buyer.address) == "MandateRefused"  # 200 Wh above the reserve
    results = offers.fill_many([(signed, 300)], buyer)
    assert [r.reason for r in results] == ["MandateRefused"]
    with pytest.raises(TxFailed) as exc:
        offers.fill(offers.sign(seller.address, P - 1, 100, t - 60, t + 3_600, agent=agent), 100, buyer)
    assert exc.value.error_name == "MandatePriceBelowMinimum"
    mandates.grant(seller, MandateTerms(agent.address, venues=VENUE_ORDER_BOOK))
    assert offers.precheck(signed, 100, buyer.address) == "MandateRefused"
    mandates.revoke(seller)
    assert offers.precheck(signed, 100, buyer.address) == "BadSignature"
