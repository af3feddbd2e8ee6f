"""The chain service itself: nonce recovery, error decoding into sentences, raw-transaction checks."""

from __future__ import annotations

import pytest

from energy_chain.errors import DecodedError
from webapp.chain.messages import humanize, user_message
from webapp.chain.service import _raw_tx_to
from webapp.errors import UserError


def test_a_stale_nonce_counter_recovers_once(app, users):
    client = app.test_client()
    name = users.signup(client)
    with app.app_context():
        service = app.extensions["chain"]
        signer = users.signer(name)
        service.approve(signer, "EnergyToken", "OrderBook", wait=True)
        signer._next_nonce = 0  # as if another process had used this account meanwhile
        receipt = service.approve(signer, "SettlementToken", "OrderBook", wait=True)
        assert receipt["status"] == 1


def test_error_sentences():
    error = DecodedError(
        "OrderBookInsufficientBalance",
        {"token": "0x" + "00" * 20, "account": "0x" + "11" * 20, "balance": 1500, "needed": 2000},
    )
    assert user_message(error, "energy") == "Insufficient balance: you have 1.500 kWh but this order needs 2.000 kWh."
    assert user_message(error, "settlement") == "Insufficient balance: you have RM 0.00 but this order needs RM 0.00."
    unknown = DecodedError("SomeContractNewError", {"price": 455_000, "amountWh": 1500})
    assert user_message(unknown) == "Some contract new error (price 45.50 sen/kWh, amountWh 1.500 kWh)."
    assert user_message(None) == "The transaction was rejected by the contract."
    assert user_message(DecodedError("Error", {"message": "paused"})) == "Rejected: paused"
    assert humanize("OrderBookZeroCost") == "Order book zero cost"


def test_raw_transaction_decoding(app):
    from eth_account import Account

    wallet = Account.create()
    base = {"to": "0x" + "22" * 20, "value": 0, "gas": 21_000, "nonce": 0, "chainId": 1337, "data": "0x"}
    legacy = wallet.sign_transaction({**base, "gasPrice": 0}).raw_transaction
    typed = wallet.sign_transaction({**base, "maxFeePerGas": 0, "maxPriorityFeePerGas": 0}).raw_transaction
    assert _raw_tx_to(bytes(legacy)).lower() == base["to"] and _raw_tx_to(bytes(typed)).lower() == base["to"]
    with app.app_context(), pytest.raises(UserError, match="not a valid signed transaction"):
        app.extensions["chain"].send_raw_from("0x05" + "00" * 10, wallet.address)
