"""Decode logs and call data of the project's contracts for the web app (energy_chain's codec, JSON-ready)."""

from __future__ import annotations

from typing import Any

from energy_chain import Deployment
from energy_chain.codec import Codec


def _jsonable(value: Any) -> Any:
    if isinstance(value, bytes):
        return "0x" + value.hex()
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    return value


class AbiIndex:
    """Which contract an address is, which function a call is, and logs decoded, over one deployment."""

    def __init__(self, deployment: Deployment) -> None:
        self.codec = Codec.from_contracts(deployment.contracts)
        self.names_by_address = self.codec.names_by_address

    @property
    def addresses(self) -> list[str]:
        return self.codec.addresses

    def contract_name(self, address: str | None) -> str | None:
        return self.codec.contract_name(address)

    def method(self, to: str | None, data: str | bytes | None) -> str | None:
        return self.codec.method(to, data)

    def decode_log(self, log: dict[str, Any]) -> tuple[str, str, dict[str, Any]] | None:
        """(contract name, event name, JSON-ready args) or None for a log of an unknown contract or event."""
        decoded = self.codec.decode_log(log)
        if decoded is None:
            return None
        return decoded.contract, decoded.event.name, _jsonable(decoded.event.args)
