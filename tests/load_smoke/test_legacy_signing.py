"""The fast legacy signing path (energy_chain.legacy_tx, used by Signer.sign) gives eth-account's exact bytes."""

from __future__ import annotations

from eth_account import Account
from eth_utils import to_checksum_address
from hypothesis import given, settings
from hypothesis import strategies as st

from energy_chain import Signer
from energy_chain.legacy_tx import LegacySigner, is_plain_legacy

KEY = "0x" + "42" * 32
ADDRESS = st.binary(min_size=20, max_size=20).map(to_checksum_address)
TX = st.fixed_dictionaries(
    {
        "nonce": st.integers(0, 2**64 - 1),
        "gasPrice": st.integers(0, 10**12),
        "gas": st.integers(21_000, 30_000_000),
        "to": ADDRESS,
        "value": st.integers(0, 10**24),
        "data": st.binary(max_size=300).map(lambda b: "0x" + b.hex()),
        "chainId": st.sampled_from([1, 1337, 2026, 31337]),
    }
)


@settings(max_examples=200)
@given(TX)
def test_fast_path_matches_eth_account(tx):
    expected = bytes(Account.sign_transaction(tx, KEY).raw_transaction)
    assert LegacySigner(bytes.fromhex(KEY[2:])).sign(tx) == expected
    assert Signer.from_key(KEY).sign(tx) == expected


def test_contract_creation_and_bytes_data():
    tx = {"nonce": 0, "gasPrice": 0, "gas": 8_000_000, "to": None, "value": 0, "data": b"\x60\x80", "chainId": 1337}
    assert Signer.from_key(KEY).sign(tx) == bytes(Account.sign_transaction(tx, KEY).raw_transaction)


def test_typed_transactions_use_eth_account():
    tx = {
        "nonce": 0,
        "gas": 21_000,
        "maxFeePerGas": 0,
        "maxPriorityFeePerGas": 0,
        "to": "0x" + "11" * 20,
        "value": 0,
        "data": "0x",
        "chainId": 1337,
    }
    assert not is_plain_legacy(tx)
    assert Signer.from_key(KEY).sign(tx) == bytes(Account.sign_transaction(tx, KEY).raw_transaction)
