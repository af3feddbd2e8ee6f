"""ChainClient and the codec against a real anvil: send/transact return types, calldata, logs, and revert replay at
the state the failed transaction met (the transactions mined before it in its block included)."""

from __future__ import annotations

import secrets

import pytest

from energy_chain import Signer, TxFailed
from energy_chain.codec import Codec, calldata
from energy_chain.devchain import dev_signer, local_chain

REF = b"\x07" * 32


@pytest.fixture(scope="module")
def chain():
    """Deployed on instant mining (~9 s less than on 1 s blocks), then on 1 s blocks: two transactions can share one."""
    with local_chain() as client:
        client.w3.provider.make_request("evm_setIntervalMining", [1])
        yield client


def test_send_returns_a_hash_and_transact_a_receipt(chain):
    operator = dev_signer("operator")
    money = chain.contract("SettlementToken")
    tx_hash = chain.send(money.functions.topUp(operator.address, 1, REF), operator)
    assert isinstance(tx_hash, str) and tx_hash.startswith("0x") and len(tx_hash) == 66
    receipt = chain.transact(money.functions.topUp(operator.address, 1, REF), operator)
    assert isinstance(receipt, dict) and receipt["status"] == 1
    assert chain.wait_for_receipt(tx_hash)["status"] == 1


def test_calldata_is_what_web3_sends(chain):
    money = chain.contract("SettlementToken")
    fn = money.functions.topUp(Signer.from_key("0x" + "11" * 32).address, 123, REF)
    data = calldata(fn)
    assert data[:4] == bytes.fromhex(money.encode_abi("topUp", args=fn.args)[2:10])
    assert "0x" + data.hex() == money.encode_abi("topUp", args=fn.args)
    codec = Codec.from_contracts(chain.deployment.contracts)
    assert codec.method(money.address, data) == "topUp"
    assert codec.method(money.address, b"\x00\x00\x00\x00") is None


def test_codec_decodes_receipt_logs_by_contract(chain):
    operator = dev_signer("operator")
    holder = Signer.from_key("0x" + secrets.token_hex(32))
    money = chain.contract("SettlementToken")
    receipt = chain.transact(money.functions.topUp(holder.address, 5, REF), operator)
    logs = Codec.from_contracts(chain.deployment.contracts).decode_receipt(receipt)
    topped = [entry for entry in logs if entry.event.name == "ToppedUp"]
    assert [entry.contract for entry in topped] == ["SettlementToken"]
    assert topped[0].event.args == {"to": holder.address, "amount": 5, "paymentRef": "0x" + REF.hex()}


def test_a_revert_is_replayed_with_the_earlier_transactions_of_its_block(chain):
    """Top up 100 and withdraw 150 in the same block: the withdrawal met a balance of 100, not the parent's 0."""
    operator = dev_signer("operator")
    holder = Signer.from_key("0x" + secrets.token_hex(32))
    money = chain.contract("SettlementToken")
    first = chain.send(money.functions.topUp(holder.address, 100, REF), operator, gas=200_000)
    second = chain.send(money.functions.withdraw(150, REF), holder, gas=200_000)
    with pytest.raises(TxFailed) as failed:
        chain.wait_for_receipt(second)
    receipts = [chain.w3.eth.get_transaction_receipt(h) for h in (first, second)]
    assert receipts[0]["blockNumber"] == receipts[1]["blockNumber"]  # same block, the top-up first
    assert receipts[0]["transactionIndex"] < receipts[1]["transactionIndex"]
    assert failed.value.error_name == "ERC20InsufficientBalance"
    assert failed.value.error.args["balance"] == 100  # the parent block would say 0
    assert chain.explain_failure(second).error.args["balance"] == 100
    data, exact = chain.revert_data(second)
    assert exact and data is not None and chain.decode_error(data).name == "ERC20InsufficientBalance"


def test_a_simulated_revert_spends_no_nonce(chain):
    stranger = Signer.from_key("0x" + secrets.token_hex(32))
    money = chain.contract("SettlementToken")
    with pytest.raises(TxFailed) as failed:
        chain.send(money.functions.topUp(stranger.address, 1, REF), stranger)
    assert failed.value.error_name == "AccessControlUnauthorizedAccount"
    assert chain.pending_nonce(stranger.address) == 0
