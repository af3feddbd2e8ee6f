"""Connect to (or start) a market and create and fund many trading accounts at once, for benchmarks and load tests.

Every funding step is a list of pre-signed transactions sent in JSON-RPC batches and awaited together:
settlement tokens by the operator's top-up, energy tokens through a meter registered to the account plus one
surplus reading recorded by the oracle, and unlimited approvals of the order book signed by each account.
On the local chain (chain id 1337) the operator and oracle are anvil's dev accounts; elsewhere their encrypted
keystores: OPERATOR_KEYSTORE + OPERATOR_PASSWORD_FILE and ORACLE_KEYSTORE + ORACLE_PASSWORD_FILE.
"""

from __future__ import annotations

import os
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from eth_utils import keccak

from energy_chain import ChainClient, ChainConfig, Signer
from energy_chain.anvil import start_anvil
from energy_chain.approvals import APPROVE_GAS, approve_function
from energy_chain.deployment import DeploymentMissing
from energy_chain.devchain import is_local, local_signer
from energy_chain.meters import DEFAULT_PERIOD_S, align, first_interval, meter_id
from energy_chain.orders import OrderBookClient
from scripts.deploy import deploy as deploy_contracts

TOPUP_GAS = 120_000
REGISTER_GAS = 150_000
READING_GAS_PER_METER = 140_000  # a first mint to a new holder is ~126k (reports/gas.json), plus headroom
READINGS_PER_TX = 100  # EnergyToken.MAX_BATCH is 200; 100 keeps one transaction well under 15M gas
SEND_BATCH = 500
NONCE_RACE_ATTEMPTS = 5  # give_energy beside a running oracle daemon that signs with the same key


@dataclass
class Market:
    """A chain with the project's contracts, and the role keys that can fund accounts on it."""

    client: ChainClient
    book: OrderBookClient
    operator: Signer | None  # None: this chain's operator key was not given (no top-ups from here)
    oracle: Signer | None
    rpc_url: str
    deployments_dir: Path


def role_signer(client: ChainClient, role: str) -> Signer | None:
    """The operator or oracle key: <ROLE>_KEYSTORE, else the dev account on the local chain (None elsewhere)."""
    keystore = os.environ.get(f"{role.upper()}_KEYSTORE")
    if keystore:
        return Signer.from_keystore_files(keystore, os.environ[f"{role.upper()}_PASSWORD_FILE"])
    return local_signer(client, role) if is_local(client) else None


def connect(rpc_url: str, deployments_dir: Path, deploy: bool = True) -> Market:
    """The market on `rpc_url`, deploying the contracts first when `deploy` and no record exists."""
    client = ChainClient(ChainConfig.from_env(rpc_url=rpc_url, deployments_dir=deployments_dir, timeout_s=300))
    try:
        client.deployment  # noqa: B018 - loads the record or raises
        if "OrderBook" not in client.deployment.contracts:
            raise DeploymentMissing("no OrderBook in the record")
    except DeploymentMissing:
        if not deploy:
            raise
        deploy_contracts(client, quiet=True)
    operator = role_signer(client, "operator")
    oracle = role_signer(client, "oracle")
    return Market(client, OrderBookClient(client), operator, oracle, rpc_url, Path(deployments_dir))


@contextmanager
def local_market(
    rpc_url: str | None, block_time: float = 1, gas_limit: int = 300_000_000, log_file: Path | None = None
) -> Iterator[Market]:
    """The market on `rpc_url`, or on a fresh anvil (free port, own temporary deployment record) when None."""
    if rpc_url:
        deployments = Path(os.environ.get("DEPLOYMENTS_DIR", Path(__file__).resolve().parent.parent / "deployments"))
        yield connect(rpc_url, deployments)
        return
    node = start_anvil(block_time=block_time, gas_limit=gas_limit, log_file=log_file)
    try:
        with tempfile.TemporaryDirectory(prefix="load-deploy-") as tmp:
            yield connect(node.url, Path(tmp))
    finally:
        node.stop()


def account_keys(count: int, seed: str) -> list[str]:
    """`count` private keys derived from `seed`: the orchestrator funds them, the load generator signs with them."""
    return ["0x" + keccak(text=f"{seed}:{i}").hex() for i in range(count)]


def pending_nonces(client: ChainClient, addresses: Sequence[str]) -> list[int]:
    """Pending nonces of many accounts in batched requests."""
    out: list[int] = []
    for start in range(0, len(addresses), SEND_BATCH):
        part = addresses[start : start + SEND_BATCH]
        replies = client.w3.provider.make_batch_request(  # type: ignore[attr-defined]
            [("eth_getTransactionCount", [a, "pending"]) for a in part]
        )
        out.extend(int(r["result"], 16) if isinstance(r["result"], str) else int(r["result"]) for r in replies)
    return out


def send_and_wait(client: ChainClient, raws: Sequence[bytes], what: str, timeout_s: float = 300) -> list[dict]:
    """Send pre-signed transactions in batches and wait for all; raise if any was refused or reverted."""
    hashes: list[str] = []
    for start in range(0, len(raws), SEND_BATCH):
        results = client.send_raw_batch(raws[start : start + SEND_BATCH])
        refused = [r for r in results if not isinstance(r, str)]
        if refused:
            raise RuntimeError(f"{what}: {len(refused)} transactions refused, e.g. {refused[0]}")
        hashes.extend(results)  # type: ignore[arg-type]
    receipts = client.wait_for_receipts(hashes, timeout_s=timeout_s)
    failed = [h for h, r in receipts.items() if int(r["status"], 16) != 1]
    if failed:
        raise RuntimeError(f"{what}: {len(failed)} transactions reverted, e.g. {failed[0]}")
    return list(receipts.values())


def _signed_calls(client: ChainClient, signer: Signer, calls: Sequence[Any], gas: int) -> list[bytes]:
    nonces = signer.reserve(len(calls), client.pending_nonce)
    return [signer.sign(client.build_tx(fn, signer, gas, n)) for fn, n in zip(calls, nonces, strict=True)]


def _operator(market: Market) -> Signer:
    if market.operator is None:
        raise SystemExit("funding accounts needs the operator key: set OPERATOR_KEYSTORE and OPERATOR_PASSWORD_FILE")
    return market.operator


def top_up(market: Market, addresses: Sequence[str], units: int, tag: str) -> None:
    operator = _operator(market)
    token = market.client.contract("SettlementToken")
    ref = keccak(text=f"load-topup:{tag}")
    calls = [token.functions.topUp(a, units, ref) for a in addresses]
    send_and_wait(market.client, _signed_calls(market.client, operator, calls, TOPUP_GAS), "top-ups")


def give_energy(market: Market, addresses: Sequence[str], wh: int, tag: str) -> None:
    """Register one meter per account (the oracle's period, first interval a day back) and record one surplus
    reading of `wh` for it, an hour back and aligned to the period (mints the energy tokens)."""
    if market.oracle is None:
        raise SystemExit("minting energy needs the oracle key: set ORACLE_KEYSTORE and ORACLE_PASSWORD_FILE")
    client = market.client
    registry, energy = client.contract("MeterRegistry"), client.contract("EnergyToken")
    ids = [meter_id(f"load:{tag}:{a}") for a in addresses]
    now = int(client.w3.eth.get_block("latest")["timestamp"])
    first = first_interval(now, DEFAULT_PERIOD_S)
    calls = [registry.functions.registerMeterWithPeriod(m, a, DEFAULT_PERIOD_S, first)
             for m, a in zip(ids, addresses, strict=True)]  # fmt: skip
    send_and_wait(client, _signed_calls(client, _operator(market), calls, REGISTER_GAS), "meter registrations")
    interval = align(now - 3600, DEFAULT_PERIOD_S)
    readings = [(m, interval, wh, 0) for m in ids]
    chunks = [readings[i : i + READINGS_PER_TX] for i in range(0, len(readings), READINGS_PER_TX)]
    # Against a live demo the oracle daemon sends with the same key: a nonce taken in between is refused
    # ("replacement transaction underpriced", "nonce too low"); then re-read the nonce and sign again.
    for attempt in range(NONCE_RACE_ATTEMPTS):
        market.oracle.resync()
        nonces = market.oracle.reserve(len(chunks), client.pending_nonce)
        raws = [
            market.oracle.sign(
                client.build_tx(
                    energy.functions.recordReadings(chunk),
                    market.oracle,
                    100_000 + READING_GAS_PER_METER * len(chunk),
                    n,
                )
            )
            for chunk, n in zip(chunks, nonces, strict=True)
        ]
        try:
            send_and_wait(client, raws, "energy readings")
            return
        except RuntimeError as exc:
            if "refused" not in str(exc) or attempt == NONCE_RACE_ATTEMPTS - 1:
                raise
            time.sleep(1.0)  # the daemon's transaction mines; a re-sent reading of the same interval is skipped


def approve_book(
    market: Market,
    signers: Sequence[Signer],
    tokens: Sequence[str] = ("SettlementToken", "EnergyToken"),
    spender: str = "OrderBook",
) -> None:
    """Each account approves the book without limit on `tokens` (its own transactions, nonces counted locally)."""
    client = market.client
    spender_address = client.deployment.address(spender)
    raws = []
    for signer, base in zip(signers, pending_nonces(client, [s.address for s in signers]), strict=True):
        for k, token in enumerate(tokens):
            fn = approve_function(client, token, spender_address)
            raws.append(signer.sign(client.build_tx(fn, signer, APPROVE_GAS, base + k)))
    send_and_wait(client, raws, "approvals")


def fund_traders(market: Market, signers: Sequence[Signer], units: int, energy_wh: int, tag: str) -> None:
    """Settlement tokens for everyone, energy for the sellers (energy_wh > 0), approvals of the book."""
    addresses = [s.address for s in signers]
    top_up(market, addresses, units, tag)
    if energy_wh:
        give_energy(market, addresses, energy_wh, tag)
    approve_book(market, signers, ("SettlementToken", "EnergyToken") if energy_wh else ("SettlementToken",))
