"""A chain the project starts writes nothing outside the clone, keeps only recent states, dumps a compact state
file, and is gone once stopped (issue: anvil offloaded old states into ~/.foundry/anvil/tmp, gigabytes per run)."""

from __future__ import annotations

import json
import secrets
from pathlib import Path

import pytest
from web3.exceptions import Web3RPCError

from energy_chain import ChainClient, ChainConfig, Signer, TxFailed
from energy_chain.anvil import anvil_args, free_port, start_anvil
from energy_chain.devchain import deploy_local, dev_signer

HISTORY = 16
REF = b"\x05" * 32


def files_under(path: Path) -> list[Path]:
    return sorted(p for p in path.rglob("*")) if path.exists() else []


def test_a_chain_writes_nothing_into_home_and_stops(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))  # anvil resolves ~/.foundry from HOME
    state = tmp_path / "chain"
    # Transactions kept longer than the 700 blocks mined below (their bound: tests/chain/test_anvil_memory.py).
    node = start_anvil(state_dir=state, state_interval=3600, history_states=HISTORY, tx_blocks=1000)
    try:
        client = ChainClient(ChainConfig(rpc_url=node.url, deployments_dir=tmp_path / "deployments"))
        deploy_local(client)
        operator, holder = dev_signer("operator"), Signer.from_key("0x" + secrets.token_hex(32))
        money = client.contract("SettlementToken")
        client.transact(money.functions.topUp(holder.address, 7, REF), operator)
        failed = client.send(money.functions.withdraw(8, REF), holder, gas=100_000)
        with pytest.raises(TxFailed):
            client.wait_for_receipt(failed)
        first = client.w3.eth.block_number
        # Far more blocks than anvil keeps in memory by default (it offloads the rest to disk unless pruned).
        client.w3.provider.make_request("anvil_mine", [hex(700)])
        head = client.w3.eth.block_number
        assert head >= first + 700
        # Recent states answer; pruned ones are refused — and blocks, receipts and logs are all still there.
        assert money.functions.balanceOf(holder.address).call(block_identifier=head - HISTORY // 2) == 7
        with pytest.raises(Web3RPCError, match="BlockOutOfRange"):
            money.functions.balanceOf(holder.address).call(block_identifier=first)
        assert client.w3.eth.get_block(1)["number"] == 1
        assert client.w3.eth.get_transaction_receipt(failed)["status"] == 0
        assert client.w3.eth.get_logs({"fromBlock": 0, "toBlock": head, "address": money.address})
        # A failure older than the kept history is reported without a reason, not with a wrong one.
        old = client.explain_failure(failed)
        assert old.error is None and "reverted" in str(old)
    finally:
        node.stop()
    assert node.process.poll() is not None
    assert files_under(home) == []  # no ~/.foundry/anvil/tmp, nothing else either
    assert [p.name for p in files_under(state)] == ["state.json"]
    dump = json.loads((state / "state.json").read_text())
    assert not dump.get("historical_states")  # one state, not one per block


def test_every_chain_is_pruned_and_keeps_no_disk_cache():
    args = anvil_args(free_port())
    assert args[args.index("--prune-history") + 1] == "128"
    assert "--preserve-historical-states" not in args
    with pytest.raises(ValueError, match="CHAIN_HISTORY_STATES"):
        anvil_args(free_port(), history_states=0)
