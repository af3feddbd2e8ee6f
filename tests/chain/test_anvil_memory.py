"""anvil's transaction keeper (CHAIN_TX_BLOCKS, opt-in): with it a chain keeps only the last N blocks' transactions
in memory. Older transactions, receipts and logs are gone; recent ones, blocks and state stay, also after a restart.
It slows anvil's memory growth (~23 %, reports/anvil-memory.json) but does not bound it: the demo's supervisor does
(tests/ops/test_supervise.py::test_a_chain_over_its_memory_bound_is_restarted_with_its_state_and_the_services_go_on)."""

from __future__ import annotations

from pathlib import Path

import pytest

from energy_chain import ChainClient, ChainConfig
from energy_chain.anvil import DEFAULT_TX_BLOCKS, anvil_args, free_port, start_anvil
from energy_chain.devchain import deploy_local, dev_signer

REF = b"\x06" * 32


def option(args: list[str], name: str) -> str:
    assert name in args, f"{name} missing from {args}"
    return args[args.index(name) + 1]


def test_the_transaction_keeper_is_opt_in_and_outlives_the_kept_states(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.delenv("CHAIN_TX_BLOCKS", raising=False)
    assert DEFAULT_TX_BLOCKS == 0 and "--transaction-block-keeper" not in anvil_args(free_port())  # keep every tx
    monkeypatch.setenv("CHAIN_TX_BLOCKS", "900")
    assert option(anvil_args(free_port()), "--transaction-block-keeper") == "900"
    assert option(anvil_args(free_port(), tx_blocks=200), "--transaction-block-keeper") == "200"
    # A failure is explained by replaying it: its transaction must outlive its state.
    with pytest.raises(ValueError, match="CHAIN_TX_BLOCKS"):
        anvil_args(free_port(), history_states=128, tx_blocks=64)


def test_old_transactions_are_forgotten_recent_ones_kept(tmp_path: Path):
    node = start_anvil(state_dir=tmp_path / "chain", state_interval=3600, history_states=8, tx_blocks=32)
    try:
        client = ChainClient(ChainConfig(rpc_url=node.url, deployments_dir=tmp_path / "deployments"))
        deploy_local(client)
        operator, money = dev_signer("operator"), client.contract("SettlementToken")
        old = client.transact(money.functions.topUp(operator.address, 5, REF), operator)
        client.w3.provider.make_request("anvil_mine", [hex(100)])
        recent = client.transact(money.functions.topUp(operator.address, 7, REF), operator)
        head = client.w3.eth.block_number
        logs = client.w3.eth.get_logs({"fromBlock": 0, "toBlock": head, "address": money.address})
        blocks = {int(e["blockNumber"]) for e in logs}
        assert int(recent["blockNumber"]) in blocks and int(old["blockNumber"]) not in blocks
        assert client.w3.eth.get_transaction_receipt(recent["transactionHash"])["status"] == 1
        assert (
            client.w3.provider.make_request("eth_getTransactionReceipt", [old["transactionHash"].hex()]).get("result")
            is None
        )
        # Blocks and the current state stay: both top-ups count.
        assert client.w3.eth.get_block(int(old["blockNumber"]))["number"] == int(old["blockNumber"])
        balance = money.functions.balanceOf(operator.address).call()
        assert balance >= 12
    finally:
        node.stop()
    # The demo's state survives a restart from its dump (SIGINT), the recent transaction with it.
    again = start_anvil(state_dir=tmp_path / "chain", state_interval=3600, history_states=8, tx_blocks=32)
    try:
        client = ChainClient(ChainConfig(rpc_url=again.url, deployments_dir=tmp_path / "deployments"))
        assert client.w3.eth.block_number >= head
        assert client.contract("SettlementToken").functions.balanceOf(operator.address).call() == balance
        assert client.w3.eth.get_transaction_receipt(recent["transactionHash"])["status"] == 1
    finally:
        again.stop()
