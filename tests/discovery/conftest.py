"""Fixtures of the discovery tests: real kademlia nodes on 127.0.0.1 (free UDP ports), one shared asyncio loop."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import pytest
from eth_account import Account
from eth_account.signers.local import LocalAccount

from agents.discovery import DiscoveryNode, LoopThread, Verifier
from energy_chain.meters import meter_id_hex
from energy_chain.offers import Offer, SignedOffer, sign_offer

CHAIN_ID = 1337
CONTRACT = "0x" + "c0" * 20  # the OfferSettlement of the domain; discovery never calls it


def make_offer(
    account: LocalAccount, now: int, amount_wh: int = 500, price: int = 120, life_s: int = 600
) -> SignedOffer:
    return sign_offer(
        Offer.new(account.address, price, amount_wh, now - 5, now + life_s), account.key, CHAIN_ID, CONTRACT
    )


@dataclass
class Community:
    """Meters (serial -> id), their owners' accounts and nodes; balances and owners are what the verifier reads."""

    loop: LoopThread
    accounts: list[LocalAccount] = field(default_factory=list)
    meters: list[str] = field(default_factory=list)
    nodes: list[DiscoveryNode] = field(default_factory=list)
    owners: dict[str, str] = field(default_factory=dict)
    balances: dict[str, int] = field(default_factory=dict)

    def verifier(self) -> Verifier:
        return Verifier(CHAIN_ID, CONTRACT, lambda a: self.balances.get(a, 0), lambda m: self.owners.get(m))

    def add_node(self, key: bytes | None = None, record_ttl_s: int = 300) -> DiscoveryNode:
        bootstrap = [n.address for n in self.nodes[:3]]
        node = DiscoveryNode(
            "127.0.0.1",
            0,
            bootstrap,
            self.verifier(),
            key=key,
            record_ttl_s=record_ttl_s,
            rpc_timeout_s=0.5,
            loop=self.loop,
        )
        self.nodes.append(node)  # before start: a failed start is still stopped by the fixture
        return node.start()

    def add_meter(self, record_ttl_s: int = 300, balance_wh: int = 10_000) -> tuple[str, LocalAccount, DiscoveryNode]:
        account = Account.create()
        meter = meter_id_hex(f"meter-{len(self.meters)}-{account.address}")
        self.accounts.append(account)
        self.meters.append(meter)
        self.owners[meter] = account.address
        self.balances[account.address] = balance_wh
        return meter, account, self.add_node(account.key, record_ttl_s)


@pytest.fixture
def loop() -> Iterator[LoopThread]:
    lt = LoopThread("test-dht")
    try:
        yield lt
    finally:
        lt.close()


@pytest.fixture
def community(loop: LoopThread) -> Iterator[Callable[..., Community]]:
    """A factory: community(n) starts n meter nodes; every node is stopped in finally."""
    made: list[Community] = []

    def build(n: int = 20, record_ttl_s: int = 300) -> Community:
        c = Community(loop)
        made.append(c)
        for _ in range(n):
            c.add_meter(record_ttl_s)
        return c

    try:
        yield build
    finally:
        for c in made:
            for node in c.nodes:
                node.stop()


def now_s() -> int:
    return int(time.time())
