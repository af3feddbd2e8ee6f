"""energy_chain.mandate and the "for owner" calls of the order-book and auction clients, on a real anvil.

Plain pytest (no Brownie plugin): the module starts its own anvil on a free port and deploys (devchain.local_chain).
"""

from __future__ import annotations

import secrets

import pytest

from energy_chain import Signer, TxFailed
from energy_chain.approvals import ensure_approvals
from energy_chain.auction import AuctionClient
from energy_chain.devchain import ROLE_INDEX, dev_signer, fund_traders, local_chain
from energy_chain.mandate import (
    VENUE_AUCTION,
    VENUE_DIRECT,
    VENUE_ORDER_BOOK,
    MandateClient,
    MandateTerms,
    MandateTermsError,
    sign_typed_data,
    typed_data_digest,
)
from energy_chain.orders import OrderBookClient, Side, Status, cost

P = 400_000


@pytest.fixture(scope="module")
def chain():
    with local_chain(gas_limit=300_000_000) as client:
        yield client


@pytest.fixture(scope="module")
def book(chain):
    return OrderBookClient(chain)


@pytest.fixture(scope="module")
def mandates(chain):
    return MandateClient(chain)


@pytest.fixture(scope="module")
def owners(chain, book):
    """Five fresh households with energy, settlement units and approvals of both venues."""
    signers = [Signer.from_key("0x" + secrets.token_hex(32)) for _ in range(5)]
    fund_traders(chain, signers, book, f"MANDATE-{secrets.token_hex(4)}", wh=1_000_000)
    auction = chain.deployment.address("DoubleAuction")
    for s in signers:
        ensure_approvals(chain, s, auction)
    return signers


@pytest.fixture()
def agent():
    return Signer.from_key("0x" + secrets.token_hex(32))


def balance(chain, token: str, who: str) -> int:
    return int(chain.contract(token).functions.balanceOf(who).call())


def test_deployment_registers_the_venues_and_points_them_at_the_mandate(chain, mandates):
    address = chain.deployment.address("TradingMandate")
    c = mandates.contract.functions
    assert c.venueOf(chain.deployment.address("OrderBook")).call() == VENUE_ORDER_BOOK
    assert c.venueOf(chain.deployment.address("DoubleAuction")).call() == VENUE_AUCTION
    for venue in ("OrderBook", "DoubleAuction"):
        assert chain.contract(venue).functions.mandate().call() == address
    assert c.dayOffset().call() == 8 * 3600


def test_dev_role_agent_is_not_a_household_index():
    assert ROLE_INDEX["agent"] > 1000
    assert dev_signer("agent").address != dev_signer(3).address


def test_terms_validate_and_name_their_venues(agent):
    terms = MandateTerms(agent.address.lower(), venues=VENUE_ORDER_BOOK | VENUE_DIRECT)
    assert terms.agent == agent.address  # checksummed
    assert terms.venue_names() == ("order-book", "direct")
    assert MandateTerms(agent.address).venue_names() == ("order-book", "auction", "direct")
    for bad in ({"venues": 0}, {"venues": 8}, {"weights": (1, 2, 3)}, {"max_buy_price": -1}, {"reserve_wh": 2**128}):
        with pytest.raises(MandateTermsError):
            MandateTerms(agent.address, **bad)


def test_grant_read_back_place_for_and_revoke(chain, book, mandates, owners, agent):
    owner = owners[0]
    terms = MandateTerms(agent.address, max_buy_price=P, daily_spend_cap=cost(P, 3_000), weights=(5, 4, 3, 2, 1, 0))
    mandates.grant(owner, terms)
    assert mandates.terms_of(owner.address) == terms
    assert owner.address in mandates.owners_of(agent.address)
    assert mandates.spent_today(owner.address) == 0

    money_before = balance(chain, "SettlementToken", owner.address)
    placed = book.place_for(agent, owner.address, Side.BUY, P, 2_000)
    order = book.order(placed.order_id)
    assert order.owner == owner.address and order.status is Status.OPEN  # the owner's order, not the agent's
    assert balance(chain, "SettlementToken", owner.address) == money_before - cost(P, 2_000)
    assert balance(chain, "SettlementToken", agent.address) == 0
    assert mandates.spent_today(owner.address) == cost(P, 2_000)
    assert mandates.remaining_today(owner.address) == cost(P, 1_000)

    with pytest.raises(TxFailed) as price:
        book.place_for(agent, owner.address, Side.BUY, P + 1, 100)
    assert price.value.error_name == "MandatePriceAboveMaximum"
    with pytest.raises(TxFailed) as cap:
        book.place_for(agent, owner.address, Side.BUY, P, 1_001)
    assert cap.value.error_name == "MandateDailyCapExceeded"

    book.cancel_for(agent, owner.address, placed.order_id)
    assert book.order(placed.order_id).status is Status.CANCELLED
    assert balance(chain, "SettlementToken", owner.address) == money_before
    assert mandates.spent_today(owner.address) == cost(P, 2_000)  # a refund does not give the allowance back

    mandates.revoke(owner)
    assert mandates.terms_of(owner.address) is None
    assert owner.address not in mandates.owners_of(agent.address)
    with pytest.raises(TxFailed) as gone:
        book.place_for(agent, owner.address, Side.BUY, P, 100)
    assert gone.value.error_name == "MandateMissing"


def test_sell_for_owner_keeps_the_reserve_and_minimum_price(chain, book, mandates, owners, agent):
    owner = owners[1]
    energy = balance(chain, "EnergyToken", owner.address)
    mandates.grant(owner, MandateTerms(agent.address, min_sell_price=P, reserve_wh=energy - 1_000))
    with pytest.raises(TxFailed) as low:
        book.place_for(agent, owner.address, Side.SELL, P - 1, 500)
    assert low.value.error_name == "MandatePriceBelowMinimum"
    with pytest.raises(TxFailed) as reserve:
        book.place_for(agent, owner.address, Side.SELL, P * 2, 1_001)
    assert reserve.value.error_name == "MandateReserveBreached"
    placed = book.place_for(agent, owner.address, Side.SELL, P * 2, 1_000, hint=0)
    assert book.order(placed.order_id).owner == owner.address
    assert balance(chain, "EnergyToken", owner.address) == energy - 1_000
    with pytest.raises(TxFailed) as wrong:
        book.cancel_for(Signer.from_key("0x" + secrets.token_hex(32)), owner.address, placed.order_id)
    assert wrong.value.error_name == "MandateWrongAgent"
    book.cancel_for(agent, owner.address, placed.order_id)
    assert balance(chain, "EnergyToken", owner.address) == energy


def test_grant_by_signature_of_typed_data(chain, mandates, owners, agent):
    owner, relayer = owners[2], dev_signer("agent")
    terms = MandateTerms(agent.address, max_buy_price=P, venues=VENUE_AUCTION)
    deadline = chain.w3.eth.get_block("latest")["timestamp"] + 3600
    typed = mandates.typed_data(owner.address, terms, deadline)
    digest = mandates.contract.functions.grantDigest(owner.address, terms.as_tuple(), deadline).call()
    assert typed_data_digest(typed) == bytes(digest)
    signature = sign_typed_data(owner, typed)
    mandates.grant_by_sig(relayer, owner.address, terms, deadline, signature)
    assert mandates.terms_of(owner.address) == terms
    assert mandates.nonce_of(owner.address) == 1
    with pytest.raises(TxFailed) as replay:
        mandates.grant_by_sig(relayer, owner.address, terms, deadline, signature)
    assert replay.value.error_name == "MandateBadSignature"
    other = sign_typed_data(owners[3], mandates.typed_data(owner.address, terms, deadline))
    with pytest.raises(TxFailed) as wrong:
        mandates.grant_by_sig(relayer, owner.address, terms, deadline, other)
    assert wrong.value.error_name == "MandateBadSignature"


def test_auction_submit_for_owner_and_venue_bound(chain, book, mandates, owners, agent):
    owner = owners[3]
    auction = AuctionClient(chain)
    retail, feed_in = auction.tariffs()
    mandates.grant(owner, MandateTerms(agent.address, max_buy_price=retail, venues=VENUE_AUCTION))
    money_before = balance(chain, "SettlementToken", owner.address)
    order_id = auction.submit_for(agent, owner.address, Side.BUY, feed_in, 1_000)
    assert auction.contract.functions.getOrder(order_id).call()[0] == owner.address
    deposit = -(-feed_in * 1_000 // 1000)
    assert balance(chain, "SettlementToken", owner.address) == money_before - deposit
    assert mandates.spent_today(owner.address) == deposit
    with pytest.raises(TxFailed) as venue:
        book.place_for(agent, owner.address, Side.BUY, feed_in, 1_000)
    assert venue.value.error_name == "MandateVenueNotAllowed"


def test_expired_mandate_is_not_live(chain, book, mandates, owners, agent):
    owner = owners[4]
    now = chain.w3.eth.get_block("latest")["timestamp"]
    terms = MandateTerms(agent.address, valid_until=now + 100)
    mandates.grant(owner, terms)
    assert mandates.terms_of(owner.address) == terms
    chain.w3.provider.make_request("evm_increaseTime", [200])
    chain.w3.provider.make_request("evm_mine", [])
    assert mandates.terms_of(owner.address) is None
    assert mandates.stored_terms(owner.address) == terms
    assert owner.address not in mandates.owners_of(agent.address)
    with pytest.raises(TxFailed) as expired:
        book.place_for(agent, owner.address, Side.BUY, P, 100)
    assert expired.value.error_name == "MandateExpired"


def test_deploying_again_keeps_the_mandate_and_its_wiring(chain):
    from energy_chain.deploy import deploy_all
    from energy_chain.devchain import local_roles

    before = chain.deployment.address("TradingMandate")
    record = deploy_all(chain, local_roles(chain), quiet=True)
    assert record.address("TradingMandate") == before
    assert chain.contract("OrderBook").functions.mandate().call() == before


def test_codec_decodes_the_mandate_errors_by_name(chain):
    from eth_abi import encode
    from eth_utils import function_signature_to_4byte_selector

    from energy_chain.codec import Codec

    codec = Codec.from_contracts(chain.deployment.contracts)
    data = function_signature_to_4byte_selector("MandateDailyCapExceeded(uint256,uint256,uint256)")
    decoded = codec.decode_error(data + encode(["uint256"] * 3, [5, 7, 10]))
    assert decoded is not None and decoded.name == "MandateDailyCapExceeded"
    assert decoded.args == {"spentToday": 5, "cost": 7, "dailySpendCap": 10}
    assert codec.contract_name(chain.deployment.address("TradingMandate")) == "TradingMandate"
