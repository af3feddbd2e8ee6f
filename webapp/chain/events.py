"""Decode logs and call data of the project's contracts (from the deployment record's ABIs)."""

from __future__ import annotations

from typing import Any

from eth_utils import event_abi_to_log_topic, function_abi_to_4byte_selector, to_checksum_address
from web3._utils.events import get_event_data

from energy_chain import Deployment


def _jsonable(value: Any) -> Any:
    if isinstance(value, bytes):
        return "0x" + value.hex()
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    return value


class AbiIndex:
    """Topic -> event and selector -> function lookups over every contract of one deployment."""

    def __init__(self, deployment: Deployment, codec: Any) -> None:
        self.codec = codec
        self.names_by_address: dict[str, str] = {}
        self.events: dict[tuple[str, bytes], dict[str, Any]] = {}
        self.functions: dict[tuple[str, bytes], str] = {}
        for name, info in deployment.contracts.items():
            address = to_checksum_address(info["address"])
            self.names_by_address[address] = name
            for item in info["abi"]:
                if item.get("type") == "event" and not item.get("anonymous"):
                    self.events[(address, bytes(event_abi_to_log_topic(item)))] = item
                elif item.get("type") == "function":
                    self.functions[(address, bytes(function_abi_to_4byte_selector(item)))] = item["name"]

    @property
    def addresses(self) -> list[str]:
        return list(self.names_by_address)

    def contract_name(self, address: str | None) -> str | None:
        if not address:
            return None
        return self.names_by_address.get(to_checksum_address(address))

    def method(self, to: str | None, data: str | bytes | None) -> str | None:
        if not to or not data:
            return None
        raw = bytes.fromhex(data[2:]) if isinstance(data, str) else bytes(data)
        return self.functions.get((to_checksum_address(to), raw[:4]))

    def decode_log(self, log: dict[str, Any]) -> tuple[str, str, dict[str, Any]] | None:
        """(contract name, event name, JSON-ready args) or None for a log of an unknown contract or event."""
        address = to_checksum_address(log["address"])
        topics = log.get("topics") or []
        if not topics:
            return None
        topic0 = topics[0]
        topic0 = bytes.fromhex(topic0[2:]) if isinstance(topic0, str) else bytes(topic0)
        abi = self.events.get((address, topic0))
        if abi is None:
            return None
        normalized = dict(log)
        normalized["topics"] = [bytes.fromhex(t[2:]) if isinstance(t, str) else bytes(t) for t in topics]
        if isinstance(normalized.get("data"), str):
            normalized["data"] = bytes.fromhex(normalized["data"][2:])
        for key in ("blockNumber", "logIndex", "transactionIndex"):
            if isinstance(normalized.get(key), str):
                normalized[key] = int(normalized[key], 16)
        decoded = get_event_data(self.codec, abi, normalized)
        return self.names_by_address[address], abi["name"], _jsonable(dict(decoded["args"]))
