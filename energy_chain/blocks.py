"""Follow new blocks over raw JSON-RPC: their transaction hashes, gas, and which transactions logged success.

Throughput is counted from blocks, never from what was submitted (scripts/bench.py, tests/load). Plain `requests`
and no web3, so it also runs inside Locust's gevent loop (requests is cooperative there once gevent patched it).
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import requests


class RpcError(RuntimeError):
    """The node answered a JSON-RPC call with an error object."""

    def __init__(self, method: str, error: Any) -> None:
        super().__init__(f"{method}: {error}")
        self.method = method
        self.error = error


class JsonRpc:
    """A minimal JSON-RPC client on one keep-alive HTTP session (single calls and batches)."""

    def __init__(self, url: str, timeout: float = 30, session: requests.Session | None = None) -> None:
        self.url = url
        self.timeout = timeout
        self.session = session or requests.Session()
        self._ids = itertools.count(1)

    def call(self, method: str, params: Sequence[Any] = ()) -> Any:
        body = {"jsonrpc": "2.0", "id": next(self._ids), "method": method, "params": list(params)}
        reply = self.session.post(self.url, json=body, timeout=self.timeout)
        reply.raise_for_status()
        data = reply.json()
        if "error" in data:
            raise RpcError(method, data["error"])
        return data["result"]

    def batch(self, calls: Sequence[tuple[str, Sequence[Any]]]) -> list[dict[str, Any]]:
        """Send calls in one request; returns each raw response ({"result": …} or {"error": …}) in call order."""
        if not calls:
            return []
        first = next(self._ids)
        body = [{"jsonrpc": "2.0", "id": first + i, "method": m, "params": list(p)} for i, (m, p) in enumerate(calls)]
        for _ in range(len(calls) - 1):
            next(self._ids)
        reply = self.session.post(self.url, json=body, timeout=self.timeout)
        reply.raise_for_status()
        data = reply.json()
        if isinstance(data, dict):  # the whole batch was refused
            return [data] * len(calls)
        by_id = {d.get("id"): d for d in data}
        return [by_id.get(first + i, {"error": "missing response"}) for i in range(len(calls))]


@dataclass(frozen=True)
class MinedBlock:
    """One block as the follower saw it. `seen_at` is this machine's wall clock when it first saw the block."""

    number: int
    timestamp: int
    gas_used: int
    gas_limit: int
    tx_hashes: tuple[str, ...]
    seen_at: float
    logged: frozenset[str] | None = None  # hashes of the transactions that emitted a log matching `log_filter`

    @property
    def tx_count(self) -> int:
        return len(self.tx_hashes)


def _int(value: Any) -> int:
    return int(value, 16) if isinstance(value, str) else int(value)


class BlockFollower:
    """Yields every new block once, in order. `poll()` returns the blocks mined since the last poll.

    With a `log_filter` ({"address": ..., "topics": [...]}, as for eth_getLogs) each block also says which of its
    transactions emitted a matching log: a transaction that always logs on success (OrderPlaced, OrderCancelled)
    and is in the block without one reverted. This replaces receipts, which anvil builds in time quadratic in the
    block's size (eth_getBlockReceipts of a 2 400-transaction block took 6 s; its logs 0.5 s).
    """

    def __init__(
        self,
        rpc: JsonRpc | str,
        log_filter: dict[str, Any] | None = None,
        start: int | None = None,
        max_batch: int = 20,
    ) -> None:
        self.rpc = rpc if isinstance(rpc, JsonRpc) else JsonRpc(rpc)
        self.log_filter = log_filter
        self.max_batch = max_batch
        self.next_number = start if start is not None else self.head() + 1

    def head(self) -> int:
        return _int(self.rpc.call("eth_blockNumber"))

    def poll(self) -> list[MinedBlock]:
        head = self.head()
        if head < self.next_number:
            return []
        numbers = list(range(self.next_number, min(head, self.next_number + self.max_batch - 1) + 1))
        return self.fetch(numbers)

    def fetch(self, numbers: Iterable[int]) -> list[MinedBlock]:
        """These consecutive blocks (and their matching logs); advances the follower past the last one."""
        numbers = list(numbers)
        if not numbers:
            return []
        calls: list[tuple[str, Sequence[Any]]] = [("eth_getBlockByNumber", [hex(n), False]) for n in numbers]
        if self.log_filter is not None:
            calls.append(
                ("eth_getLogs", [{**self.log_filter, "fromBlock": hex(numbers[0]), "toBlock": hex(numbers[-1])}])
            )
        replies = self.rpc.batch(calls)
        seen_at = time.time()
        logged: dict[int, set[str]] | None = None
        if self.log_filter is not None:
            logs = replies[-1].get("result")
            if logs is None:
                raise RpcError("eth_getLogs", replies[-1].get("error"))
            logged = {n: set() for n in numbers}
            for entry in logs:
                logged.setdefault(_int(entry["blockNumber"]), set()).add(str(entry["transactionHash"]).lower())
        blocks = []
        for n, reply in zip(numbers, replies, strict=False):
            raw = reply.get("result")
            if raw is None:
                raise RpcError("eth_getBlockByNumber", reply.get("error", f"block {n} missing"))
            hashes = tuple(str(h).lower() for h in raw["transactions"])
            ok = frozenset(logged[n]) if logged is not None else None
            blocks.append(
                MinedBlock(n, _int(raw["timestamp"]), _int(raw["gasUsed"]), _int(raw["gasLimit"]), hashes, seen_at, ok)
            )
        self.next_number = numbers[-1] + 1
        return blocks


def mined_rate(blocks: Sequence[MinedBlock], counts: Sequence[int] | None = None) -> tuple[float, float]:
    """(transactions per second, window in seconds) over `blocks`, from their timestamps.

    `counts` are the transactions to count per block (default: all of them). The window runs from the timestamp of
    the block before the first busy one (when those transactions could start being included) to the last busy one,
    so idle blocks before and after do not dilute the rate.
    """
    counts = list(counts) if counts is not None else [b.tx_count for b in blocks]
    busy = [i for i, c in enumerate(counts) if c]
    if not busy:
        return 0.0, 0.0
    first, last = busy[0], busy[-1]
    start = blocks[first - 1].timestamp if first > 0 else blocks[first].timestamp - 1
    window = max(1, blocks[last].timestamp - start)
    return sum(counts[first : last + 1]) / window, float(window)
