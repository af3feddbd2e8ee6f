"""Clique genesis in geth's format: berlin rules (no EIP-1559), the signer list in extraData, funded accounts."""

from __future__ import annotations

import time
from collections.abc import Iterable
from typing import Any

from eth_utils import to_checksum_address

VANITY_BYTES = 32
SEAL_BYTES = 65
DEFAULT_BALANCE = 10**24  # wei; gas is free, balances matter only for value transfers
DEFAULT_GAS_LIMIT = 300_000_000  # as the local anvil chain; ethereumjs seals ≤ ~600 txs per block anyway
# Every fork up to berlin at block 0; london (EIP-1559) never, so the chain takes legacy transactions only.
BERLIN_FORKS = (
    "homesteadBlock",
    "eip150Block",
    "eip155Block",
    "eip158Block",
    "byzantiumBlock",
    "constantinopleBlock",
    "petersburgBlock",
    "istanbulBlock",
    "berlinBlock",
)


def clique_extra_data(signers: Iterable[str]) -> str:
    """Vanity (32 zero bytes), the signers' addresses in ascending order, an empty seal (65 zero bytes)."""
    addresses = sorted(bytes.fromhex(to_checksum_address(s)[2:]) for s in signers)
    if not addresses:
        raise ValueError("a clique chain needs at least one signer")
    return "0x" + (bytes(VANITY_BYTES) + b"".join(addresses) + bytes(SEAL_BYTES)).hex()


def clique_signers(extra_data: str | bytes) -> list[str]:
    """The signer list of a clique genesis (or epoch) block's extraData."""
    raw = (
        bytes.fromhex(extra_data[2:] if extra_data.startswith("0x") else extra_data)
        if isinstance(extra_data, str)
        else bytes(extra_data)
    )
    body = raw[VANITY_BYTES : len(raw) - SEAL_BYTES]
    if len(raw) < VANITY_BYTES + SEAL_BYTES or len(body) % 20:
        raise ValueError(f"not clique extraData: {len(raw)} bytes")
    return [to_checksum_address(body[i : i + 20]) for i in range(0, len(body), 20)]


def clique_genesis(
    chain_id: int,
    signers: Iterable[str],
    funded: Iterable[str] = (),
    period_s: int = 1,
    gas_limit: int = DEFAULT_GAS_LIMIT,
    balance: int = DEFAULT_BALANCE,
    timestamp: int | None = None,
) -> dict[str, Any]:
    """A geth-format genesis for a clique chain with berlin rules."""
    config: dict[str, Any] = {
        "chainId": chain_id,
        **dict.fromkeys(BERLIN_FORKS, 0),
        "clique": {"period": period_s, "epoch": 30000},
    }
    return {
        "config": config,
        "nonce": "0x0",
        "timestamp": hex(int(time.time()) if timestamp is None else timestamp),
        "extraData": clique_extra_data(signers),
        "gasLimit": hex(gas_limit),
        "difficulty": "0x1",
        "mixHash": "0x" + "00" * 32,
        "coinbase": "0x" + "00" * 20,
        "number": "0x0",
        "gasUsed": "0x0",
        "parentHash": "0x" + "00" * 32,
        "alloc": {to_checksum_address(a)[2:].lower(): {"balance": hex(balance)} for a in funded},
    }
