"""The order book as pages and hints see it: a depth snapshot shared by all requests for DEPTH_CACHE_SECONDS."""

from __future__ import annotations

import threading
import time

from flask import current_app

from energy_chain.orders import Side
from webapp.services.context import chain

BOOK = "OrderBook"
DEPTH_LEVELS = 12
SNAPSHOT_LEVELS = 64  # levels per side kept in the shared snapshot (hints and the book shown on pages)


class DepthCache:
    """The best SNAPSHOT_LEVELS levels of each side, read at most once per `ttl` seconds by all requests."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._sides: dict[int, tuple[float, list[tuple[int, int]]]] = {}

    def levels(self, side: int, ttl: float) -> list[tuple[int, int]]:
        now = time.monotonic()
        cached = self._sides.get(side)
        if cached is not None and now - cached[0] < ttl:
            return cached[1]
        with self._lock:
            cached = self._sides.get(side)
            if cached is not None and now - cached[0] < ttl:
                return cached[1]
            rows = [(int(p), int(a)) for p, a in chain().call(BOOK, "depth", side, SNAPSHOT_LEVELS)]
            self._sides[side] = (time.monotonic(), rows)
            return rows

    def invalidate(self) -> None:
        with self._lock:
            self._sides.clear()


def _cache() -> DepthCache:
    return current_app.extensions.setdefault("depth_cache", DepthCache())


def levels(side: Side) -> list[tuple[int, int]]:
    """(price, Wh) levels of `side`, best first, from the shared snapshot."""
    return _cache().levels(int(side), float(current_app.config["DEPTH_CACHE_SECONDS"]))


def invalidate() -> None:
    """The next read goes to the chain (after this process's own order was mined)."""
    _cache().invalidate()


def depth(n_levels: int = DEPTH_LEVELS) -> dict[str, list[dict[str, int]]]:
    """Aggregated bids (best = highest first) and asks (best = lowest first), from the shared snapshot."""
    out: dict[str, list[dict[str, int]]] = {}
    for name, side in (("bids", Side.BUY), ("asks", Side.SELL)):
        out[name] = [{"price": p, "amount_wh": a} for p, a in levels(side)[:n_levels]]
    return out
