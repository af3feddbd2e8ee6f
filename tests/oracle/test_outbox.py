"""The SQLite outbox: atomic ingest, batch bookkeeping, survival across reopen."""

from __future__ import annotations

from meter_oracle.model import CounterSample
from meter_oracle.outbox import Outbox
from meter_oracle.validation import MeterState, readings_between

L = 60


def sample(boundary: int, pos: int, neg: int = 0, serial: str = "M1") -> CounterSample:
    return CounterSample(serial, boundary, pos, neg)


def test_record_is_atomic_and_survives_reopen(tmp_path):
    path = tmp_path / "o.sqlite"
    box = Outbox(path)
    s = sample(600, 1100, 5)
    readings = readings_between("M1", MeterState(480, 1000, 0), s, L)
    assert box.record([(s, readings)], [(sample(600, 1, 1, "X"), "unknown_meter", "not registered")], cursor=600) == 2
    box.close()
    box = Outbox(path)
    assert box.states() == {"M1": MeterState(600, 1100, 5)}
    assert box.get("cursor") == "600"
    assert [(r.interval, r.surplus_wh, r.deficit_wh) for r in box.pending(10)] == [
        (480, 48, 0),
        (540, 47, 0),
    ]  # net: 50-2, 50-3
    [rej] = box.rejections()
    assert (rej["serial"], rej["reason"]) == ("X", "unknown_meter")


def test_same_reading_twice_is_stored_once(tmp_path):
    box = Outbox(tmp_path / "o.sqlite")
    s = sample(540, 1100)
    readings = readings_between("M1", MeterState(480, 1000, 0), s, L)
    assert box.accept(s, readings) == 1
    assert box.accept(s, readings) == 0
    assert box.counts()["pending"] == 1


def test_batch_lifecycle(tmp_path):
    box = Outbox(tmp_path / "o.sqlite")
    s = sample(480 + 3 * L, 1300)
    box.accept(s, readings_between("M1", MeterState(480, 1000, 0), s, L))
    first = box.pending(2)
    bid = box.create_batch(first, nonce=7, tx_hash="0xaa", raw_tx=b"raw")
    assert [b.nonce for b in box.batches("signed")] == [7]
    assert len(box.pending(10)) == 1  # the third reading is still free
    assert box.max_nonce() == 7
    box.mark_mined(bid, block=3, now=480 + L + 100.0)
    assert box.counts()["minted"] == 2
    assert box.worst_mint_lag(L) == 100.0  # the first interval ended at 540, mined at 640
    box.unmine(bid)  # the chain lost the block
    assert box.counts()["batched"] == 2 and box.batches("signed")[0].raw_tx == b"raw"
    assert box.requeue(bid, "dropped", "nonce taken") == 2
    assert box.counts()["pending"] == 3
    assert box.batches("signed") == []


def test_readings_that_keep_failing_are_set_aside(tmp_path):
    box = Outbox(tmp_path / "o.sqlite")
    s = sample(540, 1100)
    box.accept(s, readings_between("M1", MeterState(480, 1000, 0), s, L))
    for n in range(3):
        bid = box.create_batch(box.pending(5), nonce=n, tx_hash=f"0x{n}", raw_tx=b"r")
        box.requeue(bid, "reverted", "boom")
    assert box.reject_exhausted(3, "reverted too often") == 1
    assert box.counts()["rejected"] == 1 and box.pending(5) == []
