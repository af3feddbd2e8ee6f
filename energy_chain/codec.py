"""The one ABI codec of the project: calldata, event logs and revert data, on public web3 / eth-abi APIs only.

`calldata(fn)` encodes a contract call; `energy_chain.events.EventDecoder` and `energy_chain.errors.ErrorDecoder`
decode logs and reverts with the helpers below; `Codec` puts them together for every contract of a deployment
(what the indexer, the explorer and the oracle need: which contract a log or a call belongs to).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from eth_utils import function_abi_to_4byte_selector, to_checksum_address
from web3 import Web3

if TYPE_CHECKING:
    from web3.contract import Contract
    from web3.contract.contract import ContractFunction

    from energy_chain.errors import DecodedError
    from energy_chain.events import DecodedEvent

Abi = list[dict[str, Any]]


def type_string(param: Mapping[str, Any]) -> str:
    """The canonical ABI type of a parameter, tuples spelled out: `(uint8,bytes32)[]`."""
    if param["type"].startswith("tuple"):
        inner = ",".join(type_string(c) for c in param["components"])
        return f"({inner}){param['type'][5:]}"
    return param["type"]


def as_bytes(value: Any) -> bytes:
    """Bytes from a 0x-hex string (raw JSON-RPC) or any bytes-like value (web3's HexBytes)."""
    if isinstance(value, str):
        return bytes.fromhex(value[2:] if value[:2] in ("0x", "0X") else value)
    return bytes(value)


def as_int(value: Any) -> int:
    """An int from a 0x-hex quantity (raw JSON-RPC) or an int (web3)."""
    return int(value, 16) if isinstance(value, str) else int(value)


# One ABI-only contract factory per ABI object: encode_abi needs a contract class, and building one costs ~4 ms.
_factories: dict[int, tuple[Abi, type[Contract]]] = {}
_encoder_w3 = Web3()  # no provider: encoding never talks to a node


def calldata(fn: ContractFunction) -> bytes:
    """The calldata of a bound contract call (selector + arguments), through web3's public `encode_abi`."""
    abi = fn.contract_abi
    cached = _factories.get(id(abi))
    if cached is None or cached[0] is not abi:
        cached = (abi, _encoder_w3.eth.contract(abi=abi))
        _factories[id(abi)] = cached
    return as_bytes(cached[1].encode_abi(fn.abi_element_identifier, args=fn.args, kwargs=fn.kwargs))


@dataclass(frozen=True)
class ContractLog:
    """A decoded log with the name of the deployed contract that emitted it."""

    contract: str
    event: DecodedEvent


class Codec:
    """Events, functions and errors of several deployed contracts, looked up by address."""

    def __init__(self, contracts: Mapping[str, tuple[str, Abi]], error_abis: Iterable[dict[str, Any]] = ()) -> None:
        from energy_chain.errors import ErrorDecoder
        from energy_chain.events import EventDecoder

        self.names_by_address: dict[str, str] = {}
        self._events: dict[str, EventDecoder] = {}
        self._functions: dict[tuple[str, bytes], str] = {}
        errors: list[dict[str, Any]] = list(error_abis)
        for name, (address, abi) in contracts.items():
            checksum = to_checksum_address(address)
            self.names_by_address[checksum] = name
            self._events[checksum] = EventDecoder(abi)
            for item in abi:
                if item.get("type") == "function":
                    self._functions[(checksum, bytes(function_abi_to_4byte_selector(item)))] = item["name"]
                elif item.get("type") == "error":
                    errors.append(item)
        self.errors = ErrorDecoder(errors)

    @classmethod
    def from_contracts(cls, contracts: Mapping[str, Mapping[str, Any]]) -> Codec:
        """From a deployment record's `contracts` ({name: {"address", "abi"}})."""
        return cls({name: (c["address"], c["abi"]) for name, c in contracts.items()})

    @property
    def addresses(self) -> list[str]:
        return list(self.names_by_address)

    def contract_name(self, address: str | None) -> str | None:
        return self.names_by_address.get(to_checksum_address(address)) if address else None

    def method(self, to: str | None, data: str | bytes | None) -> str | None:
        """The name of the function a transaction to `to` with `data` calls, if it is one of ours."""
        if not to or not data:
            return None
        return self._functions.get((to_checksum_address(to), as_bytes(data)[:4]))

    def decode_log(self, log: Mapping[str, Any]) -> ContractLog | None:
        """The log decoded, or None for a log of an unknown contract or event."""
        address = to_checksum_address(log["address"])
        decoder = self._events.get(address)
        event = decoder.decode_log(log) if decoder else None
        return ContractLog(self.names_by_address[address], event) if event else None

    def decode_receipt(self, receipt: Mapping[str, Any]) -> list[ContractLog]:
        """Every known log of a receipt, in log order."""
        return [d for d in (self.decode_log(entry) for entry in receipt.get("logs", [])) if d is not None]

    def decode_error(self, data: bytes | str | None) -> DecodedError | None:
        return self.errors.decode(data)
