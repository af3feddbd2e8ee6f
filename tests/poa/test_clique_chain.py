"""The project on a real clique PoA chain: deployed by the unchanged deploy script, then used through ChainClient."""

from __future__ import annotations

import sys
import time

import pytest
from web3.exceptions import Web3RPCError
from web3.logs import DISCARD

from energy_chain import ChainClient, Signer, TxFailed
from energy_chain.deploy import CONTRACTS, deploy_all, roles_from_env
from energy_chain.meters import meter_id
from poa.clique.genesis import clique_signers
from tests.poa.conftest import CLIQUE_CHAIN_ID, DEFAULT_GAS, CliqueDeployment, run_project

pytestmark = pytest.mark.clique
REF = b"\x01" * 32


def test_chain_is_clique_with_the_node_as_only_signer(client: ChainClient, clique_deployment: CliqueDeployment):
    genesis = client.w3.eth.get_block(0)
    assert client.w3.eth.chain_id == CLIQUE_CHAIN_ID
    assert clique_signers(genesis["proofOfAuthorityData"]) == [clique_deployment.node.signer]
    assert "baseFeePerGas" not in client.w3.eth.get_block("latest")  # berlin: no EIP-1559


def test_node_cannot_estimate_gas(client: ChainClient, operator: Signer):
    """The limitation DEFAULT_GAS exists for; if a newer client fixes it this test says so."""
    with pytest.raises(Web3RPCError):
        client.w3.eth.estimate_gas({"from": operator.address, "to": operator.address, "value": 0})


def test_deploy_script_records_every_contract_with_code(client: ChainClient, clique_deployment: CliqueDeployment):
    record = clique_deployment.record
    assert record.chain_id == CLIQUE_CHAIN_ID
    assert set(record.contracts) == {name for name, _ in CONTRACTS}
    for name in record.contracts:
        assert len(client.w3.eth.get_code(record.address(name))) > 0, name
    assert record.roles == {
        "admin": resolve_roles_admin(clique_deployment),
        "operator": clique_deployment.env["OPERATOR_ADDRESS"],
        "oracle": clique_deployment.env["ORACLE_ADDRESS"],
    }


def resolve_roles_admin(dep: CliqueDeployment) -> str:
    with pytest.MonkeyPatch.context() as mp:
        for k, v in dep.env.items():
            mp.setenv(k, v)
        return roles_from_env(CLIQUE_CHAIN_ID).admin


def test_roles_are_granted_to_the_configured_addresses(client: ChainClient, clique_deployment: CliqueDeployment):
    money = client.contract("SettlementToken")
    energy = client.contract("EnergyToken")
    operator_role = money.functions.OPERATOR_ROLE().call()
    oracle_role = energy.functions.ORACLE_ROLE().call()
    assert money.functions.hasRole(operator_role, clique_deployment.env["OPERATOR_ADDRESS"]).call()
    assert energy.functions.hasRole(oracle_role, clique_deployment.env["ORACLE_ADDRESS"]).call()
    assert not energy.functions.hasRole(oracle_role, clique_deployment.env["OPERATOR_ADDRESS"]).call()


def test_deploying_again_changes_nothing(client: ChainClient, clique_deployment: CliqueDeployment):
    with pytest.MonkeyPatch.context() as mp:
        for k, v in clique_deployment.env.items():
            mp.setenv(k, v)
        again = deploy_all(client, quiet=True)
    assert {n: c["address"] for n, c in again.contracts.items()} == {
        n: c["address"] for n, c in clique_deployment.record.contracts.items()
    }


def test_transact_without_gas_falls_back_to_default_gas(client: ChainClient, operator: Signer):
    money = client.contract("SettlementToken")
    holder = Signer.from_key(b"\x07" * 32).address
    receipt = client.transact(money.functions.topUp(holder, 1_500_000, REF), operator)
    assert receipt["status"] == 1
    assert client.w3.eth.get_transaction(receipt["transactionHash"])["gas"] == DEFAULT_GAS
    assert money.functions.balanceOf(holder).call() == 1_500_000


def test_without_default_gas_the_estimation_error_surfaces(clique_deployment: CliqueDeployment, operator: Signer):
    client = clique_deployment.client(default_gas=None)
    money = client.contract("SettlementToken")
    with pytest.raises(Web3RPCError):
        client.transact(money.functions.topUp(operator.address, 1, REF), operator)


def test_revert_is_caught_before_a_nonce_is_used(client: ChainClient, operator: Signer):
    money = client.contract("SettlementToken")
    nonce_before = client.pending_nonce(operator.address)
    with pytest.raises(TxFailed) as info:
        client.transact(money.functions.topUp(operator.address, 0, REF), operator)
    assert info.value.error_name == "SettlementTokenZeroAmount"
    assert info.value.tx_hash is None
    assert client.pending_nonce(operator.address) == nonce_before


def test_role_error_is_decoded_with_its_arguments(client: ChainClient, oracle: Signer):
    money = client.contract("SettlementToken")
    with pytest.raises(TxFailed) as info:
        client.transact(money.functions.topUp(oracle.address, 5, REF), oracle)
    assert info.value.error_name == "AccessControlUnauthorizedAccount"
    assert info.value.error.args["account"].lower() == oracle.address.lower()


def test_mined_revert_is_decoded_from_the_receipt(client: ChainClient, operator: Signer):
    money = client.contract("SettlementToken")
    with pytest.raises(TxFailed) as info:
        client.transact(money.functions.topUp(operator.address, 0, REF), operator, gas=200_000)
    assert info.value.error_name == "SettlementTokenZeroAmount"
    assert client.w3.eth.get_transaction_receipt(info.value.tx_hash)["status"] == 0


def test_type2_transactions_are_rejected(client: ChainClient, operator: Signer):
    """Why every project transaction is legacy (type 0) with gasPrice 0."""
    tx = {
        "to": operator.address,
        "value": 0,
        "gas": 21_000,
        "maxFeePerGas": 0,
        "maxPriorityFeePerGas": 0,
        "nonce": client.pending_nonce(operator.address),
        "chainId": client.chain_id,
    }
    with pytest.raises(Web3RPCError):
        client.send_raw(operator.sign(tx))


def test_confirmations_wait_for_later_blocks(clique_deployment: CliqueDeployment, operator: Signer):
    client = clique_deployment.client(confirmations=2)
    money = client.contract("SettlementToken")
    receipt = client.transact(money.functions.topUp(operator.address, 1, REF), operator)
    assert client.w3.eth.block_number >= receipt["blockNumber"] + 2


def test_meter_reading_mints_energy_to_the_owner(client: ChainClient, operator: Signer, oracle: Signer):
    registry, energy = client.contract("MeterRegistry"), client.contract("EnergyToken")
    owner = Signer.from_key(b"\x08" * 32).address
    meter = meter_id(f"clique-meter-{time.time_ns()}")
    client.transact(registry.functions.registerMeter(meter, owner), operator)
    interval = client.w3.eth.get_block("latest")["timestamp"] - 900
    receipt = client.transact(energy.functions.recordReading((meter, interval, 1_234, 0)), oracle)
    assert energy.functions.balanceOf(owner).call() == 1_234
    (event,) = energy.events.ReadingRecorded().process_receipt(receipt, errors=DISCARD)
    assert (event.args.meterId, event.args.interval, event.args.owner, event.args.mintedWh) == (
        meter,
        interval,
        owner,
        1_234,
    )
    logs = energy.events.ReadingRecorded().get_logs(
        from_block=receipt["blockNumber"], argument_filters={"meterId": meter}
    )
    assert len(logs) == 1


def test_repeated_reading_is_refused_with_the_named_error(client: ChainClient, operator: Signer, oracle: Signer):
    registry, energy = client.contract("MeterRegistry"), client.contract("EnergyToken")
    meter = meter_id(f"clique-meter-{time.time_ns()}")
    client.transact(registry.functions.registerMeter(meter, operator.address), operator)
    interval = client.w3.eth.get_block("latest")["timestamp"] - 900
    client.transact(energy.functions.recordReading((meter, interval, 10, 0)), oracle)
    with pytest.raises(TxFailed) as info:
        client.transact(energy.functions.recordReading((meter, interval, 10, 0)), oracle)
    assert info.value.error_name == "EnergyTokenReadingAlreadyRecorded"


def test_a_presigned_batch_is_mined_in_nonce_order(client: ChainClient, operator: Signer):
    money = client.contract("SettlementToken")
    holders = [Signer.from_key(bytes([9, i]) + bytes(30)).address for i in range(20)]
    nonces = operator.reserve(len(holders), client.pending_nonce)
    raws = [
        operator.sign(client.build_tx(money.functions.topUp(h, 10, REF), operator, 150_000, nonce=n))
        for h, n in zip(holders, nonces, strict=True)
    ]
    hashes = client.send_raw_batch(raws)
    assert all(isinstance(h, str) for h in hashes), hashes
    receipts = client.wait_for_receipts(hashes)  # type: ignore[arg-type]
    assert all(r["status"] == "0x1" for r in receipts.values())
    assert [money.functions.balanceOf(h).call() for h in holders] == [10] * len(holders)


def test_logs_are_filtered_by_indexed_arguments(client: ChainClient, operator: Signer, oracle: Signer):
    """eth_getLogs must honour topic filters beyond the event signature (patched into ethereumjs 0.10.2)."""
    registry, energy = client.contract("MeterRegistry"), client.contract("EnergyToken")
    meters = [meter_id(f"clique-logs-{time.time_ns()}-{i}") for i in range(2)]
    interval = client.w3.eth.get_block("latest")["timestamp"] - 900
    first_block = client.w3.eth.block_number
    for meter in meters:
        client.transact(registry.functions.registerMeter(meter, operator.address), operator)
        client.transact(energy.functions.recordReading((meter, interval, 5, 0)), oracle)
    event = energy.events.ReadingRecorded()
    both = event.get_logs(from_block=first_block, argument_filters={"meterId": meters})
    one = event.get_logs(from_block=first_block, argument_filters={"meterId": meters[1]})
    other_owner = event.get_logs(from_block=first_block, argument_filters={"owner": oracle.address})
    assert sorted(e.args.meterId for e in both) == sorted(meters)
    assert [e.args.meterId for e in one] == [meters[1]]
    assert other_owner == []


def test_with_node_runs_a_command_against_a_fresh_chain(tmp_path):
    out = tmp_path / "env.txt"
    code = "import os,sys; open(sys.argv[1],'w').write(os.environ['RPC_URL']+' '+os.environ['CHAIN_ID']); sys.exit(3)"
    run = run_project(["poa.clique.with_node", "--chain-id", "4343", "--", sys.executable, "-c", code, str(out)], {})
    assert run.returncode == 3, run.stderr
    url, chain_id = out.read_text().split()
    assert url.startswith("http://127.0.0.1:") and chain_id == "4343"


def test_a_just_sent_transaction_is_known_before_it_is_mined(client: ChainClient, operator: Signer):
    """eth_getTransactionByHash must know pending transactions (patched into ethereumjs 0.10.2)."""
    money = client.contract("SettlementToken")
    tx_hash = client.send(money.functions.topUp(operator.address, 1, REF), operator, gas=150_000)
    seen = client.w3.eth.get_transaction(tx_hash)  # raises TransactionNotFound if the node forgot it
    assert seen["hash"].to_0x_hex() == tx_hash
    assert client.wait_for_receipt(tx_hash)["status"] == 1
