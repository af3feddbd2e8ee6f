"""End to end: a few simulated meters on anvil with real kademlia nodes on 127.0.0.1 trading directly.

Sellers publish signed offers of their surplus to the DHT; the buyer gathers them, chooses on the six-term objective
(MILP), prechecks and fills on chain. Checked: the deficit is bought from the community with each trade's
explanation; a cancelled offer and an offer that goes short between precheck and fill move the buyer to the next
best without failing the purchase; with no offers (sellers shut down: counter raised, records withdrawn) the whole
deficit is grid energy. Plain pytest (no Brownie plugin); the chain, nodes and loop are stopped in `finally`.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from web3 import Web3

from agents.direct import DirectBuyer, DirectSeller
from agents.discovery import DiscoveryNode, LoopThread, chain_verifier
from energy_chain import ChainClient, ChainConfig, Signer
from energy_chain.anvil import start_anvil
from energy_chain.devchain import deploy_local, fund_traders
from energy_chain.offer_settlement import OfferSettlementClient
from energy_chain.orders import OrderBookClient

SELLERS = 3
SURPLUS_WH = 1_000_000  # each household's energy tokens (a surplus reading at set-up)


@dataclass
class Community:
    chain: ChainClient
    settlement: OfferSettlementClient
    signers: list[Signer]  # 0..SELLERS-1 sell, the last one buys
    meters: list[str]
    nodes: list[DiscoveryNode]
    sellers: list[DirectSeller]
    buyer: DirectBuyer

    def now(self) -> int:
        return int(self.chain.w3.eth.get_block("latest")["timestamp"])

    def energy(self, who: Signer) -> int:
        return int(self.chain.contract("EnergyToken").functions.balanceOf(who.address).call())

    def money(self, who: Signer) -> int:
        return int(self.chain.contract("SettlementToken").functions.balanceOf(who.address).call())


@pytest.fixture(scope="module")
def community(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Community]:
    node = start_anvil(gas_limit=300_000_000)
    loop = LoopThread()
    nodes: list[DiscoveryNode] = []
    try:
        chain = ChainClient(ChainConfig(rpc_url=node.url, deployments_dir=tmp_path_factory.mktemp("direct")))
        deploy_local(chain)
        settlement = OfferSettlementClient(chain)
        signers = [Signer.from_key("0x" + secrets.token_hex(32)) for _ in range(SELLERS + 1)]
        tag = f"DIRECT-{secrets.token_hex(4)}"
        fund_traders(
            chain, signers, OrderBookClient(chain), tag, wh=SURPLUS_WH
        )  # registers meter keccak(tag-i) for each
        meters = ["0x" + Web3.keccak(text=f"{tag}-{i}").hex() for i in range(len(signers))]
        for s in signers:
            nodes.append(
                DiscoveryNode(
                    "127.0.0.1",
                    0,
                    [n.address for n in nodes[:2]],
                    chain_verifier(chain),
                    key=s.account.key,
                    rpc_timeout_s=0.5,
                    loop=loop,
                )
            )
            nodes[-1].start()
        meter_of = {s.address: m for s, m in zip(signers, meters, strict=True)}
        sellers = [DirectSeller(settlement, nodes[i], signers[i], meters[i]) for i in range(SELLERS)]
        buyer = DirectBuyer(settlement, nodes[-1], signers[-1], meters[-1], lambda: meters, meter_of)
        yield Community(chain, settlement, signers, meters, nodes, sellers, buyer)
    finally:
        for n in nodes:
            n.stop()
        loop.close()
        node.kill()


def test_deficit_is_bought_directly_with_explanations(community: Community) -> None:
    c = community
    now = c.now()
    for seller, (wh, price) in zip(c.sellers, [(600, 400_000), (800, 420_000), (500, 500_000)], strict=True):
        seller.publish(wh, price, now - 5)
    buyer = c.signers[-1]
    energy0, money0 = c.energy(buyer), c.money(buyer)
    sellers0 = [c.energy(s) for s in c.signers[:SELLERS]]
    p = c.buyer.buy(1_000, c.now())
    assert p.offers_seen == 3 and p.fallback == ""
    assert p.bought_wh == 1_000 and p.grid_wh == 0 and p.trades
    assert c.energy(buyer) - energy0 == 1_000 and money0 - c.money(buyer) == p.paid_units
    assert sum(t.cost for t in p.trades) == p.paid_units
    sold = [sellers0[i] - c.energy(s) for i, s in enumerate(c.signers[:SELLERS])]
    assert sum(sold) == 1_000
    for t in p.trades:
        assert t.seller in {s.address for s in c.signers[:SELLERS]} and t.amount_wh > 0
        assert t.summary and set(t.scores) and t.round == 1
        assert c.settlement.filled_wh(t.offer_hash) >= t.amount_wh
        assert t.to_json_dict()["offer_hash"] == t.offer_hash
    assert c.buyer.records[-len(p.trades) :] == p.trades
    assert len(c.buyer.history) >= len(p.trades)


def test_gone_offers_move_the_buyer_to_the_next_best(community: Community) -> None:
    c = community
    now = c.now()
    cheap = c.sellers[0].publish(700, 300_000, now - 5)[0]
    c.sellers[1].publish(700, 450_000, now - 5)
    c.sellers[2].publish(700, 460_000, now - 5)
    c.settlement.cancel(cheap, c.signers[0])  # gone on chain, still in the DHT
    p = c.buyer.buy(600, c.now())
    assert p.bought_wh == 600 and p.grid_wh == 0
    assert {"offer_hash": cheap.offer_hash, "seller": c.signers[0].address, "reason": "Gone", "round": 1} in p.skipped
    assert all(t.seller != c.signers[0].address for t in p.trades)


class RacingSettlement(OfferSettlementClient):
    """A real race: right after the buyer's precheck, the chosen sellers move all their energy away."""

    def __init__(self, chain: ChainClient, victims: list[Signer], sink: str) -> None:
        super().__init__(chain)
        self.victims, self.sink, self.raced = victims, sink, False

    def precheck_many(self, fills, buyer_address):  # type: ignore[no-untyped-def]
        reasons = super().precheck_many(fills, buyer_address)
        if not self.raced:
            self.raced = True
            token = self.chain.contract("EnergyToken")
            chosen = {s.offer.seller for s, _ in fills}
            for v in (v for v in self.victims if v.address in chosen):
                have = int(token.functions.balanceOf(v.address).call())
                self.chain.transact(token.functions.transfer(self.sink, have), v, gas=100_000)
        return reasons


def test_offer_short_at_fill_time_is_skipped_and_re_solved(community: Community) -> None:
    c = community
    now = c.now()
    best = c.sellers[0].publish(900, 350_000, now - 5)[0]  # cheapest and big enough alone: chosen first
    c.sellers[1].publish(900, 480_000, now - 5)
    c.sellers[2].publish(900, 490_000, now - 5)
    racing = RacingSettlement(c.chain, [c.signers[0]], c.signers[1].address)
    buyer = DirectBuyer(racing, c.nodes[-1], c.signers[-1], c.meters[-1], lambda: c.meters, c.buyer.meter_of)
    p = buyer.buy(800, c.now())
    assert p.bought_wh == 800 and p.grid_wh == 0, p
    assert any(s["offer_hash"] == best.offer_hash and s["reason"] == "SellerBalanceShort" for s in p.skipped)
    assert p.rounds >= 2 and all(t.round >= 2 for t in p.trades)
    assert all(t.seller != c.signers[0].address for t in p.trades)
    # give the first seller its energy back for the next test
    token = c.chain.contract("EnergyToken")
    c.chain.transact(token.functions.transfer(c.signers[0].address, 900_000), c.signers[1], gas=100_000)


def test_a_seller_reuses_the_salt_of_its_expired_offer(community: Community) -> None:
    """The next offer after one has ended goes on the same (seller, salt) lane: its first fill rewrites a used word
    (the cheap "one fill" of docs/offers.md) and fills stay per offer."""
    c = community
    seller, buyer = c.sellers[0], c.signers[-1]
    t = c.now() + 10_000  # beyond every earlier offer of this seller
    c.chain.w3.provider.make_request("evm_mine", [t])
    first = seller.publish(700, 300_000, t - 5)[0]
    c.settlement.fill(first, 400, buyer)  # on chain directly: the DHT's clock is the wall clock, not this chain's
    assert c.settlement.filled_wh(first) == 400
    c.chain.w3.provider.make_request("evm_mine", [first.offer.valid_until + 1])  # the first offer has ended
    second = seller.publish(600, 300_000, first.offer.valid_until)[0]
    # On the salt of one of this seller's ended offers (the one that ended first): a used word, free since then.
    fingerprint, until, _, _ = c.settlement.contract.functions.laneOf(seller.signer.address, second.offer.salt).call()
    assert int.from_bytes(fingerprint, "big") != 0 and until <= second.offer.valid_from
    result = c.settlement.fill(second, 500, buyer)
    assert result.amount_wh == 500 and result.gas_used < 90_000  # rewrites the lane's word: no fresh slot
    assert c.settlement.filled_wh(second) == 500
    assert c.settlement.filled_wh(first) == (0 if second.offer.salt == first.offer.salt else 400)
    assert c.settlement.precheck(first, 100, buyer.address) == "Expired"


def test_no_offers_means_grid_and_shutdown_voids_everything(community: Community) -> None:
    c = community
    now = c.now()
    old = [s.publish(500, 400_000, now - 5)[0] for s in c.sellers]
    for s in c.sellers:
        assert s.shutdown() > 0
    buyer = c.signers[-1]
    assert all(c.settlement.precheck(o, 100, buyer.address) == "Voided" for o in old)
    energy0 = c.energy(buyer)
    p = c.buyer.buy(700, c.now())
    assert (p.bought_wh, p.grid_wh, p.fallback, p.trades) == (0, 700, "no offers", [])
    assert c.energy(buyer) == energy0
    assert c.buyer.buy(5, c.now()).fallback == "below minimum"
