"""Turn revert data into readable messages: custom errors by name, Error(string), Panic(uint256)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from eth_abi import decode as abi_decode
from eth_utils import function_signature_to_4byte_selector

from energy_chain.codec import as_bytes, type_string

PANIC_CODES = {
    0x01: "assertion failed",
    0x11: "arithmetic overflow or underflow",
    0x12: "division by zero",
    0x21: "invalid enum value",
    0x31: "pop on an empty array",
    0x32: "array index out of bounds",
    0x41: "out of memory",
    0x51: "call to an uninitialised function",
}
ERROR_STRING_SELECTOR = bytes.fromhex("08c379a0")
PANIC_SELECTOR = bytes.fromhex("4e487b71")


@dataclass(frozen=True)
class DecodedError:
    """A decoded revert: `name` is the custom error (or Error/Panic), `args` its named arguments."""

    name: str
    args: dict[str, Any]

    def __str__(self) -> str:
        inner = ", ".join(f"{k}={_show(v)}" for k, v in self.args.items())
        return f"{self.name}({inner})"


def _show(value: Any) -> str:
    if isinstance(value, bytes):
        return "0x" + value.hex()
    return str(value)


class ErrorDecoder:
    """Maps 4-byte selectors to the custom errors of the given ABIs."""

    def __init__(self, error_abis: list[dict[str, Any]]) -> None:
        self._by_selector: dict[bytes, dict[str, Any]] = {}
        for item in error_abis:
            types = ",".join(type_string(p) for p in item.get("inputs", []))
            selector = function_signature_to_4byte_selector(f"{item['name']}({types})")
            self._by_selector[selector] = item

    def decode(self, data: bytes | str | None) -> DecodedError | None:
        """Decode revert data; None when there is none or it matches no known error."""
        if data is None:
            return None
        raw = as_bytes(data)
        if len(raw) < 4:
            return None
        selector, body = raw[:4], raw[4:]
        if selector == ERROR_STRING_SELECTOR:
            return DecodedError("Error", {"message": abi_decode(["string"], body)[0]})
        if selector == PANIC_SELECTOR:
            code = abi_decode(["uint256"], body)[0]
            return DecodedError("Panic", {"code": code, "meaning": PANIC_CODES.get(code, "unknown panic")})
        item = self._by_selector.get(selector)
        if item is None:
            return None
        inputs = item.get("inputs", [])
        values = abi_decode([type_string(p) for p in inputs], body)
        names = [p.get("name") or f"arg{i}" for i, p in enumerate(inputs)]
        return DecodedError(item["name"], dict(zip(names, values, strict=True)))
