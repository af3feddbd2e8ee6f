"""Three clique signers on 127.0.0.1: deploy and trade, lose one signer (SIGKILL) under traffic, restart it.

Clique seals while floor(N/2)+1 signers are live (a signer seals at most once in any floor(N/2)+1 consecutive
blocks): with 3 signers the other 2 must alternate when one is killed, and no transaction may be lost or repeated.
"""

from __future__ import annotations

import itertools
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest

from energy_chain import ChainClient, ChainConfig
from energy_chain.devchain import deploy_local, dev_signer
from energy_chain.meters import meter_id
from energy_chain.orders import OrderBookClient, Side
from poa.clique.network import CliqueNetwork, block_signer, rpc, start_clique_network
from poa.clique.node import clique_binary

pytestmark = pytest.mark.clique
CHAIN_ID = 1337  # the dev accounts hold the roles (deploy_local); the chain is still a real clique
DEFAULT_GAS = 3_000_000
FLOW_TXS = 60  # transfers sent while a signer is killed
KILLED = 2


@pytest.fixture
def network(tmp_path: Path) -> Iterator[CliqueNetwork]:
    try:
        clique_binary()
    except FileNotFoundError as exc:
        pytest.skip(str(exc))
    net = start_clique_network(3, chain_id=CHAIN_ID, log_dir=tmp_path)
    try:
        yield net
    finally:
        net.stop()
        assert not net.root.exists()


def height(url: str) -> int:
    return int(str(rpc(url, "eth_blockNumber")), 16)


def block(url: str, number: int) -> dict:
    return rpc(url, "eth_getBlockByNumber", [hex(number), False])  # type: ignore[return-value]


def wait_for(condition, timeout_s: float, what: str) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.5)
    raise AssertionError(f"not within {timeout_s}s: {what}")


def test_three_signers_trade_survive_a_killed_signer_and_it_catches_up(network: CliqueNetwork, tmp_path: Path):
    url = network.node(0).url
    client = ChainClient(ChainConfig(rpc_url=url, chain_id=CHAIN_ID, deployments_dir=tmp_path / "deployments",
                                     default_gas=DEFAULT_GAS, timeout_s=120))  # fmt: skip
    deploy_local(client)

    # trade: a prosumer's metered energy sold to a consumer on the order book
    seller, buyer, operator, oracle = (dev_signer(i) for i in (5, 6, 1, 2))
    meter = meter_id("clique-network-meter")
    client.transact(client.contract("MeterRegistry").functions.registerMeter(meter, seller.address), operator)
    interval = client.w3.eth.get_block(client.w3.eth.block_number)["timestamp"] // 900 * 900 - 900
    energy, money = client.contract("EnergyToken"), client.contract("SettlementToken")
    client.transact(energy.functions.recordReading((meter, interval, 5_000, 0)), oracle)
    client.transact(money.functions.topUp(buyer.address, 20_000_000, b"\x03" * 32), operator)
    book = OrderBookClient(client)
    for trader in (seller, buyer):
        book.ensure_approvals(trader)
    ask = book.place(seller, Side.SELL, price=450_000, amount=1_000)
    bid = book.place(buyer, Side.BUY, price=460_000, amount=600)
    assert [(f.maker_id, f.price, f.amount) for f in bid.fills] == [(ask.order_id, 450_000, 600)]
    assert int(energy.functions.balanceOf(buyer.address).call()) == 600

    # traffic: pre-signed transfers from the buyer, sent in small batches while signer 2 is killed
    recipient = dev_signer(7).address
    start_balance = int(money.functions.balanceOf(recipient).call())
    first_nonce = client.pending_nonce(buyer.address)
    raws = [buyer.sign(client.build_tx(money.functions.transfer(recipient, 1), buyer, 80_000, first_nonce + k))
            for k in range(FLOW_TXS)]  # fmt: skip
    hashes: list[str] = []
    first_block = height(url)
    killed_at = 0
    for start in range(0, FLOW_TXS, 10):
        if start == FLOW_TXS // 2:
            network.kill(KILLED)
            killed_at = height(url)
        sent = client.send_raw_batch(raws[start : start + 10])
        assert all(isinstance(h, str) for h in sent), sent
        hashes += [str(h) for h in sent]
        time.sleep(1)
    live = [network.node(0).url, network.node(1).url]
    wait_for(lambda: int(money.functions.balanceOf(recipient).call()) == start_balance + FLOW_TXS, 300,
             f"{FLOW_TXS} transfers mined with signer {KILLED} dead")  # fmt: skip
    wait_for(lambda: min(height(u) for u in live) >= killed_at + 8, 60, "8 blocks sealed by the two live signers")

    # every transfer mined exactly once on the canonical chain, and the chain sealed by the two live signers
    last = min(height(u) for u in live)
    blocks = [rpc(url, "eth_getBlockByNumber", [hex(n), True]) for n in range(first_block, last + 1)]
    included = Counter(tx["hash"] for b in blocks for tx in b["transactions"])  # type: ignore[index]
    assert {h: included[h] for h in hashes} == dict.fromkeys(hashes, 1)
    assert client.pending_nonce(buyer.address) == first_nonce + FLOW_TXS
    after_kill = [block_signer(b) for b in blocks if int(b["number"], 16) > killed_at + 1]  # type: ignore[index]
    assert set(after_kill) == {network.signers[0], network.signers[1]}
    assert all(a != b for a, b in itertools.pairwise(after_kill)), "a signer sealed twice in a row"
    assert block(live[1], last)["hash"] == block(live[0], last)["hash"]

    # the killed signer restarts on its datadir and catches up to the same head
    restarted = network.restart(KILLED).url
    target = max(height(u) for u in live)
    wait_for(lambda: height(restarted) >= target, 90, f"signer {KILLED} back at height {target}")
    assert block(restarted, target)["hash"] == block(url, target)["hash"]
    wait_for(lambda: block_signer(block(url, height(url))) == network.signers[KILLED] or any(
        block_signer(block(url, n)) == network.signers[KILLED] for n in range(target + 1, height(url) + 1)), 60,
        f"signer {KILLED} sealing again")  # fmt: skip
