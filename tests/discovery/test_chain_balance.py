"""Discovery against a real anvil: owners from MeterRegistry, energy balances from EnergyToken (chain_verifier)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from eth_account import Account

from agents.discovery import DiscoveryNode, LoopThread, chain_verifier, record_key, sign_record
from energy_chain import ChainClient, ChainConfig
from energy_chain.anvil import AnvilProcess, start_anvil
from energy_chain.devchain import deploy_local, dev_key, dev_signer
from energy_chain.meters import meter_id, meter_id_hex
from scripts.register_meters import register_meters
from tests.discovery.conftest import CONTRACT, make_offer

OPERATOR, ORACLE, FIRST_OWNER = 1, 2, 3
SERIALS = [f"dht-chain-{i}" for i in range(6)]
MINTED = {0: 1_000, 1: 400, 2: 0}  # by meter index (the rest hold nothing either)


@pytest.fixture
def anvil() -> Iterator[AnvilProcess]:
    chain = start_anvil()
    try:
        yield chain
    finally:
        chain.kill()


@pytest.fixture
def client(anvil: AnvilProcess, tmp_path: Path) -> ChainClient:
    c = ChainClient(ChainConfig(rpc_url=anvil.url, deployments_dir=tmp_path / "deployments"))
    deploy_local(c)
    owners = [(s, dev_signer(FIRST_OWNER + i).address) for i, s in enumerate(SERIALS)]
    register_meters(c, dev_signer(OPERATOR), owners)
    interval = (int(time.time()) - 600) // 60 * 60  # aligned to the meters' 60 s period (scripts.register_meters)
    readings = [(meter_id(SERIALS[i]), interval, wh, 0) for i, wh in MINTED.items() if wh]
    c.transact(c.contract("EnergyToken").functions.recordReadings(readings), dev_signer(ORACLE))
    return c


def test_balances_and_owners_come_from_the_chain(client: ChainClient) -> None:
    verifier = chain_verifier(client, contract=CONTRACT)
    loop = LoopThread("test-dht-chain")
    nodes: list[DiscoveryNode] = []
    try:
        for i in range(len(SERIALS)):
            bootstrap = [nodes[0].address] if nodes else []
            node = DiscoveryNode(bootstrap=bootstrap, verifier=verifier, key=dev_key(FIRST_OWNER + i), loop=loop)
            nodes.append(node)
            node.start()
        now = int(time.time())
        meters = [meter_id_hex(s) for s in SERIALS]
        offers = {}
        for i, (meter, node) in enumerate(zip(meters, nodes, strict=True)):
            account = Account.from_key(dev_key(FIRST_OWNER + i))
            offers[i] = make_offer(account, now, amount_wh=400, price=100 + i)
            node.publish(meter, [offers[i]])
        buyer = DiscoveryNode(bootstrap=[nodes[0].address], verifier=verifier, loop=loop)
        nodes.append(buyer)
        buyer.start()

        found = {o.offer_hash for o in buyer.gather(meters, now)}
        # Meter 0 holds 1 000 Wh, meter 1 exactly 400 Wh: both cover a 400 Wh offer; the rest hold nothing.
        assert found == {offers[0].offer_hash, offers[1].offer_hash}
        assert buyer.stats["unfunded"] == len(SERIALS) - 2

        # A funded stranger claiming a registered meter: the registry names another owner.
        stranger = Account.from_key(dev_key(9))
        assert client.contract("EnergyToken").functions.balanceOf(stranger.address).call() == 0
        forged = sign_record(meters[0], [make_offer(stranger, now)], stranger.key, 2**50, now, now + 60, 1337)
        assert verifier.owner(meters[0]) == Account.from_key(dev_key(FIRST_OWNER)).address

        async def inject() -> None:
            for node in nodes:
                node.server.storage[record_key(meters[0])] = forged.encode()

        loop.run(inject(), 10)
        assert offers[0].offer_hash not in {o.offer_hash for o in buyer.gather(meters, now)}
        assert buyer.stats["forged"] >= 1
        # An unregistered meter id has no owner: its records are forged by definition.
        assert verifier.owner(meter_id_hex("not-registered")) is None
    finally:
        for node in nodes:
            node.stop()
        loop.close()
