"""Chain settings from the environment, shared by scripts, oracle, webapp and load tests."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_RPC_URL = "http://127.0.0.1:8545"
LOCAL_CHAIN_ID = 1337


def _env_int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw, 0)
    except ValueError as exc:
        raise ValueError(f"environment variable {name} must be an integer, got {raw!r}") from exc


@dataclass(frozen=True)
class ChainConfig:
    """Where the chain is and how to transact on it.

    rpc_url: JSON-RPC endpoint (RPC_URL).
    chain_id: expected chain id (CHAIN_ID); None means ask the node and trust it.
    deployments_dir: folder of deployment records `<chain-id>.json` (DEPLOYMENTS_DIR).
    gas_price: gas price of every transaction (GAS_PRICE, default 0: the chain is zero-gas).
    confirmations: blocks after inclusion before a receipt counts as final (CONFIRMATIONS).
    timeout_s: how long to wait for a receipt (TX_TIMEOUT).
    default_gas: gas limit to use when the node cannot estimate gas (DEFAULT_GAS; unset: estimation must work).
        Some PoA clients (ethereumjs clique) fail eth_estimateGas; calls are then simulated with eth_call instead.
    """

    rpc_url: str = DEFAULT_RPC_URL
    chain_id: int | None = None
    deployments_dir: Path = PROJECT_ROOT / "deployments"
    gas_price: int = 0
    confirmations: int = 0
    timeout_s: float = 60.0
    default_gas: int | None = None

    @classmethod
    def from_env(cls, **overrides: object) -> ChainConfig:
        chain_id_raw = os.environ.get("CHAIN_ID")
        values: dict[str, object] = {
            "rpc_url": os.environ.get("RPC_URL", DEFAULT_RPC_URL),
            "chain_id": int(chain_id_raw, 0) if chain_id_raw else None,
            "deployments_dir": Path(os.environ.get("DEPLOYMENTS_DIR", PROJECT_ROOT / "deployments")),
            "gas_price": _env_int("GAS_PRICE", 0),
            "confirmations": _env_int("CONFIRMATIONS", 0),
            "timeout_s": float(os.environ.get("TX_TIMEOUT", "60")),
            "default_gas": _env_int("DEFAULT_GAS", 0) or None,
        }
        values.update(overrides)
        return cls(**values)  # type: ignore[arg-type]
