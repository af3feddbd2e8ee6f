"""The contract tests' guard against Brownie calling a mined transaction dropped (anvil stores a block's receipts a
moment after its state, and Brownie reads the nonce first): brownie_utils.confirming_past_anvils_receipt_gap."""

from __future__ import annotations

from enum import IntEnum

from tests.contracts.brownie_utils import confirming_past_anvils_receipt_gap


class Status(IntEnum):  # as brownie.network.transaction.Status
    Dropped = -2
    Pending = -1
    Reverted = 0
    Confirmed = 1


class Receipt:
    def __init__(self) -> None:
        self.status = Status.Pending
        self.txid = "0x5eed"


def brownie_awaiting(outcomes: list[Status], calls: list[object]):
    """Brownie's confirmation as the gap makes it: each call ends in the next outcome."""

    def await_confirmation(receipt: Receipt, block_number: object, required_confs: int) -> None:
        calls.append(block_number)
        receipt.status = outcomes[len(calls) - 1]

    return await_confirmation


def test_a_mined_transaction_first_seen_without_its_receipt_is_confirmed():
    calls: list[object] = []
    answers = iter([None, None, {"blockHash": "0x01", "status": 1}])  # the receipt is stored a moment later
    confirm = confirming_past_anvils_receipt_gap(
        brownie_awaiting([Status.Dropped, Status.Confirmed], calls), lambda txid: next(answers), pause_s=0
    )
    receipt = Receipt()
    confirm(receipt, 7, 1)
    assert receipt.status == Status.Confirmed
    assert calls == [7, None]  # confirmed again from its receipt, not from the block number first given


def test_a_transaction_really_dropped_stays_dropped():
    calls: list[object] = []
    asked: list[str] = []
    confirm = confirming_past_anvils_receipt_gap(
        brownie_awaiting([Status.Dropped], calls), lambda txid: asked.append(txid), rechecks=3, pause_s=0
    )
    receipt = Receipt()
    confirm(receipt, 7, 1)
    assert receipt.status == Status.Dropped
    assert calls == [7] and asked == ["0x5eed"] * 3


def test_a_confirmed_or_reverted_transaction_is_left_as_brownie_found_it():
    for outcome in (Status.Confirmed, Status.Reverted):
        calls: list[object] = []
        confirm = confirming_past_anvils_receipt_gap(brownie_awaiting([outcome], calls), lambda txid: 1 / 0)
        receipt = Receipt()
        confirm(receipt, None, 1)
        assert receipt.status == outcome and calls == [None]


def test_the_contract_tests_confirm_through_the_guard(alice, bob):
    from brownie.network.transaction import TransactionReceipt

    assert TransactionReceipt._await_confirmation.__name__ == "await_confirmation_past_gap"
    tx = alice.transfer(bob, 0)
    assert tx.status == 1 and tx.block_number is not None
