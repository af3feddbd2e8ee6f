"""The mandated agent service on a real anvil (automine) with an injected clock: one agent key trades for the owners
that granted it a mandate, within the mandate's bounds, and logs why; a revoke stops it; a restart never trades
an interval twice."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from agents import service
from agents.bounds import UserBounds
from agents.decision_log import DecisionLog, ResumeState, read, validate
from agents.service import MandatedRunner
from energy_chain import ChainClient, ChainConfig
from energy_chain.anvil import start_anvil
from energy_chain.approvals import UNLIMITED
from energy_chain.devchain import deploy_local, dev_signer
from energy_chain.mandate import VENUE_ORDER_BOOK, MandateClient, MandateTerms
from energy_chain.meters import meter_id
from energy_chain.orders import OrderBookClient
from scripts.register_meters import register_meters

L = 900


@pytest.fixture
def client(tmp_path: Path) -> Iterator[ChainClient]:
    node = start_anvil()
    try:
        c = ChainClient(ChainConfig(rpc_url=node.url, deployments_dir=tmp_path / "deployments"))
        deploy_local(c)
        yield c
    finally:
        node.kill()


class World:
    """Seller (SVC-1, 1 kWh surplus last interval), buyer (SVC-2, 0.6 kWh need) and an outsider (SVC-3, 0.6 kWh
    need, no mandate); all approved the book and hold money; the agent is the dev "agent" key."""

    def __init__(self, client: ChainClient, tmp: Path) -> None:
        self.client, self.tmp = client, tmp
        self.seller, self.buyer, self.outsider = dev_signer(3), dev_signer(4), dev_signer(5)
        self.agent, operator = dev_signer("agent"), dev_signer(1)
        self.serials = {"SVC-1": self.seller, "SVC-2": self.buyer, "SVC-3": self.outsider}
        register_meters(client, operator, [(s, o.address) for s, o in self.serials.items()])
        self.energy, self.money = client.contract("EnergyToken"), client.contract("SettlementToken")
        book = client.deployment.address("OrderBook")
        for i, s in enumerate((self.buyer, self.outsider)):
            client.transact(self.money.functions.topUp(s.address, 10**9, bytes([i + 2]) * 32), operator, gas=120_000)
        for s in (self.seller, self.buyer, self.outsider):
            for token in (self.energy, self.money):
                client.transact(token.functions.approve(book, UNLIMITED), s, gas=100_000)
        now = int(client.w3.eth.get_block("latest")["timestamp"])
        self.start = now // L * L
        self.read(self.start - L, {"SVC-1": (1_000, 0), "SVC-2": (0, 600), "SVC-3": (0, 600)})
        self.clock = [float(self.start + 5)]
        self.mandates = MandateClient(client)
        self.book = OrderBookClient(client)
        self.log, self.state = tmp / "decisions.jsonl", tmp / "state.json"

    def read(self, interval: int, values: dict[str, tuple[int, int]]) -> None:
        rows = [(meter_id(s), interval, g, d) for s, (g, d) in values.items()]
        self.client.transact(self.energy.functions.recordReadings(rows), dev_signer(2), gas=2_000_000)

    def grant(self, owner, **bounds) -> MandateTerms:
        terms = MandateTerms(agent=self.agent.address, venues=VENUE_ORDER_BOOK, **bounds)
        self.mandates.grant(owner, terms)
        return terms

    def runner(self) -> MandatedRunner:
        return MandatedRunner(self.client, self.agent, L, DecisionLog(self.log, lambda: self.clock[0]),
                              ResumeState.load(self.state, self.log), clock=lambda: self.clock[0],
                              venues=("order-book",), lookback_blocks=10**6, serials=list(self.serials))  # fmt: skip

    def records(self, kind: str | None = None, owner=None) -> list[dict]:
        return [r for r in read(self.log) if (kind is None or r["kind"] == kind)
                and (owner is None or r["owner"] == owner.address)]  # fmt: skip

    def wh(self, who) -> int:
        return int(self.energy.functions.balanceOf(who.address).call())


@pytest.fixture
def world(client: ChainClient, tmp_path: Path) -> World:
    return World(client, tmp_path)


def test_owners_with_a_mandate_are_traded_for_and_others_never(world):
    world.grant(world.seller)
    world.grant(world.buyer)
    runner = world.runner()
    runner.step()
    assert world.wh(world.buyer) == 600  # bought for the buyer, from the seller, by the agent key
    assert world.wh(world.seller) == 0 and len(world.book.open_orders(world.seller.address)) == 1  # 400 Wh left
    assert world.wh(world.outsider) == 0 and world.book.open_orders(world.outsider.address) == []
    assert world.records(owner=world.outsider) == []
    (buy,) = world.records("decision", world.buyer)
    assert buy["interval"] == world.start and buy["meter"] == "SVC-2"
    assert [(a["side"], a["status"], a["filled_wh"]) for a in buy["actions"]] == [("buy", "filled", 600)]
    assert "Buying 0.600 kWh" in buy["explanation"] and "community metered 1.000 kWh" in buy["explanation"]
    (sell,) = world.records("decision", world.seller)
    assert [(a["side"], a["status"], a["amount_wh"]) for a in sell["actions"]] == [("sell", "placed", 1_000)]
    assert sell["balances"] == {"energy_wh": 1_000, "money": 0}
    assert {r["status"] for r in world.records("state")} == {"started"}
    world.clock[0] = world.start + L - 10
    runner.step()  # the leftover is cancelled for the owner before the boundary
    assert world.wh(world.seller) == 400 and world.book.open_orders(world.seller.address) == []
    world.read(world.start, {"SVC-2": (0, 0)})
    world.clock[0] = world.start + L + 5
    runner.step()
    (actual,) = world.records("actual", world.buyer)[-1:]
    assert actual["interval"] == world.start and (actual["generation_wh"], actual["load_wh"]) == (0, 0)
    errors = {i: validate(r) for i, r in enumerate(read(world.log))}
    assert all(not e for e in errors.values()), errors


def test_a_revoke_stops_trading_at_the_next_interval(world):
    world.grant(world.seller)
    world.grant(world.buyer)
    runner = world.runner()
    runner.step()
    assert len(world.records("decision", world.buyer)) == 1
    world.mandates.revoke(world.buyer)
    world.read(world.start, {"SVC-1": (1_000, 0), "SVC-2": (0, 600)})
    world.clock[0] = world.start + L + 5
    runner.step()
    assert world.wh(world.buyer) == 0  # its 600 Wh went to its metered need; nothing more bought for it
    assert world.book.open_orders(world.buyer.address) == []
    assert [r["interval"] for r in world.records("decision", world.buyer)] == [world.start]
    (revoked,) = [r for r in world.records("state", world.buyer) if r["status"] == "revoked"]
    assert revoked["interval"] == world.start + L and "revoked" in revoked["message"]
    assert [r["interval"] for r in world.records("decision", world.seller)] == [world.start, world.start + L]


def test_a_revoke_between_the_decision_and_the_placement_skips_the_order(world, monkeypatch):
    world.grant(world.buyer)
    world.grant(world.seller, reserve_wh=1_000)  # nothing to sell: the buyer's order rests in the book
    runner = world.runner()
    real = runner.live_terms
    calls = {"n": 0}

    def revoked_at_placement(owner: str):
        calls["n"] += 1
        if owner == world.buyer.address and calls["n"] > 2:  # after accounts() read both owners
            world.mandates.revoke(world.buyer)
        return real(owner)

    monkeypatch.setattr(runner, "live_terms", revoked_at_placement)
    runner.step()
    (buy,) = world.records("decision", world.buyer)
    assert [(a["status"], a["reason"]) for a in buy["actions"]] == [("skipped", "Not sent: the mandate was revoked "
                                                                     "meanwhile.")]  # fmt: skip
    assert world.book.open_orders(world.buyer.address) == []


def test_the_max_buy_price_bound_is_applied_and_explained(world):
    world.grant(world.seller)
    world.grant(world.buyer, max_buy_price=150_000)  # 15 sen/kWh: below the grid's feed-in of 20
    world.runner().step()
    assert world.wh(world.buyer) == 0
    (buy,) = world.records("decision", world.buyer)
    assert buy["actions"] == [] and buy["intent"]["buy_wh"] == 0
    assert buy["bounds"]["max_buy_price"] == 150_000
    assert "above the maximum buy price bound of 15.00 sen/kWh" in buy["explanation"], buy["explanation"]


def test_the_chain_refuses_what_a_compromised_agent_tries_outside_the_bounds(world, monkeypatch):
    """The agent process ignores the bounds (as if compromised): the mandate contract refuses, the log says why."""
    world.grant(world.seller)
    world.grant(world.buyer, max_buy_price=150_000)
    monkeypatch.setattr(service, "bounds_of", lambda terms: UserBounds(venues=("order-book",)))
    world.runner().step()
    assert world.wh(world.buyer) == 0
    (buy,) = world.records("decision", world.buyer)
    (action,) = buy["actions"]
    assert action["status"] == "refused" and "MandatePriceAboveMaximum" in action["reason"], action


def test_a_restart_does_not_repeat_an_interval(world):
    world.grant(world.seller)
    world.grant(world.buyer)
    world.runner().step()
    placed = len(world.records("decision"))
    assert placed == 2 and len(world.book.open_orders(world.seller.address)) == 1
    state = json.loads(world.state.read_text())["owners"]
    assert state[world.buyer.address.lower()]["traded"] == world.start
    restarted = world.runner()  # a new process: same log and state file
    restarted.step()
    assert len(world.records("decision")) == placed and world.wh(world.buyer) == 600
    assert len(world.book.open_orders(world.seller.address)) == 1
    world.clock[0] = world.start + L - 10
    restarted.step()  # the order the first process left open is still cancelled before the boundary
    assert world.book.open_orders(world.seller.address) == [] and world.wh(world.seller) == 400
    world.state.unlink()  # even without the state file the log says what was traded
    again = world.runner()
    world.clock[0] = world.start + 20
    again.step()
    assert len(world.records("decision")) == placed


def test_terms_map_to_bounds_and_selection_weights():
    terms = MandateTerms(agent="0x" + "11" * 20, min_sell_price=1, max_buy_price=2, reserve_wh=3, daily_spend_cap=4,
                         venues=VENUE_ORDER_BOOK, weights=(1, 2, 3, 4, 5, 6))  # fmt: skip
    assert service.bounds_of(terms) == UserBounds(1, 2, 3, 4, ("order-book",))
    weights = service.weights_of(terms)
    assert weights["surplus"] == 1 and weights["cost"] == 6 and weights["availability"] > 6
    assert replace(terms, venues=7).venue_names() == ("order-book", "auction", "direct")
