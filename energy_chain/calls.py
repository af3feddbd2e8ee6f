"""Many read-only contract calls in one JSON-RPC batch (e.g. the status of a thousand meters)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from eth_abi import decode as abi_decode
from web3.contract.contract import ContractFunction

from energy_chain.client import revert_data_in_result
from energy_chain.codec import calldata, type_string
from energy_chain.errors import DecodedError

if TYPE_CHECKING:
    from energy_chain.client import ChainClient


@dataclass(frozen=True)
class CallResult:
    """Outcome of one call: `value` when it returned (a tuple when the function has several outputs), else `error`."""

    ok: bool
    value: Any = None
    error: DecodedError | None = None
    message: str = ""


def call_many(
    client: ChainClient, fns: Sequence[ContractFunction], block: str | int = "latest", chunk: int = 500
) -> list[CallResult]:
    """eth_call each function, `chunk` calls per batch request; reverts come back decoded, not raised."""
    tag = block if isinstance(block, str) else hex(block)
    results: list[CallResult] = []
    for start in range(0, len(fns), chunk):
        part = fns[start : start + chunk]
        requests = [("eth_call", [{"to": fn.address, "data": "0x" + calldata(fn).hex()}, tag]) for fn in part]
        responses = client.w3.provider.make_batch_request(requests)  # type: ignore[attr-defined]
        if isinstance(responses, dict):
            raise RuntimeError(f"call batch refused: {responses}")
        for fn, resp in zip(part, responses, strict=True):
            results.append(_result(client, fn, resp))
    return results


def _result(client: ChainClient, fn: ContractFunction, resp: dict[str, Any]) -> CallResult:
    if "error" in resp:
        err = resp["error"] or {}
        data = err.get("data")
        if isinstance(data, dict):
            data = data.get("data")
        decoded = client.decode_error(data) if isinstance(data, (str, bytes)) else None
        return CallResult(False, error=decoded, message=str(err.get("message", err)))
    outputs = [type_string(o) for o in fn.abi.get("outputs", [])]
    raw = bytes.fromhex(resp["result"][2:])
    revert = revert_data_in_result(raw)
    if revert is not None:  # a node that returns revert data as the call's result (ethereumjs clique)
        decoded = client.decode_error(revert)
        return CallResult(False, error=decoded, message=f"execution reverted: {decoded or '0x' + revert.hex()}")
    values = abi_decode(outputs, raw)
    return CallResult(True, values[0] if len(values) == 1 else tuple(values))
