"""The load test's block watcher: which submitted transactions were mined, when, and whether they succeeded.

Users register every transaction hash they got back (`expect`). A greenlet follows the chain block by block (with
the logs that mark success) and, for each of our transactions it finds, fires a Locust request event of type MINED
whose response time is submit → mined (the moment this watcher first saw its block), or a failure if it reverted
(mined without its OrderPlaced/OrderCancelled log, i.e. receipt status 0). Transactions not mined within
`drop_after_s` count as dropped (a failure). Mined tx/s is counted from the blocks, so it can never exceed what the
chain actually included.
"""

from __future__ import annotations

import csv
import logging
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import gevent

from energy_chain.blocks import BlockFollower, JsonRpc, MinedBlock

log = logging.getLogger("loadtest.watcher")

MINED = "MINED"


class TxReverted(Exception):
    """The transaction was mined with status 0."""


class TxDropped(Exception):
    """The node accepted the transaction but it was not mined in time."""


@dataclass
class BlockRow:
    number: int
    timestamp: int
    seen_at: float
    txs: int
    ours: int
    gas_used: int
    gas_limit: int


@dataclass
class Window:
    """What happened between two wall-clock instants (the steady phase of a scenario)."""

    start: float
    end: float
    mined: int = 0
    latencies: list[float] = field(default_factory=list)


FireFn = Callable[..., None]


class Watcher:
    def __init__(self, follower: BlockFollower, fire: FireFn, poll_s: float = 0.1, drop_after_s: float = 60) -> None:
        self.follower = follower
        self.fire = fire
        self.poll_s = poll_s
        self.drop_after_s = drop_after_s
        self.pending: dict[str, tuple[float, str]] = {}  # tx hash -> (submitted at, name)
        # Mined transactions nobody claimed yet: under load an HTTP response can arrive after its block did.
        self.unclaimed: dict[str, tuple[MinedBlock, bool]] = {}
        self.mined: list[tuple[float, float, str]] = []  # (submitted at, mined at, name) of successful txs
        self.blocks: list[BlockRow] = []
        self.reverted = 0
        self.dropped = 0
        self._greenlet: gevent.Greenlet | None = None
        self.error: str | None = None

    @classmethod
    def for_node(cls, rpc_url: str, success_logs: dict, fire: FireFn) -> Watcher:
        """`success_logs`: an eth_getLogs filter matching the log every successful transaction of ours emits."""
        return cls(BlockFollower(JsonRpc(rpc_url, timeout=30), success_logs), fire)

    # ------------------------------------------------------------------ called by users
    def expect(self, tx_hash: str, submitted_at: float, name: str) -> None:
        tx_hash = tx_hash.lower()
        seen = self.unclaimed.pop(tx_hash, None)
        if seen is not None:  # its block came before the response did
            self._settle(tx_hash, submitted_at, name, *seen)
            return
        self.pending[tx_hash] = (submitted_at, name)

    # ------------------------------------------------------------------ the greenlet
    def start(self) -> None:
        self._greenlet = gevent.spawn(self._run)

    def stop(self) -> None:
        if self._greenlet is not None:
            self._greenlet.kill()
            self._greenlet = None

    def drain(self, timeout_s: float) -> None:
        """After the users stopped: wait for what is still in flight (bounded), then call the rest dropped."""
        deadline = time.monotonic() + timeout_s
        while self.pending and time.monotonic() < deadline:
            gevent.sleep(0.2)
        self._expire(force=True)

    def _run(self) -> None:
        while True:
            try:
                for block in self.follower.poll():
                    self._on_block(block)
                self._expire()
                self.error = None
            except Exception as exc:  # a slow or restarting node must not kill the watcher: log, retry
                if self.error != str(exc):
                    log.warning("block watcher: %s", exc)
                self.error = str(exc)
            gevent.sleep(self.poll_s)

    def _on_block(self, block: MinedBlock) -> None:
        ours = 0
        succeeded = block.logged or frozenset()
        for h in block.tx_hashes:
            entry = self.pending.pop(h, None)
            if entry is None:
                self.unclaimed[h] = (block, h in succeeded)
                continue
            ours += 1
            self._settle(h, *entry, block, h in succeeded)
        self.blocks.append(
            BlockRow(
                block.number, block.timestamp, block.seen_at, block.tx_count, ours, block.gas_used, block.gas_limit
            )
        )

    def _settle(self, tx_hash: str, submitted: float, name: str, block: MinedBlock, ok: bool) -> None:
        latency = max(0.0, block.seen_at - submitted)
        if ok:
            self.mined.append((submitted, block.seen_at, name))
            self.fire(request_type=MINED, name=name, response_time=latency * 1000, response_length=0, exception=None)
        else:
            self.reverted += 1
            self.fire(
                request_type=MINED,
                name=name,
                response_time=latency * 1000,
                response_length=0,
                exception=TxReverted(f"{tx_hash} reverted in block {block.number}"),
            )
        if self.blocks and block.number <= self.blocks[-1].number:  # claimed late: count it in its own block
            for row in reversed(self.blocks):
                if row.number == block.number:
                    row.ours += 1
                    break

    def _expire(self, force: bool = False) -> None:
        now = time.time()
        for h in [h for h, (b, _) in self.unclaimed.items() if now - b.seen_at > self.drop_after_s]:
            del self.unclaimed[h]
        late = [h for h, (t, _) in self.pending.items() if force or now - t > self.drop_after_s]
        for h in late:
            submitted, name = self.pending.pop(h)
            self.dropped += 1
            self.fire(
                request_type=MINED,
                name=name,
                response_time=(now - submitted) * 1000,
                response_length=0,
                exception=TxDropped(f"{h} not mined after {now - submitted:.0f}s"),
            )

    # ------------------------------------------------------------------ results
    def window(self, start: float, end: float) -> Window:
        """Mined tx/s counts our transactions in blocks seen within [start, end]; latency of those submitted then."""
        w = Window(start, end)
        w.mined = sum(b.ours for b in self.blocks if start <= b.seen_at <= end)
        w.latencies = sorted(m - s for s, m, _ in self.mined if start <= s <= end)
        return w

    def recent_rate(self, seconds: float = 10) -> float:
        """Our mined tx/s over the last `seconds` of blocks (progress lines)."""
        if not self.blocks:
            return 0.0
        cutoff = self.blocks[-1].seen_at - seconds
        recent = [b for b in self.blocks if b.seen_at > cutoff]
        return sum(b.ours for b in recent) / seconds

    def write_blocks(self, path: Path) -> None:
        """Every block seen: size, our share, gas used against the limit."""
        with path.open("w", newline="") as fh:
            out = csv.writer(fh)
            out.writerow(["block", "timestamp", "seen_at", "txs", "ours", "gas_used", "gas_limit", "gas_share"])
            for b in self.blocks:
                out.writerow(
                    [
                        b.number,
                        b.timestamp,
                        f"{b.seen_at:.3f}",
                        b.txs,
                        b.ours,
                        b.gas_used,
                        b.gas_limit,
                        f"{b.gas_used / b.gas_limit:.4f}" if b.gas_limit else "",
                    ]
                )


def percentile(sorted_values: list[float], q: float) -> float:
    """Nearest-rank percentile of already sorted values (0 when empty)."""
    if not sorted_values:
        return 0.0
    rank = max(0, min(len(sorted_values) - 1, math.ceil(q / 100 * len(sorted_values)) - 1))
    return sorted_values[rank]
