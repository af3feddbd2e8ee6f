"""The load test's block watcher: success, revert, drop, and a block that arrives before the HTTP response."""

from __future__ import annotations

import time

from energy_chain.blocks import MinedBlock, mined_rate
from tests.load.watcher import MINED, TxDropped, TxReverted, Watcher, percentile


class Events:
    def __init__(self) -> None:
        self.fired: list[dict] = []

    def __call__(self, **kwargs) -> None:
        self.fired.append(kwargs)


def block(number: int, hashes: list[str], ok: list[str], seen_at: float) -> MinedBlock:
    return MinedBlock(number, int(seen_at), 100_000 * len(hashes), 300_000_000, tuple(hashes), seen_at, frozenset(ok))


def watcher() -> tuple[Watcher, Events]:
    events = Events()
    return Watcher(follower=None, fire=events, drop_after_s=60), events  # type: ignore[arg-type]


def test_success_and_revert_are_told_apart_by_the_success_log():
    w, events = watcher()
    t0 = time.time()
    w.expect("0xAA", t0, "web buy order")
    w.expect("0xbb", t0, "web cancel")
    w._on_block(block(5, ["0xaa", "0xbb", "0xcc"], ok=["0xaa", "0xcc"], seen_at=t0 + 1.5))
    assert [(e["name"], e["exception"] is None) for e in events.fired] == [
        ("web buy order", True),
        ("web cancel", False),
    ]
    assert all(e["request_type"] == MINED for e in events.fired)
    assert abs(events.fired[0]["response_time"] - 1500) < 1
    assert isinstance(events.fired[1]["exception"], TxReverted)
    assert w.reverted == 1 and len(w.mined) == 1
    assert w.blocks[-1].ours == 2 and w.blocks[-1].txs == 3  # 0xcc is someone else's


def test_a_block_seen_before_the_response_still_counts():
    w, events = watcher()
    t0 = time.time()
    w._on_block(block(7, ["0xdd"], ok=["0xdd"], seen_at=t0 + 0.8))
    w.expect("0xdd", t0, "web sell order")  # the HTTP response came after the block
    assert len(events.fired) == 1 and events.fired[0]["exception"] is None
    assert w.blocks[-1].ours == 1
    assert w.window(t0 - 1, t0 + 10).mined == 1


def test_transactions_never_mined_are_dropped():
    w, events = watcher()
    w.expect("0xee", time.time() - 61, "chain buy order")
    w.expect("0xff", time.time(), "chain buy order")
    w._expire()
    assert [type(e["exception"]) for e in events.fired] == [TxDropped]
    w._expire(force=True)  # at the end of a run whatever is left is dropped
    assert w.dropped == 2 and not w.pending


def test_mined_rate_counts_from_the_block_before_the_first_busy_one():
    blocks = [block(n, [f"0x{n:x}"] * c, [], 100.0 + n) for n, c in ((1, 0), (2, 10), (3, 10), (4, 0))]
    rate, window = mined_rate(blocks)
    assert (rate, window) == (10.0, 2.0)


def test_percentile_nearest_rank():
    values = sorted(float(v) for v in range(1, 101))
    assert (percentile(values, 50), percentile(values, 95), percentile(values, 99)) == (50.0, 95.0, 99.0)
    assert percentile([], 95) == 0.0
