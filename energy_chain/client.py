"""ChainClient: connect, find contracts, build/sign/send transactions with explicit fields, decode reverts."""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Iterable, Sequence
from typing import Any

import requests
from web3 import Web3
from web3.contract import Contract
from web3.contract.contract import ContractFunction
from web3.exceptions import (
    BlockNotFound,
    ContractCustomError,
    ContractLogicError,
    ContractPanicError,
    ProviderConnectionError,
    TimeExhausted,
    TransactionNotFound,
    Web3RPCError,
)
from web3.middleware import ExtraDataToPOAMiddleware
from web3.types import RPCEndpoint

from energy_chain.artifacts import all_error_abis, load_artifact
from energy_chain.codec import as_bytes, as_int, calldata
from energy_chain.config import ChainConfig
from energy_chain.deployment import Deployment
from energy_chain.errors import DecodedError, ErrorDecoder
from energy_chain.signer import Signer

log = logging.getLogger(__name__)

DEFAULT_GAS_CAP = 3_000_000
GAS_MARGIN = 1.25
# What a node that is down, restarting or overloaded raises: worth a retry later. Anything else is not.
CHAIN_UNAVAILABLE: tuple[type[Exception], ...] = (
    requests.ConnectionError,
    requests.Timeout,
    ProviderConnectionError,
    TimeExhausted,
    Web3RPCError,
    BlockNotFound,  # the chain was restored to an older state under us: reconciling sorts it out
    TransactionNotFound,
    ConnectionError,
    TimeoutError,
)


def revert_data_in_result(result: bytes) -> bytes | None:
    """Revert data that a node returned as an eth_call result instead of an error (ethereumjs does), else None.

    ABI-encoded return values are whole 32-byte words; revert data is a 4-byte selector plus words.
    """
    raw = bytes(result)
    return raw if len(raw) % 32 == 4 else None


class TxFailed(Exception):
    """A transaction (or its simulation) reverted or was not accepted. `error` is the decoded custom error."""

    def __init__(self, message: str, error: DecodedError | None = None, tx_hash: str | None = None) -> None:
        super().__init__(message)
        self.error = error
        self.tx_hash = tx_hash

    @property
    def error_name(self) -> str | None:
        return self.error.name if self.error else None


class ChainClient:
    """One connection to one chain, with the project's contracts and transaction conventions.

    Every transaction is legacy (type 0) with explicit nonce, gas, gasPrice (0 on our chains) and chainId, so it
    works unchanged on anvil, on a clique chain without EIP-1559 and on Besu QBFT with a zero base fee.
    """

    def __init__(self, config: ChainConfig | None = None, deployment: Deployment | None = None) -> None:
        self.config = config or ChainConfig.from_env()
        # web3's validation middleware asks the node for eth_chainId before every eth_call and eth_estimateGas;
        # caching that one answer removes a round trip from each of them (a third of the web server's time in
        # a load-test profile, docs/load.md).
        provider = Web3.HTTPProvider(
            self.config.rpc_url,
            request_kwargs={"timeout": 30},
            cache_allowed_requests=True,
            cacheable_requests={RPCEndpoint("eth_chainId")},
        )
        self.w3 = Web3(provider)
        # PoA chains put the signer's seal in extraData (longer than 32 bytes); harmless on other chains.
        self.w3.middleware_onion.inject(ExtraDataToPOAMiddleware, layer=0)
        self._chain_id: int | None = self.config.chain_id
        self._deployment = deployment
        self._contracts: dict[str, Contract] = {}
        self._decoder: ErrorDecoder | None = None

    # ------------------------------------------------------------------ connection and contracts
    @property
    def chain_id(self) -> int:
        if self._chain_id is None:
            self._chain_id = int(self.w3.eth.chain_id)
        return self._chain_id

    def check_chain_id(self) -> None:
        """Fail clearly when the node is not the chain the configuration names."""
        actual = int(self.w3.eth.chain_id)
        if self.config.chain_id is not None and actual != self.config.chain_id:
            raise RuntimeError(f"{self.config.rpc_url} is chain {actual}, expected CHAIN_ID={self.config.chain_id}")

    def is_connected(self) -> bool:
        try:
            return self.w3.is_connected()
        except Exception:
            return False

    @property
    def deployment(self) -> Deployment:
        if self._deployment is None:
            self._deployment = Deployment.load(self.config.deployments_dir, self.chain_id)
        return self._deployment

    def use_deployment(self, deployment: Deployment) -> None:
        self._deployment = deployment
        self._contracts.clear()
        self._decoder = None

    def contract(self, name: str) -> Contract:
        """The deployed contract `name` from the deployment record."""
        if name not in self._contracts:
            d = self.deployment
            self._contracts[name] = self.w3.eth.contract(address=d.address(name), abi=d.abi(name))
        return self._contracts[name]

    @property
    def decoder(self) -> ErrorDecoder:
        if self._decoder is None:
            abis = self._deployment.error_abis() if self._deployment else []
            with contextlib.suppress(OSError):  # no build folder: decode with the record's ABIs only
                abis = abis + all_error_abis()
            self._decoder = ErrorDecoder(abis)
        return self._decoder

    # ------------------------------------------------------------------ building and signing
    def pending_nonce(self, address: str) -> int:
        return int(self.w3.eth.get_transaction_count(Web3.to_checksum_address(address), "pending"))

    def legacy_tx(self, to: str | None, data: bytes, gas: int, nonce: int, value: int = 0) -> dict[str, Any]:
        """The project's one transaction shape: legacy (type 0), every field explicit, so nothing asks the node.

        `to=None` deploys `data` as init code. Sign it with Signer.sign; a browser wallet gets the same fields.
        """
        tx: dict[str, Any] = {
            "data": data,
            "value": value,
            "gas": gas,
            "gasPrice": self.config.gas_price,
            "nonce": nonce,
            "chainId": self.chain_id,
        }
        if to is not None:
            tx["to"] = to
        return tx

    def build_tx(
        self,
        fn: ContractFunction,
        signer: Signer,
        gas: int,
        nonce: int | None = None,
        value: int = 0,
    ) -> dict[str, Any]:
        """A complete legacy transaction for a contract call; asks the node nothing when `nonce` is given."""
        nonce = nonce if nonce is not None else signer.next_nonce(self.pending_nonce)
        return self.legacy_tx(fn.address, calldata(fn), gas, nonce, value)

    def estimate_gas(self, fn: ContractFunction, sender: str) -> int:
        """Gas for the call with a safety margin; raises TxFailed with the decoded error if it would revert."""
        try:
            estimate = fn.estimate_gas({"from": sender, "gasPrice": self.config.gas_price})
        except (ContractCustomError, ContractLogicError, ContractPanicError) as exc:
            raise self._failure_from_exception(exc) from exc
        except ValueError as exc:  # some nodes report reverts as plain RPC errors
            raise self._failure_from_exception(exc) from exc
        except Web3RPCError as exc:
            # Not a revert (web3 raises ContractLogicError for those): the node cannot estimate at all.
            if self.config.default_gas is None:
                raise
            log.debug("eth_estimateGas unavailable (%s); simulating with DEFAULT_GAS=%d", exc, self.config.default_gas)
            return self.simulate_with_default_gas(fn, sender)
        return int(estimate * GAS_MARGIN) + 10_000

    def simulate_with_default_gas(self, fn: ContractFunction, sender: str) -> int:
        """Run the call with eth_call under the configured default gas; raise TxFailed if it would revert.

        For nodes without a working eth_estimateGas (ethereumjs clique): reverts are still caught before a nonce
        is used, and the transaction is sent with DEFAULT_GAS.
        """
        gas = self.config.default_gas or DEFAULT_GAS_CAP
        data = "0x" + calldata(fn).hex()
        call = {"from": sender, "to": fn.address, "data": data, "gas": gas, "gasPrice": self.config.gas_price}
        try:
            result = self.w3.eth.call(call)  # type: ignore[arg-type]
        except (ContractCustomError, ContractLogicError, ContractPanicError, ValueError) as exc:
            raise self._failure_from_exception(exc) from exc
        revert = revert_data_in_result(result)
        if revert is not None:
            decoded = self.decode_error(revert)
            raise TxFailed(str(decoded) if decoded else f"transaction would revert: 0x{revert.hex()}", decoded)
        return gas

    def send(self, fn: ContractFunction, signer: Signer, gas: int | None = None) -> str:
        """Sign and send one contract call; returns the transaction hash without waiting.

        Without `gas`, the call is simulated first: a revert raises TxFailed before any nonce is used.
        """
        return self._send(fn, signer, gas)[0]

    def transact(self, fn: ContractFunction, signer: Signer, gas: int | None = None) -> dict[str, Any]:
        """Sign and send one contract call and wait for its receipt; a revert raises TxFailed (decoded)."""
        tx_hash, tx = self._send(fn, signer, gas)
        return self.wait_for_receipt(tx_hash, tx)

    def _send(self, fn: ContractFunction, signer: Signer, gas: int | None) -> tuple[str, dict[str, Any]]:
        if gas is None:
            gas = self.estimate_gas(fn, signer.address)
        tx = self.build_tx(fn, signer, gas)
        try:
            return self.send_raw(signer.sign(tx)), tx
        except Exception:
            signer.resync()  # the nonce was not consumed; count again from the node
            raise

    def send_raw(self, raw: bytes) -> str:
        return self.w3.eth.send_raw_transaction(raw).to_0x_hex()

    def send_raw_batch(self, raws: Sequence[bytes]) -> list[str | dict[str, Any]]:
        """Send signed transactions in one JSON-RPC batch. Each result is a tx hash or the node's error object."""
        if not raws:
            return []
        requests = [("eth_sendRawTransaction", ["0x" + bytes(r).hex()]) for r in raws]
        responses = self.w3.provider.make_batch_request(requests)  # type: ignore[attr-defined]
        if isinstance(responses, dict):  # the whole batch was refused
            return [responses.get("error", responses)] * len(raws)
        return [r["result"] if "result" in r else r.get("error", r) for r in responses]

    # ------------------------------------------------------------------ receipts
    def wait_for_receipt(self, tx_hash: str, tx: dict[str, Any] | None = None) -> dict[str, Any]:
        """Wait until mined (plus CONFIRMATIONS); raise TxFailed with the decoded revert when status is 0."""
        receipt = dict(self._wait_mined(tx_hash))
        if self.config.confirmations:
            target = receipt["blockNumber"] + self.config.confirmations
            while self.w3.eth.block_number < target:
                time.sleep(0.2)
        if receipt["status"] != 1:
            raise self._failure_from_receipt(tx_hash, receipt, tx)
        return receipt

    def _wait_mined(self, tx_hash: str) -> Any:
        """web3's receipt wait, tolerating nodes that briefly answer "not found" errors instead of null.

        ethereumjs clique stores a receipt before its block: a query in between fails with "... not found in DB".
        """
        deadline = time.monotonic() + self.config.timeout_s
        while True:
            try:
                return self.w3.eth.wait_for_transaction_receipt(
                    tx_hash, timeout=max(0.1, deadline - time.monotonic()), poll_latency=0.1
                )
            except Web3RPCError as exc:
                if "not found" not in str(exc) or time.monotonic() > deadline:
                    raise
                time.sleep(0.1)

    def get_receipts(self, tx_hashes: Iterable[str]) -> dict[str, dict[str, Any] | None]:
        """Receipts of many transactions in one batch request (None for those not mined yet)."""
        hashes = list(tx_hashes)
        if not hashes:
            return {}
        responses = self.w3.provider.make_batch_request(  # type: ignore[attr-defined]
            [("eth_getTransactionReceipt", [h]) for h in hashes]
        )
        if isinstance(responses, dict):
            raise RuntimeError(f"receipt batch refused: {responses}")
        return {h: r.get("result") for h, r in zip(hashes, responses, strict=True)}

    def wait_for_receipts(self, tx_hashes: Iterable[str], timeout_s: float | None = None) -> dict[str, dict[str, Any]]:
        """Wait for all receipts (batched polling); raises TimeoutError naming how many are missing."""
        pending = set(tx_hashes)
        found: dict[str, dict[str, Any]] = {}
        deadline = time.monotonic() + (timeout_s or self.config.timeout_s)
        while pending:
            for h, receipt in self.get_receipts(pending).items():
                if receipt is not None:
                    found[h] = receipt
                    pending.discard(h)
            if pending:
                if time.monotonic() > deadline:
                    raise TimeoutError(f"{len(pending)} transactions not mined in time")
                time.sleep(0.2)
        return found

    # ------------------------------------------------------------------ deployment
    def deploy(self, name: str, args: Sequence[Any], signer: Signer, gas: int = 8_000_000) -> tuple[str, int]:
        """Deploy compiled contract `name`; returns (address, block number)."""
        art = load_artifact(name)
        factory = self.w3.eth.contract(abi=art["abi"], bytecode=art["bytecode"])
        data = as_bytes(factory.constructor(*args).data_in_transaction)
        tx = self.legacy_tx(None, data, gas, signer.next_nonce(self.pending_nonce))
        receipt = self.wait_for_receipt(self.send_raw(signer.sign(tx)), tx)
        return receipt["contractAddress"], int(receipt["blockNumber"])

    # ------------------------------------------------------------------ errors
    def decode_error(self, data: bytes | str | None) -> DecodedError | None:
        return self.decoder.decode(data)

    def explain_failure(self, tx_hash: str) -> TxFailed:
        """Why a mined transaction failed, decoded from a replay at the state it met (see `revert_data`)."""
        receipt = dict(self.w3.eth.get_transaction_receipt(tx_hash))  # type: ignore[arg-type]
        return self._failure_from_receipt(tx_hash, receipt)

    def revert_data(self, tx_hash: str) -> tuple[bytes | None, bool]:
        """(revert data, exact) of a mined, failed transaction.

        A call replayed at the parent block misses the transactions mined before this one in its block, so the
        node's own trace comes first (debug_traceTransaction with the call tracer re-executes the block up to
        this transaction: anvil, geth, Besu). A node without it gets the parent-block replay, which is exact only
        for the first transaction of a block; `exact` says which one it was. A transaction older than the node's
        kept history (energy_chain.anvil prunes to CHAIN_HISTORY_STATES blocks) gives (None, False): no reason.
        """
        trace = self.w3.provider.make_request(
            RPCEndpoint("debug_traceTransaction"), [tx_hash, {"tracer": "callTracer"}]
        )
        result = trace.get("result") if isinstance(trace, dict) else None
        if isinstance(result, dict):
            output = result.get("output")
            return (as_bytes(output) if output and output != "0x" else None), True
        log.debug("debug_traceTransaction unavailable (%s): replaying at the parent block", trace.get("error"))
        tx = self.w3.eth.get_transaction(tx_hash)  # type: ignore[arg-type]
        call = {"from": tx["from"], "to": tx["to"], "data": tx["input"], "value": tx["value"], "gas": tx["gas"]}
        try:
            result_bytes = self.w3.eth.call(call, tx["blockNumber"] - 1)  # type: ignore[arg-type]
        except (ContractCustomError, ContractLogicError, ContractPanicError, ValueError, Web3RPCError) as exc:
            # A revert carries its data; a parent state the node no longer keeps (pruned history) carries none.
            data = _revert_data_of(exc)
            return (as_bytes(data) if data else None), as_int(tx["transactionIndex"]) == 0
        return revert_data_in_result(result_bytes), as_int(tx["transactionIndex"]) == 0

    def _failure_from_exception(self, exc: Exception) -> TxFailed:
        data = _revert_data_of(exc)
        decoded = self.decode_error(data) if data else None
        message = str(decoded) if decoded else f"transaction would revert: {exc}"
        return TxFailed(message, decoded)

    def _failure_from_receipt(
        self, tx_hash: str, receipt: dict[str, Any], tx: dict[str, Any] | None = None
    ) -> TxFailed:
        """The TxFailed of a mined transaction with status 0, its reason decoded from a replay."""
        data, exact = self.revert_data(tx_hash)
        decoded = self.decode_error(data)
        gas_limit = (tx or {}).get("gas")
        gas_note = " (out of gas)" if gas_limit is not None and as_int(receipt.get("gasUsed", -1)) == gas_limit else ""
        reason = f": {decoded}" if decoded else ""
        if decoded and not exact:
            reason += " (replayed at the parent block: may differ from what the transaction met)"
        return TxFailed(f"transaction {tx_hash} reverted{gas_note}{reason}", decoded, tx_hash)


def _revert_data_of(exc: Exception) -> str | bytes | None:
    """The revert data a node attached to a failed call or estimate, however web3 wrapped it."""
    data = getattr(exc, "data", None)
    if data is None and exc.args and isinstance(exc.args[0], dict):
        data = exc.args[0].get("data")
    if isinstance(data, dict):
        data = data.get("data")
    return data if isinstance(data, (str, bytes)) else None
