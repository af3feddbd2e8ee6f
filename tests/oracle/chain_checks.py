"""What the chain says about recorded readings, for the assertions of the chain tests."""

from __future__ import annotations

from collections import Counter

from energy_chain import ChainClient


def recorded_events(client: ChainClient) -> list[dict]:
    token = client.contract("EnergyToken")
    return [dict(e["args"]) for e in token.events.ReadingRecorded.get_logs(from_block=0)]


def recorded_keys(client: ChainClient) -> Counter:
    """How many times each (meterId, interval) was recorded (the contract allows once)."""
    return Counter((bytes(e["meterId"]), int(e["interval"])) for e in recorded_events(client))


def skipped_count(client: ChainClient) -> int:
    token = client.contract("EnergyToken")
    return len(token.events.ReadingDuplicateSkipped.get_logs(from_block=0))


def balance(client: ChainClient, owner: str) -> int:
    return int(client.contract("EnergyToken").functions.balanceOf(owner).call())
