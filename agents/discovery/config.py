"""DHT settings from the environment (DHT_*), so a meter on the lab network and a test on 127.0.0.1 share code."""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass, field

DEFAULT_PORT = 8468  # kademlia's customary port


def parse_peers(text: str) -> list[tuple[str, int]]:
    """`host:port,host:port` -> [(ip, port)]; kademlia takes IP addresses only, so names are resolved here."""
    peers: list[tuple[str, int]] = []
    for item in (p.strip() for p in text.split(",")):
        if not item:
            continue
        host, sep, port_text = item.rpartition(":")
        if not sep or not host or not port_text.isdigit() or not 0 < int(port_text) < 65536:
            raise ValueError(f"DHT_BOOTSTRAP entries are host:port, got {item!r}")
        try:
            ip = socket.gethostbyname(host.strip("[]"))
        except OSError as exc:
            raise ValueError(f"DHT_BOOTSTRAP host {host!r} does not resolve: {exc}") from exc
        peers.append((ip, int(port_text)))
    return peers


def _env_number(name: str, default: float, minimum: float) -> float:
    raw = os.environ.get(name, "")
    if raw == "":
        return default
    try:
        value = float(raw)
    except ValueError as exc:
        raise ValueError(f"environment variable {name} must be a number, got {raw!r}") from exc
    if value < minimum:
        raise ValueError(f"environment variable {name} must be >= {minimum}, got {value}")
    return value


@dataclass(frozen=True)
class DhtConfig:
    """host/port: where this node listens (DHT_HOST, default 127.0.0.1; DHT_PORT, default 8468, 0 = any free port).
    bootstrap: known peers (DHT_BOOTSTRAP=host:port,...). record_ttl_s: lifetime of a published record, republished
    every third of it (DHT_RECORD_TTL_S, default 300). rpc_timeout_s: wait for one UDP answer (DHT_RPC_TIMEOUT_S, 2).
    ksize/alpha: Kademlia's k (replicas, bucket size) and lookup parallelism (DHT_KSIZE 20, DHT_ALPHA 3).
    max_parallel_lookups: meters one gather looks up at once (DHT_MAX_PARALLEL_LOOKUPS, default 16)."""

    host: str = "127.0.0.1"
    port: int = DEFAULT_PORT
    bootstrap: list[tuple[str, int]] = field(default_factory=list)
    record_ttl_s: int = 300
    rpc_timeout_s: float = 2.0
    ksize: int = 20
    alpha: int = 3
    max_parallel_lookups: int = 16

    @classmethod
    def from_env(cls) -> DhtConfig:
        return cls(
            host=os.environ.get("DHT_HOST", "127.0.0.1"),
            port=int(_env_number("DHT_PORT", DEFAULT_PORT, 0)),
            bootstrap=parse_peers(os.environ.get("DHT_BOOTSTRAP", "")),
            record_ttl_s=int(_env_number("DHT_RECORD_TTL_S", 300, 3)),
            rpc_timeout_s=_env_number("DHT_RPC_TIMEOUT_S", 2.0, 0.05),
            ksize=int(_env_number("DHT_KSIZE", 20, 2)),
            alpha=int(_env_number("DHT_ALPHA", 3, 1)),
            max_parallel_lookups=int(_env_number("DHT_MAX_PARALLEL_LOOKUPS", 16, 1)),
        )
