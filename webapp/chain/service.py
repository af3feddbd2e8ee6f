"""The web app's one door to the chain: a thin layer over energy_chain.ChainClient.

One ChainClient per process (one HTTP connection pool, one ABI cache); signers come from the unlocked-key cache,
so each account has one nonce counter. Chain failures become ChainUnavailable (HTTP 503) and contract reverts
become TransactionRejected with a sentence from messages.user_message.
"""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import requests
import rlp
from eth_account import Account
from eth_utils import to_checksum_address
from web3.exceptions import ProviderConnectionError, TimeExhausted, TransactionNotFound, Web3RPCError

from energy_chain import ChainClient, ChainConfig, Deployment, Signer, TxFailed
from energy_chain.approvals import UNLIMITED
from energy_chain.deployment import DeploymentMissing
from energy_chain.meters import meter_id
from webapp.chain.events import AbiIndex
from webapp.chain.messages import user_message
from webapp.errors import ChainUnavailable, TransactionRejected, UserError

log = logging.getLogger(__name__)

CONNECTION_ERRORS = (requests.ConnectionError, requests.Timeout, ProviderConnectionError, ConnectionError)


@dataclass(frozen=True)
class Balances:
    energy_wh: int
    settlement_units: int
    energy_allowance: dict[str, int]
    settlement_allowance: dict[str, int]


class ChainService:
    """Reads and transactions the pages and the API need, each guarded to give users clear errors."""

    def __init__(self, settings: dict[str, Any]) -> None:
        self.settings = settings
        self._client: ChainClient | None = None
        self._lock = threading.Lock()
        self._operator: Signer | None = None
        self._abi_index: AbiIndex | None = None
        self._record_mtime: float | None = None

    # ------------------------------------------------------------------ plumbing
    @property
    def client(self) -> ChainClient:
        if self._client is None:
            with self._lock:
                if self._client is None:
                    config = ChainConfig.from_env(
                        rpc_url=self.settings["RPC_URL"],
                        chain_id=self.settings.get("CHAIN_ID"),
                        deployments_dir=self.settings["DEPLOYMENTS_DIR"],
                    )
                    self._client = ChainClient(config)
        return self._client

    def reload_deployment(self) -> None:
        """Forget the cached deployment record (after `make deploy` added contracts)."""
        with self._lock:
            self._client = None
            self._abi_index = None
            self._record_mtime = None

    def refresh_deployment(self) -> bool:
        """Reload when the deployment record file changed on disk; True when it did."""
        path = Deployment.path_for(self.client.config.deployments_dir, self.client.chain_id)
        try:
            mtime = path.stat().st_mtime
        except FileNotFoundError:
            return False
        if self._record_mtime is None:
            self._record_mtime = mtime
            return False
        if mtime == self._record_mtime:
            return False
        log.info("deployment record %s changed: reloading", path)
        self.reload_deployment()
        self._record_mtime = mtime
        return True

    @contextlib.contextmanager
    def guard(self, token: str | None = None) -> Iterator[None]:
        """Turn chain failures into errors a user understands; `token` formats ERC-20 amounts in messages."""
        try:
            yield
        except TxFailed as exc:
            raise TransactionRejected(user_message(exc.error, token), exc.error_name, exc.tx_hash) from exc
        except DeploymentMissing as exc:
            raise ChainUnavailable("The market contracts are not deployed on this chain yet.") from exc
        except TimeExhausted as exc:
            raise ChainUnavailable(
                "The chain did not confirm the transaction in time; check its status later."
            ) from exc
        except CONNECTION_ERRORS as exc:
            log.warning("chain unreachable at %s: %s", self.settings["RPC_URL"], type(exc).__name__)
            raise ChainUnavailable() from exc

    def has_contract(self, name: str) -> bool:
        with contextlib.suppress(DeploymentMissing, *CONNECTION_ERRORS):
            return name in self.client.deployment.contracts
        return False

    def contract(self, name: str):
        with self.guard():
            if name not in self.client.deployment.contracts:
                raise UserError(f"The {name} contract is not deployed on this chain yet.", "not_deployed", 503)
            return self.client.contract(name)

    @property
    def abi_index(self) -> AbiIndex:
        if self._abi_index is None:
            with self.guard():
                self._abi_index = AbiIndex(self.client.deployment)
        return self._abi_index

    # ------------------------------------------------------------------ reads
    def status(self) -> dict[str, Any]:
        """Node reachability, head block and deployed contracts (never raises)."""
        try:
            head = int(self.client.w3.eth.block_number)
        except Exception as exc:  # any failure here only means "not reachable"
            return {"connected": False, "rpc_url": self.settings["RPC_URL"], "error": type(exc).__name__}
        info: dict[str, Any] = {"connected": True, "rpc_url": self.settings["RPC_URL"], "head": head}
        try:
            info["chain_id"] = self.client.chain_id
            info["contracts"] = {n: c["address"] for n, c in self.client.deployment.contracts.items()}
        except DeploymentMissing:
            info["contracts"] = {}
        return info

    def head(self) -> int:
        with self.guard():
            return int(self.client.w3.eth.block_number)

    def balances(self, address: str, spenders: tuple[str, ...] = ()) -> Balances:
        address = to_checksum_address(address)
        with self.guard():
            energy = self.contract("EnergyToken")
            money = self.contract("SettlementToken")
            names = [s for s in spenders if self.has_contract(s)]
            addrs = {s: self.client.deployment.address(s) for s in names}
            return Balances(
                energy_wh=int(energy.functions.balanceOf(address).call()),
                settlement_units=int(money.functions.balanceOf(address).call()),
                energy_allowance={s: int(energy.functions.allowance(address, a).call()) for s, a in addrs.items()},
                settlement_allowance={s: int(money.functions.allowance(address, a).call()) for s, a in addrs.items()},
            )

    def call(self, contract: str, fn: str, *args: Any) -> Any:
        with self.guard():
            return getattr(self.contract(contract).functions, fn)(*args).call()

    # ------------------------------------------------------------------ transactions
    def operator(self) -> Signer:
        """The operator's signer: anvil's operator account on the local chain, else an encrypted keystore."""
        if self._operator is None:
            keystore = self.settings.get("OPERATOR_KEYSTORE")
            if keystore:
                self._operator = Signer.from_keystore_files(keystore, self.settings["OPERATOR_PASSWORD_FILE"])
            else:
                from webapp.services.demo_seed import local_operator  # the demo's dev key; refused on any other chain

                with self.guard():
                    operator = local_operator(self.client)
                if operator is None:
                    raise UserError("No operator key is configured (OPERATOR_KEYSTORE).", "no_operator", 503)
                self._operator = operator
        return self._operator

    def submit(
        self,
        signer: Signer,
        contract: str,
        fn: str,
        args: tuple[Any, ...] = (),
        token: str | None = None,
        gas: int | None = None,
    ) -> str:
        """Sign and send `contract.fn(*args)` without waiting; returns the transaction hash.

        Without `gas` the call is simulated first, so a revert (insufficient balance, price out of range)
        is reported at once with its decoded reason and no nonce is spent.
        """
        return self._send(self.client.send, signer, contract, fn, args, token, gas)

    def transact(
        self,
        signer: Signer,
        contract: str,
        fn: str,
        args: tuple[Any, ...] = (),
        token: str | None = None,
        gas: int | None = None,
    ) -> dict[str, Any]:
        """As `submit`, and wait for the receipt (a revert on chain raises TransactionRejected, decoded)."""
        return self._send(self.client.transact, signer, contract, fn, args, token, gas)

    def send(self, *args: Any, wait: bool = False, **kwargs: Any) -> str | dict[str, Any]:
        """`transact(...)` when `wait`, else `submit(...)` (for callers that decide at run time)."""
        return (self.transact if wait else self.submit)(*args, **kwargs)

    def _send(
        self,
        send: Callable[..., Any],
        signer: Signer,
        contract: str,
        fn: str,
        args: tuple[Any, ...],
        token: str | None,
        gas: int | None,
    ) -> Any:
        with self.guard(token):
            function = getattr(self.contract(contract).functions, fn)(*args)
            try:
                return send(function, signer, gas=gas)
            except Web3RPCError as exc:
                if "nonce" not in str(exc).lower():
                    raise UserError(f"The chain refused the transaction: {exc.message}", "rejected", 422) from exc
                signer.resync()  # another process used this account: count again from the node, once
                return send(function, signer, gas=gas)

    def top_up(self, address: str, units: int, reference: str) -> dict[str, Any]:
        ref = bytes(self.client.w3.keccak(text=reference))
        args = (to_checksum_address(address), units, ref)
        return self.transact(self.operator(), "SettlementToken", "topUp", args)

    def register_meter(self, serial: str, owner: str) -> dict[str, Any]:
        args = (meter_id(serial), to_checksum_address(owner))
        return self.transact(self.operator(), "MeterRegistry", "registerMeter", args)

    def approve(self, signer: Signer, token_contract: str, spender_contract: str, wait: bool = True) -> Any:
        spender = self.client.deployment.address(spender_contract)
        return self.send(signer, token_contract, "approve", (spender, UNLIMITED), wait=wait)

    def send_raw_from(self, raw_hex: str, expected_sender: str) -> str:
        """Relay a transaction signed in the user's browser wallet, after checking who signed it and where it goes."""
        try:
            raw = bytes.fromhex(raw_hex[2:] if raw_hex.startswith("0x") else raw_hex)
            sender = Account.recover_transaction(raw)
            to = _raw_tx_to(raw)
        except Exception as exc:  # local decoding only; rlp, eth-account and eth-keys raise many types: all "invalid"
            raise UserError("That is not a valid signed transaction.", "invalid_transaction") from exc
        if sender.lower() != expected_sender.lower():
            raise UserError("The transaction is not signed by your wallet.", "wrong_signer", 403)
        if to is None or self.abi_index.contract_name(to) is None:
            raise UserError("The transaction is not addressed to a market contract.", "wrong_contract", 403)
        with self.guard():
            try:
                return self.client.send_raw(raw)
            except Web3RPCError as exc:
                raise UserError(f"The chain refused the transaction: {exc.message}", "rejected", 422) from exc

    def tx_status(self, tx_hash: str) -> dict[str, Any]:
        """pending | success | failed (with the decoded reason) for a transaction hash."""
        with self.guard():
            try:
                receipt = self.client.w3.eth.get_transaction_receipt(tx_hash)  # type: ignore[arg-type]
            except TransactionNotFound:
                try:
                    self.client.w3.eth.get_transaction(tx_hash)  # type: ignore[arg-type]
                except TransactionNotFound as exc:
                    raise UserError("No transaction with that hash is known.", "not_found", 404) from exc
                return {"tx_hash": tx_hash, "status": "pending"}
            result: dict[str, Any] = {
                "tx_hash": tx_hash,
                "block": int(receipt["blockNumber"]),
                "gas_used": int(receipt["gasUsed"]),
            }
            if receipt["status"] == 1:
                result["status"] = "success"
                return result
            result["status"] = "failed"
            failure = self.client.explain_failure(tx_hash)
            result["error_name"] = failure.error_name
            result["message"] = user_message(failure.error)
            return result


def _raw_tx_to(raw: bytes) -> str | None:
    """The `to` field of a legacy (RLP list) or typed (EIP-2930/1559) raw transaction."""
    if raw[0] >= 0xC0:
        fields = rlp.decode(raw)
        to = fields[3]
    elif raw[0] in (1, 2):
        fields = rlp.decode(raw[1:])
        to = fields[4] if raw[0] == 1 else fields[5]
    else:
        raise ValueError("unsupported transaction type")
    return to_checksum_address(to) if to else None
