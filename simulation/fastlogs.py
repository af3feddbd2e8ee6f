"""Decode the few events the simulator reads by the thousand (readings, fills, claims) straight from their words.

energy_chain.events.EventDecoder handles any ABI through eth_abi (about a millisecond a log); these events have
only static fields (uint, address, bytes32, enums), so each field is a 32-byte slice of the topics or the data.
Same argument names as the ABI; addresses come out lower-case, bytes32 as 0x-hex, everything else as int.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from eth_utils import event_abi_to_log_topic

STATIC = ("uint", "int", "address", "bytes32", "bool", "uint8")


class FastEvents:
    def __init__(self, abi: Iterable[dict[str, Any]], names: Iterable[str]) -> None:
        wanted = set(names)
        self._layout: dict[str, tuple[str, list[tuple[str, str]], list[tuple[str, str]]]] = {}
        for item in abi:
            if item.get("type") != "event" or item.get("name") not in wanted:
                continue
            inputs = item["inputs"]
            if not all(p["type"].startswith(STATIC) and "[" not in p["type"] for p in inputs):
                raise ValueError(f"{item['name']} has a dynamic field: use EventDecoder")
            topic = "0x" + event_abi_to_log_topic(item).hex()
            indexed = [(p["name"], p["type"]) for p in inputs if p.get("indexed")]
            plain = [(p["name"], p["type"]) for p in inputs if not p.get("indexed")]
            self._layout[topic] = (item["name"], indexed, plain)
        missing = wanted - {v[0] for v in self._layout.values()}
        if missing:
            raise KeyError(f"events {sorted(missing)} are not in this ABI")

    @staticmethod
    def _value(kind: str, word: str) -> Any:
        if kind == "address":
            return "0x" + word[24:]
        if kind == "bytes32":
            return "0x" + word
        return int(word, 16)

    def decode(self, log: dict[str, Any]) -> tuple[str, dict[str, Any]] | None:
        topics = log["topics"]
        layout = self._layout.get(str(topics[0]).lower()) if topics else None
        if layout is None:
            return None
        name, indexed, plain = layout
        args: dict[str, Any] = {}
        for (field, kind), topic in zip(indexed, topics[1:], strict=True):
            args[field] = self._value(kind, str(topic)[2:])
        data = str(log["data"])[2:]
        for i, (field, kind) in enumerate(plain):
            args[field] = self._value(kind, data[64 * i : 64 * (i + 1)])
        return name, args

    def decode_all(self, logs: Iterable[dict[str, Any]]) -> list[tuple[str, dict[str, Any]]]:
        return [d for d in map(self.decode, logs) if d is not None]
