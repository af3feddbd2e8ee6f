"""energy_chain.offer_settlement against a real anvil: sign, precheck, fill, fill_many with skips, cancel, counter,
approvals inside, decoded custom errors, batch reads, gas within the client's bounds.

Plain pytest (no Brownie plugin): the module starts its own anvil on a free port and deploys with scripts.deploy.
"""

from __future__ import annotations

import secrets
import tempfile
from pathlib import Path

import pytest

from energy_chain import ChainClient, ChainConfig, Signer, TxFailed
from energy_chain.anvil import start_anvil
from energy_chain.devchain import deploy_local, fund_traders
from energy_chain.offer_settlement import FILL_GAS, FillResult, OfferSettlementClient, SkipResult, fill_many_gas
from energy_chain.orders import OrderBookClient

P = 450_000


@pytest.fixture(scope="module")
def chain():
    node = start_anvil(gas_limit=300_000_000)
    try:
        client = ChainClient(ChainConfig(rpc_url=node.url, deployments_dir=Path(tempfile.mkdtemp(prefix="offers-"))))
        deploy_local(client)
        yield client
    finally:
        node.kill()


@pytest.fixture(scope="module")
def settle(chain):
    return OfferSettlementClient(chain)


@pytest.fixture(scope="module")
def users(chain):
    """Six fresh keys holding energy and settlement units (no approvals: the client gives them)."""
    signers = [Signer.from_key("0x" + secrets.token_hex(32)) for _ in range(6)]
    fund_traders(chain, signers, OrderBookClient(chain), f"OFFERS-{secrets.token_hex(4)}", wh=100_000)
    return signers


def now(chain) -> int:
    return int(chain.w3.eth.get_block("latest")["timestamp"])


def balances(chain, who: str) -> tuple[int, int]:
    e, m = chain.contract("EnergyToken"), chain.contract("SettlementToken")
    return int(e.functions.balanceOf(who).call()), int(m.functions.balanceOf(who).call())


def test_offer_hash_is_the_contracts_and_fill_moves_tokens(chain, settle, users):
    seller, buyer = users[0], users[1]
    settle.prepare_seller(seller)
    t = now(chain)
    signed = settle.sign(seller, P, 2_000, t - 10, t + 3_600)
    assert signed.recover_signer() == seller.address and signed.offer.counter == 0
    assert "0x" + bytes(settle.contract.functions.hashOffer(signed.offer.as_tuple()).call()).hex() == signed.offer_hash
    assert settle.precheck(signed, 500, buyer.address) == "BuyerAllowanceShort"  # no approval yet: fill gives it
    seller_before, buyer_before = balances(chain, seller.address), balances(chain, buyer.address)
    result = settle.fill(signed, 500, buyer)  # approves the buyer's settlement units first
    assert (result.offer_hash, result.seller, result.buyer, result.amount_wh, result.price, result.cost) == (
        signed.offer_hash,
        seller.address,
        buyer.address,
        500,
        P,
        P * 500 // 1000,
    )
    assert result.gas_used < FILL_GAS
    assert balances(chain, seller.address) == (seller_before[0] - 500, seller_before[1] + result.cost)
    assert balances(chain, buyer.address) == (buyer_before[0] + 500, buyer_before[1] - result.cost)
    assert settle.filled_wh(signed.offer_hash) == 500 and settle.remaining_wh(signed) == 1_500
    assert settle.precheck(signed, 500, buyer.address) is None


def test_errors_come_back_decoded_with_their_data(chain, settle, users):
    seller, buyer = users[2], users[3]
    settle.prepare_seller(seller)
    t = now(chain)
    energy_held = balances(chain, seller.address)[0]
    signed = settle.sign(seller, P, energy_held + 1_000, t - 10, t + 3_600)
    assert settle.precheck(signed, energy_held + 1, buyer.address) == "SellerBalanceShort"
    with pytest.raises(TxFailed) as info:
        settle.fill(signed, energy_held + 1, buyer)
    assert info.value.error_name == "OfferSettlementSellerBalanceShort"
    assert info.value.error.args["have"] == energy_held and info.value.error.args["need"] == energy_held + 1
    assert info.value.error.args["offerHash"] == bytes.fromhex(signed.offer_hash[2:])
    with pytest.raises(TxFailed) as info:
        settle.fill(signed, 100, seller)
    assert info.value.error_name == "OfferSettlementSelfFill"
    assert settle.precheck(signed, 5, buyer.address) == "BelowMinimum"


def test_fill_many_skips_the_gone_and_reports_each_entry(chain, settle, users):
    sellers, buyer = users[0:3], users[4]
    for s in sellers:
        settle.prepare_seller(s)
    t = now(chain)
    a, b, c = (settle.sign(s, P + i, 1_000, t - 10, t + 3_600) for i, s in enumerate(sellers))
    settle.cancel(b, sellers[1])
    results = settle.fill_many([(a, 400), (b, 400), (c, 2_000)], buyer, skip_gone=True)
    assert [type(r) for r in results] == [FillResult, SkipResult, FillResult]
    assert results[1].reason == "Cancelled" and results[1].offer_hash == b.offer_hash
    assert (results[0].amount_wh, results[2].amount_wh) == (400, 1_000)  # the last one clamped to what it had
    assert results[0].gas_used < fill_many_gas(3)
    states = settle.states([a, b, c])
    assert [(s.filled_wh, s.remaining_wh, s.cancelled, s.status) for s in states] == [
        (400, 600, False, "Ok"),
        (0, 0, True, "Cancelled"),
        (1_000, 0, False, "Filled"),
    ]
    assert settle.remaining_many([a, c]) == {a.offer_hash: 600, c.offer_hash: 0}
    # nothing fillable: every entry comes back skipped with the contract's reason, no exception
    results = settle.fill_many([(b, 100), (c, 100)], buyer)
    assert [(type(r), r.reason) for r in results] == [(SkipResult, "Cancelled"), (SkipResult, "Filled")]
    with pytest.raises(TxFailed) as info:  # atomic: the first gone entry reverts the batch
        settle.fill_many([(a, 100), (b, 100)], buyer, skip_gone=False)
    assert info.value.error_name == "OfferSettlementCancelled"
    assert settle.filled_wh(a.offer_hash) == 400


def test_fallbacks_and_counter(chain, settle, users):
    sellers, buyer = users[0:3], users[5]
    t = now(chain)
    first, second, third = (settle.sign(s, P, 1_000, t - 10, t + 3_600) for s in sellers)
    new_counter = settle.increment_counter(sellers[0])
    assert new_counter == settle.counter_of(sellers[0].address) > 0
    assert settle.precheck(first, 100, buyer.address) == "Voided"
    results = settle.fill_many([(first, 300), (second, 300), (third, 300)], buyer, max_fills=1)
    assert [(type(r).__name__, r.offer_hash) for r in results] == [
        ("SkipResult", first.offer_hash),
        ("FillResult", second.offer_hash),
    ]
    assert settle.filled_wh(third.offer_hash) == 0
    fresh = settle.sign(sellers[0], P, 1_000, t - 10, t + 3_600)
    assert fresh.offer.counter == new_counter and settle.precheck(fresh, 100, buyer.address) is None


def test_offer_for_another_deployment_is_refused_before_sending(chain, settle, users):
    from energy_chain.offers import Offer, sign_offer

    seller, buyer = users[0], users[1]
    t = now(chain)
    offer = Offer.new(seller.address, P, 1_000, t - 10, t + 3_600)
    elsewhere = sign_offer(offer, seller.account.key, chain.chain_id, "0x" + "11" * 20)
    with pytest.raises(ValueError, match="signed for chain"):
        settle.fill(elsewhere, 100, buyer)
    # the same offer sent to the contract anyway: the signature does not verify for this domain
    assert settle.precheck(elsewhere, 100, buyer.address) == "BadSignature"
