"""The live runner: the same agents on a real anvil (automine) with an injected clock."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from agents.agent import AgentConfig, TradingAgent
from agents.bounds import UserBounds
from agents.forecast import PersistenceForecaster
from agents.live import LiveAgent, LiveRunner
from agents.pricing import SupplyDemandRatioPricing
from energy_chain import ChainClient, ChainConfig
from energy_chain.anvil import start_anvil
from energy_chain.approvals import UNLIMITED
from energy_chain.devchain import deploy_local, dev_signer
from energy_chain.meters import meter_id
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


def test_live_runner_trades_then_cancels_the_rest_before_the_boundary(client):
    seller, buyer, operator, oracle = dev_signer(3), dev_signer(4), dev_signer(1), dev_signer(2)
    register_meters(client, operator, [("LIVE-1", seller.address), ("LIVE-2", buyer.address)])
    money, energy = client.contract("SettlementToken"), client.contract("EnergyToken")
    client.transact(money.functions.topUp(buyer.address, 10**9, b"\x02" * 32), operator, gas=120_000)
    for s in (seller, buyer):
        for token in (energy, money):
            client.transact(token.functions.approve(client.deployment.address("OrderBook"), UNLIMITED), s,
                            gas=100_000)  # fmt: skip
    now = int(client.w3.eth.get_block("latest")["timestamp"])
    start = now // L * L
    readings = [(meter_id("LIVE-1"), start - L, 1_000, 0), (meter_id("LIVE-2"), start - L, 0, 600)]
    client.transact(energy.functions.recordReadings(readings), oracle, gas=2_000_000)
    clock = [float(start + 5)]

    def agent(s, serial):
        config = AgentConfig(serial, UserBounds(), SupplyDemandRatioPricing(), PersistenceForecaster())
        return LiveAgent(TradingAgent(config, s.address, clock=lambda: clock[0]), s, serial)

    runner = LiveRunner(client, [agent(seller, "LIVE-1"), agent(buyer, "LIVE-2")], "order-book", L,
                        clock=lambda: clock[0])  # fmt: skip
    runner._from_block = 1
    runner.step()
    assert energy.functions.balanceOf(buyer.address).call() == 600  # bought ahead of its expected deficit
    assert energy.functions.balanceOf(seller.address).call() == 0  # 400 still offered in the book
    runner.step()  # same interval: nothing new
    clock[0] = start + L - 10
    runner.step()
    assert energy.functions.balanceOf(seller.address).call() == 400  # leftover cancelled before the boundary
    assert runner.agents[1].agent.energy_wh == 600 and runner.agents[0].agent.money == 120_000  # 600 Wh at 0.20
