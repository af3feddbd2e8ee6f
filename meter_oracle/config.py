"""Oracle configuration: defaults < config file (TOML) < environment < command line, parsed into frozen dataclasses.

The oracle's key is an encrypted keystore plus a password file (ORACLE_KEYSTORE_FILE, ORACLE_PASSWORD_FILE); a
plaintext key is refused. Relative paths in the config file are relative to that file; on the command line and in
the environment, relative to the working directory.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from energy_chain import ChainConfig
from energy_chain.config import DEFAULT_RPC_URL, PROJECT_ROOT

SOURCE_KINDS = ("simulate", "replay", "modbus")
MAX_BATCH = 200  # EnergyToken.MAX_BATCH


@dataclass(frozen=True)
class SourceConfig:
    """Where readings come from. kind: simulate (community file), replay (CSV) or modbus (meters list)."""

    kind: str = "simulate"
    community: Path | None = None
    replay_csv: Path | None = None
    modbus_meters: tuple[dict[str, Any], ...] = ()
    base_dir: Path = PROJECT_ROOT
    backfill_hours: float = 6.0  # simulate/replay: start this far in the past...
    speed: float = 60.0  # ...and play this many times faster than real time until caught up
    modbus_timeout_s: float = 2.0
    read_delay_s: float = 0.3  # read real meters this long after the boundary (their counters settle)


@dataclass(frozen=True)
class OracleConfig:
    chain: ChainConfig = field(default_factory=ChainConfig)
    source: SourceConfig = field(default_factory=SourceConfig)
    keystore_file: Path | None = None
    password_file: Path | None = None
    interval_s: int = 60
    outbox: Path = PROJECT_ROOT / "var" / "oracle" / "outbox.sqlite"
    metrics_port: int = 9108  # 0: no metrics endpoint
    metrics_addr: str = "127.0.0.1"
    log_level: str = "INFO"
    log_format: str = "json"
    batch_size: int = MAX_BATCH
    max_in_flight: int = 4  # batches sent and not yet mined
    gas_base: int = 100_000
    # Measured per reading in batches of 200: first mint to a new holder 57k, later mints 40k, deficits 34-35k.
    gas_per_reading: int = 80_000
    backoff_initial_s: float = 0.5
    backoff_max_s: float = 10.0
    resend_after_s: float = 10.0  # rebroadcast a batch that has no receipt after this long
    max_attempts: int = 5  # a reading in this many reverted batches is set aside as rejected
    max_power_w: float = 50_000.0
    future_skew_s: float = 5.0

    def __post_init__(self) -> None:
        if self.interval_s <= 0:
            raise ValueError("interval_s must be positive")
        if not 1 <= self.batch_size <= MAX_BATCH:
            raise ValueError(f"batch_size must be between 1 and {MAX_BATCH}")
        if self.source.kind not in SOURCE_KINDS:
            raise ValueError(f"source kind must be one of {SOURCE_KINDS}")
        if self.source.speed < 1:
            raise ValueError("source speed must be >= 1")


# (section, key) in the file -> (environment variable, type)
_ENV: dict[tuple[str, str], tuple[str, type]] = {
    ("chain", "rpc_url"): ("RPC_URL", str),
    ("chain", "chain_id"): ("CHAIN_ID", int),
    ("chain", "deployments_dir"): ("DEPLOYMENTS_DIR", Path),
    ("chain", "confirmations"): ("CONFIRMATIONS", int),
    ("chain", "timeout_s"): ("TX_TIMEOUT", float),
    ("oracle", "keystore_file"): ("ORACLE_KEYSTORE_FILE", Path),
    ("oracle", "password_file"): ("ORACLE_PASSWORD_FILE", Path),
    ("oracle", "interval_s"): ("ORACLE_INTERVAL_S", int),
    ("oracle", "outbox"): ("ORACLE_OUTBOX", Path),
    ("oracle", "metrics_port"): ("ORACLE_METRICS_PORT", int),
    ("oracle", "metrics_addr"): ("ORACLE_METRICS_ADDR", str),
    ("oracle", "log_level"): ("ORACLE_LOG_LEVEL", str),
    ("oracle", "log_format"): ("ORACLE_LOG_FORMAT", str),
    ("oracle", "batch_size"): ("ORACLE_BATCH_SIZE", int),
    ("oracle", "max_in_flight"): ("ORACLE_MAX_IN_FLIGHT", int),
    ("validation", "max_power_w"): ("ORACLE_MAX_POWER_W", float),
    ("source", "kind"): ("ORACLE_SOURCE", str),
    ("source", "community"): ("ORACLE_COMMUNITY", Path),
    ("source", "replay_csv"): ("ORACLE_REPLAY_CSV", Path),
    ("source", "backfill_hours"): ("ORACLE_BACKFILL_HOURS", float),
    ("source", "speed"): ("ORACLE_SPEED", float),
}
_PATHS = {"deployments_dir", "keystore_file", "password_file", "outbox", "community", "replay_csv"}
_SECRET_KEYS = {"private_key", "key", "password", "mnemonic"}


def _cast(kind: type, raw: str) -> Any:
    if kind is int:
        return int(raw, 0)
    return kind(raw)


def load_config(
    path: str | Path | None = None,
    env: Mapping[str, str] | None = None,
    overrides: Mapping[str, Mapping[str, Any]] | None = None,
) -> OracleConfig:
    """Build the configuration; `overrides` ({section: {key: value}}) are command-line values (None = not given)."""
    env = os.environ if env is None else env
    data: dict[str, dict[str, Any]] = {"chain": {}, "oracle": {}, "validation": {}, "source": {}}
    base = Path.cwd()
    if path is not None:
        path = Path(path)
        loaded = tomllib.loads(path.read_text())
        file_dir = path.resolve().parent
        for section, values in loaded.items():
            if section not in data or not isinstance(values, dict):
                raise ValueError(f"{path}: unknown section [{section}]")
            if _SECRET_KEYS & set(values):
                raise ValueError(f"{path}: [{section}] holds a secret; use keystore_file and password_file instead")
            for key, value in values.items():
                data[section][key] = file_dir / value if key in _PATHS and not Path(value).is_absolute() else value
        data["source"].setdefault("base_dir", file_dir)
    for (section, key), (var, kind) in _ENV.items():
        if env.get(var):
            data[section][key] = base / _cast(kind, env[var]) if kind is Path else _cast(kind, env[var])
    for section, values in (overrides or {}).items():
        for key, value in values.items():
            if value is not None:
                data[section][key] = base / value if key in _PATHS and isinstance(value, (str, Path)) else value
    return _build(data)


def _build(data: dict[str, dict[str, Any]]) -> OracleConfig:
    chain_values = dict(data["chain"])
    chain_values.setdefault("rpc_url", DEFAULT_RPC_URL)
    chain = ChainConfig(**chain_values)
    src = dict(data["source"])
    if "meters" in src:
        src["modbus_meters"] = tuple(src.pop("meters"))
    source = SourceConfig(**src)
    return OracleConfig(chain=chain, source=source, **data["oracle"], **data["validation"])
