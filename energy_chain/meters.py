"""Meter identifiers: a meter's on-chain id is keccak256 of its serial (UTF-8), so ids are fixed-size and opaque."""

from __future__ import annotations

from web3 import Web3


def meter_id(serial: str) -> bytes:
    """The bytes32 id under which the registry and the energy token know the meter with this serial."""
    if not serial or not serial.strip():
        raise ValueError("a meter serial must not be empty")
    return bytes(Web3.keccak(text=serial.strip()))


def meter_id_hex(serial: str) -> str:
    return "0x" + meter_id(serial).hex()
