"""The mandated agent service on the direct venue, on a real anvil with real kademlia nodes on 127.0.0.1: the agent's
DHT node publishes a selling owner's surplus as an offer the agent signs for it, and buys a buying owner's deficit
from it with fill_for (tokens move between the owners; the agent holds nothing); the decision log explains it; an
owner whose mandate does not allow the direct venue is never traded there; a fill the mandate refuses is logged
with the decoded error. Plain pytest (no Brownie plugin); chain and nodes are stopped in `finally`."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from agents import service
from agents.bounds import UserBounds
from agents.decision_log import read, validate
from agents.discovery import DiscoveryNode, LoopThread, chain_verifier
from agents.service_direct import DirectVenue
from energy_chain import ChainClient, ChainConfig
from energy_chain.anvil import start_anvil
from energy_chain.approvals import UNLIMITED
from energy_chain.devchain import deploy_local
from energy_chain.mandate import VENUE_DIRECT, VENUE_ORDER_BOOK, MandateTerms
from energy_chain.meters import meter_id
from tests.agents.test_service import World


@pytest.fixture
def client(tmp_path: Path) -> Iterator[ChainClient]:
    node = start_anvil()
    try:
        c = ChainClient(ChainConfig(rpc_url=node.url, deployments_dir=tmp_path / "deployments"))
        deploy_local(c)
        yield c
    finally:
        node.kill()


@pytest.fixture
def peer(client: ChainClient) -> Iterator[DiscoveryNode]:
    """Another node of the community's DHT (a household's meter) that the service's node joins through."""
    loop = LoopThread()
    node = DiscoveryNode("127.0.0.1", 0, [], chain_verifier(client), rpc_timeout_s=0.5, loop=loop)
    try:
        yield node.start()
    finally:
        node.stop()
        loop.close()


class DirectWorld(World):
    """test_service's world (SVC-1 sells 1 kWh, SVC-2 needs 0.6 kWh, SVC-3 needs 0.6 kWh), every owner approving
    OfferSettlement too, and the agent's DHT node joined to `peer`."""

    def __init__(self, client: ChainClient, tmp: Path, peer: DiscoveryNode) -> None:
        super().__init__(client, tmp)
        settlement = client.deployment.address("OfferSettlement")
        for s in (self.seller, self.buyer, self.outsider):
            for token in (self.energy, self.money):
                client.transact(token.functions.approve(settlement, UNLIMITED), s, gas=100_000)
        env = {"AGENT_DHT_PORT": "0", "AGENT_DHT_BOOTSTRAP": f"127.0.0.1:{peer.port}"}
        self.env, self.peer = env, peer
        self.venue: DirectVenue | None = None

    def grant_on(self, owner, venues: int, **bounds):
        terms = MandateTerms(agent=self.agent.address, venues=venues, **bounds)
        self.mandates.grant(owner, terms)
        return terms

    def direct_runner(self) -> service.MandatedRunner:
        runner = self.runner()
        runner.direct = self.venue = DirectVenue.from_env(self.client, self.agent, runner.meters, L, self.env)
        return runner

    def money_of(self, who) -> int:
        return int(self.money.functions.balanceOf(who.address).call())


L = 900


@pytest.fixture
def world(client: ChainClient, tmp_path: Path, peer: DiscoveryNode) -> Iterator[DirectWorld]:
    w = DirectWorld(client, tmp_path, peer)
    try:
        yield w
    finally:
        if w.venue is not None:
            w.venue.node.stop()


def test_direct_is_off_without_the_dht_settings(world):
    assert DirectVenue.from_env(world.client, world.agent, None, L, {}) is None


def test_the_buyers_deficit_is_filled_from_the_sellers_agent_signed_offer(world):
    world.grant_on(world.seller, VENUE_DIRECT)
    world.grant_on(world.buyer, VENUE_DIRECT)
    world.grant_on(world.outsider, VENUE_ORDER_BOOK)  # no direct bit: never traded there
    agent_wh, agent_money = world.wh(world.agent), world.money_of(world.agent)
    buyer_money = world.money_of(world.buyer)
    runner = world.direct_runner()
    try:
        runner.step()
        # another node of the community verifies the seller's record and offer, signed by the agent, as the
        # seller's; it leaves the offer out only because 600 of the 1 000 Wh offered are sold by now
        now = int(world.client.w3.eth.get_block("latest")["timestamp"])
        assert world.peer.gather(["0x" + meter_id("SVC-1").hex()], now) == []
        assert (world.peer.stats["unfunded"], world.peer.stats["forged"]) == (1, 0)
        assert world.peer.gather(["0x" + meter_id("SVC-3").hex()], now) == []  # the outsider never published
        assert world.peer.stats["missing"] == 1
        offer_sent = world.venue.sellers[world.seller.address.lower()].current[0]
        assert offer_sent.offer.seller == world.seller.address and offer_sent.recover_signer() == world.agent.address
        assert world.wh(world.buyer) == 600 and world.wh(world.seller) == 400
        (buy,) = world.records("decision", world.buyer)
        fills = [a for a in buy["actions"] if a["status"] == "filled"]
        assert [(a["venue"], a["side"], a["filled_wh"]) for a in fills] == [("direct", "buy", 600)]
        assert buyer_money - world.money_of(world.buyer) == fills[0]["cost"] > 0
        assert fills[0]["tx_hash"] and "fill_for" in fills[0]["reason"] and world.seller.address in fills[0]["reason"]
        (sell,) = world.records("decision", world.seller)
        (offer,) = sell["actions"]
        assert (offer["venue"], offer["side"], offer["status"], offer["amount_wh"]) == ("direct", "sell", "placed",
                                                                                         1_000)  # fmt: skip
        assert "signed by the agent" in offer["reason"]
        assert world.money_of(world.seller) == fills[0]["cost"]  # paid by the buyer, to the seller
        (out,) = world.records("decision", world.outsider)
        assert {a["venue"] for a in out["actions"]} == {"order-book"}
        assert world.wh(world.outsider) == 0 and len(world.book.open_orders(world.outsider.address)) == 1
        assert (world.wh(world.agent), world.money_of(world.agent)) == (agent_wh, agent_money)  # holds nothing
        errors = [validate(r) for r in read(world.log)]
        assert not any(errors), errors
    finally:
        runner.stop()


def test_a_fill_the_mandate_refuses_is_logged_with_the_decoded_error(world, monkeypatch):
    """The agent process ignores the buyer's maximum price (as if compromised): fill_for is refused on chain."""
    world.grant_on(world.seller, VENUE_DIRECT)
    world.grant_on(world.buyer, VENUE_DIRECT, max_buy_price=150_000)
    real = service.bounds_of
    monkeypatch.setattr(service, "bounds_of", lambda t: real(t) if t.max_buy_price > 150_000
                        else UserBounds(venues=("direct",)))  # fmt: skip
    runner = world.direct_runner()
    try:
        runner.step()
        assert world.wh(world.buyer) == 0 and world.wh(world.seller) == 1_000
        (buy,) = world.records("decision", world.buyer)
        refused = [a for a in buy["actions"] if a["status"] == "refused"]
        assert refused and refused[0]["venue"] == "direct", buy["actions"]
        assert refused[0]["reason"].startswith("MandatePriceAboveMaximum"), refused
    finally:
        runner.stop()


def test_what_direct_offers_do_not_cover_goes_to_the_market_venue(world):
    world.grant_on(world.seller, VENUE_DIRECT, reserve_wh=700)  # offers only 300 Wh
    world.grant_on(world.buyer, VENUE_DIRECT | VENUE_ORDER_BOOK)
    runner = world.direct_runner()
    try:
        runner.step()
        assert world.wh(world.buyer) == 300 and world.wh(world.seller) == 700
        (buy,) = world.records("decision", world.buyer)
        got = [(a["venue"], a["status"], a["amount_wh"], a["filled_wh"]) for a in buy["actions"]]
        assert got == [("direct", "filled", 300, 300), ("direct", "skipped", 300, 0), ("order-book", "placed", 300, 0)]
        assert "not bought directly: the direct offers did not cover it" in buy["actions"][1]["reason"]
        assert len(world.book.open_orders(world.buyer.address)) == 1
    finally:
        runner.stop()
