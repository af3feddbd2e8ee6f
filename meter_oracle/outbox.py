"""The local SQLite outbox: every accepted reading is stored here before anything is sent to the chain.

It also keeps each meter's last accepted counters, every rejected sample (for audit), and each signed batch
transaction *before* it is broadcast (nonce, hash, raw bytes). After a crash the submitter rebroadcasts exactly
those bytes, so a batch can be mined at most once: the same nonce cannot be used twice.

Reading states: pending (waiting for a batch) -> batched (in a signed batch) -> minted, or rejected.
Batch states: signed (sent or about to be) -> mined | reverted | dropped (its nonce went to another transaction).
"""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from meter_oracle.model import CounterSample, Reading
from meter_oracle.validation import MeterState

SCHEMA = """
CREATE TABLE IF NOT EXISTS meter_state (
    serial TEXT PRIMARY KEY, boundary INTEGER NOT NULL, positive_wh INTEGER NOT NULL, negative_wh INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS readings (
    meter_id BLOB NOT NULL, interval INTEGER NOT NULL, serial TEXT NOT NULL,
    surplus_wh INTEGER NOT NULL, deficit_wh INTEGER NOT NULL,
    status TEXT NOT NULL DEFAULT 'pending', batch_id INTEGER, attempts INTEGER NOT NULL DEFAULT 0,
    accepted_at REAL NOT NULL, minted_at REAL, note TEXT,
    PRIMARY KEY (meter_id, interval));
CREATE INDEX IF NOT EXISTS readings_by_status ON readings (status, interval);
CREATE INDEX IF NOT EXISTS readings_by_batch ON readings (batch_id);
CREATE TABLE IF NOT EXISTS batches (
    id INTEGER PRIMARY KEY, nonce INTEGER NOT NULL, tx_hash TEXT NOT NULL, raw_tx BLOB NOT NULL,
    size INTEGER NOT NULL, status TEXT NOT NULL DEFAULT 'signed', created_at REAL NOT NULL,
    mined_at REAL, block INTEGER, error TEXT);
CREATE INDEX IF NOT EXISTS batches_by_status ON batches (status, nonce);
CREATE TABLE IF NOT EXISTS rejections (
    id INTEGER PRIMARY KEY, serial TEXT NOT NULL, boundary INTEGER, positive_wh INTEGER, negative_wh INTEGER,
    reason TEXT NOT NULL, detail TEXT, received_at REAL NOT NULL);
CREATE TABLE IF NOT EXISTS kv (key TEXT PRIMARY KEY, value TEXT NOT NULL);
"""


@dataclass(frozen=True)
class Batch:
    id: int
    nonce: int
    tx_hash: str
    raw_tx: bytes
    size: int
    status: str
    created_at: float


class Outbox:
    """One SQLite connection (WAL, so the ingest and submit threads each open their own)."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(self.path, timeout=30, isolation_level=None, check_same_thread=False)
        self._lock = threading.RLock()
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")  # an accepted reading must survive a power cut
        self._db.executescript(SCHEMA)

    def close(self) -> None:
        self._db.close()

    @contextmanager
    def _tx(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    # ------------------------------------------------------------------ ingest side
    def states(self) -> dict[str, MeterState]:
        rows = self._db.execute("SELECT serial, boundary, positive_wh, negative_wh FROM meter_state").fetchall()
        return {r[0]: MeterState(r[1], r[2], r[3]) for r in rows}

    def accept(self, sample: CounterSample, readings: Iterable[Reading], now: float | None = None) -> int:
        """Store the meter's new state and its readings atomically; returns how many readings were new."""
        now = time.time() if now is None else now
        with self._tx() as db:
            return self._store(db, sample, readings, now)

    @staticmethod
    def _store(db: sqlite3.Connection, sample: CounterSample, readings: Iterable[Reading], now: float) -> int:
        """Upsert the meter's counter state and insert its readings (duplicates ignored); returns how many were new."""
        db.execute(
            "INSERT INTO meter_state VALUES (?, ?, ?, ?) ON CONFLICT(serial) DO UPDATE SET "
            "boundary=excluded.boundary, positive_wh=excluded.positive_wh, negative_wh=excluded.negative_wh",
            (sample.serial, sample.boundary, sample.positive_wh, sample.negative_wh),
        )
        before = db.total_changes
        db.executemany(
            "INSERT OR IGNORE INTO readings (meter_id, interval, serial, surplus_wh, deficit_wh, accepted_at) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            [(r.meter_id, r.interval, r.serial, r.surplus_wh, r.deficit_wh, now) for r in readings],
        )
        return db.total_changes - before

    def record(
        self,
        accepted: Iterable[tuple[CounterSample, Iterable[Reading]]],
        rejected: Iterable[tuple[CounterSample, str, str]],
        cursor: int | None = None,
        now: float | None = None,
    ) -> int:
        """Everything read at one boundary in one transaction (states, readings, rejections, cursor); new readings."""
        now = time.time() if now is None else now
        with self._tx() as db:
            new = 0
            for sample, readings in accepted:
                new += self._store(db, sample, readings, now)
            db.executemany(
                "INSERT INTO rejections (serial, boundary, positive_wh, negative_wh, reason, detail, received_at) "
                "VALUES (?, ?, ?, ?, ?, ?, ?)",
                [
                    (s.serial, s.boundary, s.positive_wh, s.negative_wh, reason, detail, now)
                    for s, reason, detail in rejected
                ],
            )
            if cursor is not None:
                db.execute(
                    "INSERT INTO kv VALUES ('cursor', ?) ON CONFLICT(key) DO UPDATE SET value=excluded.value",
                    (str(cursor),),
                )
            return new

    def rejections(self, limit: int = 100) -> list[dict[str, object]]:
        cur = self._db.execute(
            "SELECT serial, boundary, positive_wh, negative_wh, reason, detail, received_at FROM rejections "
            "ORDER BY id DESC LIMIT ?",
            (limit,),
        )
        names = [c[0] for c in cur.description]
        return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]

    def get(self, key: str) -> str | None:
        row = self._db.execute("SELECT value FROM kv WHERE key = ?", (key,)).fetchone()
        return None if row is None else str(row[0])

    def put(self, key: str, value: str) -> None:
        with self._tx() as db:
            db.execute("INSERT INTO kv VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value=excluded.value", (key, value))

    # ------------------------------------------------------------------ submit side
    def pending(self, limit: int) -> list[Reading]:
        rows = self._db.execute(
            "SELECT serial, meter_id, interval, surplus_wh, deficit_wh FROM readings WHERE status = 'pending' "
            "ORDER BY interval, meter_id LIMIT ?",
            (limit,),
        ).fetchall()
        return [Reading(r[0], bytes(r[1]), r[2], r[3], r[4]) for r in rows]

    def create_batch(self, readings: list[Reading], nonce: int, tx_hash: str, raw_tx: bytes) -> int:
        """Record a signed batch and bind its readings to it, before the transaction leaves this machine."""
        with self._tx() as db:
            cur = db.execute(
                "INSERT INTO batches (nonce, tx_hash, raw_tx, size, created_at) VALUES (?, ?, ?, ?, ?)",
                (nonce, tx_hash, raw_tx, len(readings), time.time()),
            )
            batch_id = int(cur.lastrowid or 0)
            db.executemany(
                "UPDATE readings SET status = 'batched', batch_id = ? WHERE meter_id = ? AND interval = ? "
                "AND status = 'pending'",
                [(batch_id, r.meter_id, r.interval) for r in readings],
            )
            return batch_id

    def batches(self, status: str = "signed", min_nonce: int | None = None) -> list[Batch]:
        query = "SELECT id, nonce, tx_hash, raw_tx, size, status, created_at FROM batches WHERE status = ?"
        args: tuple[object, ...] = (status,)
        if min_nonce is not None:
            query += " AND nonce >= ?"
            args += (min_nonce,)
        rows = self._db.execute(query + " ORDER BY nonce", args).fetchall()
        return [Batch(r[0], r[1], r[2], bytes(r[3]), r[4], r[5], r[6]) for r in rows]

    def max_nonce(self) -> int | None:
        row = self._db.execute("SELECT MAX(nonce) FROM batches WHERE status IN ('signed', 'mined')").fetchone()
        return None if row[0] is None else int(row[0])

    def batch_readings(self, batch_id: int) -> list[Reading]:
        rows = self._db.execute(
            "SELECT serial, meter_id, interval, surplus_wh, deficit_wh FROM readings WHERE batch_id = ? "
            "ORDER BY interval, meter_id",
            (batch_id,),
        ).fetchall()
        return [Reading(r[0], bytes(r[1]), r[2], r[3], r[4]) for r in rows]

    def mark_mined(self, batch_id: int, block: int, now: float | None = None) -> int:
        now = time.time() if now is None else now
        with self._tx() as db:
            db.execute(
                "UPDATE batches SET status = 'mined', block = ?, mined_at = ? WHERE id = ?", (block, now, batch_id)
            )
            cur = db.execute(
                "UPDATE readings SET status = 'minted', minted_at = ? WHERE batch_id = ? AND status = 'batched'",
                (now, batch_id),
            )
            return cur.rowcount

    def requeue(self, batch_id: int, status: str, error: str = "", count_attempt: bool = True) -> int:
        """The batch will never be mined (reverted, or its nonce was used otherwise): its readings wait again.
        `count_attempt` is False when the readings are not to blame (lost nonce, interval not yet on chain)."""
        with self._tx() as db:
            db.execute("UPDATE batches SET status = ?, error = ? WHERE id = ?", (status, error, batch_id))
            cur = db.execute(
                "UPDATE readings SET status = 'pending', batch_id = NULL, attempts = attempts + ? "
                "WHERE batch_id = ? AND status = 'batched'",
                (int(count_attempt), batch_id),
            )
            return cur.rowcount

    def reject_readings(self, keys: Iterable[tuple[bytes, int]], note: str) -> int:
        """Readings the chain will never accept (e.g. the meter was deactivated): kept, marked, never sent again."""
        with self._tx() as db:
            cur = db.executemany(
                "UPDATE readings SET status = 'rejected', batch_id = NULL, note = ? "
                "WHERE meter_id = ? AND interval = ?",
                [(note, mid, interval) for mid, interval in keys],
            )
            return cur.rowcount

    def reject_exhausted(self, max_attempts: int, note: str) -> int:
        """Pending readings that were in `max_attempts` reverted batches: set aside for the operator."""
        with self._tx() as db:
            cur = db.execute(
                "UPDATE readings SET status = 'rejected', note = ? WHERE status = 'pending' AND attempts >= ?",
                (note, max_attempts),
            )
            return cur.rowcount

    def unmine(self, batch_id: int) -> None:
        """The chain lost the block holding this batch (restored from an older state): it must be sent again."""
        with self._tx() as db:
            db.execute("UPDATE batches SET status = 'signed', block = NULL, mined_at = NULL WHERE id = ?", (batch_id,))
            db.execute(
                "UPDATE readings SET status = 'batched', minted_at = NULL WHERE batch_id = ? AND status = 'minted'",
                (batch_id,),
            )

    # ------------------------------------------------------------------ status
    def counts(self) -> dict[str, int]:
        rows = self._db.execute("SELECT status, COUNT(*) FROM readings GROUP BY status").fetchall()
        out = {"pending": 0, "batched": 0, "minted": 0, "rejected": 0}
        out.update({str(s): int(n) for s, n in rows})
        out["rejected_samples"] = int(self._db.execute("SELECT COUNT(*) FROM rejections").fetchone()[0])
        return out

    def oldest_unminted_interval(self) -> int | None:
        row = self._db.execute("SELECT MIN(interval) FROM readings WHERE status IN ('pending', 'batched')").fetchone()
        return None if row[0] is None else int(row[0])

    def worst_mint_lag(self, interval_s: int, accepted_since: float = 0.0) -> float | None:
        """Longest time from an interval's end to its reading being mined (readings accepted since a time)."""
        row = self._db.execute(
            "SELECT MAX(minted_at - (interval + ?)) FROM readings WHERE status = 'minted' AND accepted_at >= ?",
            (interval_s, accepted_since),
        ).fetchone()
        return None if row[0] is None else float(row[0])

    def latest_minted_interval(self) -> int | None:
        row = self._db.execute("SELECT MAX(interval) FROM readings WHERE status = 'minted'").fetchone()
        return None if row[0] is None else int(row[0])
