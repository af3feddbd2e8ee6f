"""Decode contract events from receipts, whether web3 returned them or they came raw from a JSON-RPC batch."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from eth_abi import decode as abi_decode
from eth_utils import event_abi_to_log_topic, to_checksum_address

from energy_chain.codec import as_bytes, as_int, type_string


@dataclass(frozen=True)
class DecodedEvent:
    """One log of a known event: `name`, its arguments by name, and where it was emitted."""

    name: str
    args: dict[str, Any]
    address: str
    log_index: int


def _topic_value(param: dict[str, Any], topic: bytes) -> Any:
    """An indexed argument: static types are their value; dynamic ones (string, bytes, arrays, tuples) only have
    their keccak hash in the topic."""
    kind = type_string(param)
    if kind in ("string", "bytes") or kind.endswith("]") or kind.startswith("("):
        return "0x" + topic.hex()
    return _plain(param["type"], abi_decode([kind], topic)[0])


def _plain(abi_type: str, value: Any) -> Any:
    if abi_type == "address":
        return to_checksum_address(value)
    if isinstance(value, bytes):
        return "0x" + value.hex()
    return value


class EventDecoder:
    """Maps topic0 to the events of one ABI; `decode(receipt)` keeps only logs of `address` (when given)."""

    def __init__(self, abi: Iterable[dict[str, Any]], address: str | None = None) -> None:
        self.address = address.lower() if address else None
        self._by_topic = {
            event_abi_to_log_topic(item): item
            for item in abi
            if item.get("type") == "event" and not item.get("anonymous")
        }

    def decode_log(self, log: Mapping[str, Any]) -> DecodedEvent | None:
        if self.address and str(log["address"]).lower() != self.address:
            return None
        topics = [as_bytes(t) for t in log["topics"]]
        item = self._by_topic.get(topics[0]) if topics else None
        if item is None:
            return None
        indexed = [p for p in item["inputs"] if p.get("indexed")]
        plain = [p for p in item["inputs"] if not p.get("indexed")]
        values: dict[str, Any] = {}
        for param, topic in zip(indexed, topics[1:], strict=True):
            values[param["name"]] = _topic_value(param, topic)
        data = abi_decode([type_string(p) for p in plain], as_bytes(log["data"]))
        for param, value in zip(plain, data, strict=True):
            values[param["name"]] = _plain(param["type"], value)
        args = {p["name"]: values[p["name"]] for p in item["inputs"]}  # declaration order
        return DecodedEvent(item["name"], args, str(log["address"]), as_int(log.get("logIndex", 0)))

    def decode(self, receipt: Mapping[str, Any]) -> list[DecodedEvent]:
        """The receipt's known events in log order."""
        return [e for e in (self.decode_log(log) for log in receipt.get("logs", [])) if e is not None]


def event_topic(abi: Iterable[dict[str, Any]], name: str) -> str:
    """topic0 (0x-hex) of event `name` in `abi`, for eth_getLogs filters."""
    for item in abi:
        if item.get("type") == "event" and item.get("name") == name:
            return "0x" + event_abi_to_log_topic(item).hex()
    raise KeyError(f"no event {name} in this ABI")
