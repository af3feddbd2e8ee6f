"""Replay recorded counter readings from a CSV file, at the pace of the daemon's (accelerated) clock.

Columns: `timestamp` (unix seconds or ISO 8601 with zone), `serial`, and one pair of cumulative counters in Wh:
`export_wh`,`import_wh` (a net meter) or `generation_wh`,`consumption_wh` (separate meters), or the oracle's own
`positive_wh`,`negative_wh`. `shift_s` moves the whole recording in time (e.g. so that it ends near now).
"""

from __future__ import annotations

import bisect
import csv
from datetime import datetime
from pathlib import Path

from meter_oracle.model import CounterSample
from meter_oracle.sources.base import MeterSource

COUNTER_PAIRS = (("export_wh", "import_wh"), ("generation_wh", "consumption_wh"), ("positive_wh", "negative_wh"))


def parse_timestamp(text: str) -> int:
    text = text.strip()
    try:
        return int(float(text))
    except ValueError:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
        if parsed.tzinfo is None:
            raise ValueError(f"timestamp {text!r} has no time zone") from None
        return int(parsed.timestamp())


def load_csv(path: str | Path) -> list[CounterSample]:
    """All rows of a recording, sorted by time (rows that cannot be parsed raise with their line number)."""
    with open(path, newline="") as fh:
        reader = csv.DictReader(fh)
        fields = set(reader.fieldnames or [])
        pair = next((p for p in COUNTER_PAIRS if set(p) <= fields), None)
        if pair is None or not {"timestamp", "serial"} <= fields:
            raise ValueError(f"{path}: need columns timestamp, serial and one of {COUNTER_PAIRS}")
        rows = []
        for line, row in enumerate(reader, start=2):
            try:
                rows.append(
                    CounterSample(
                        row["serial"].strip(),
                        parse_timestamp(row["timestamp"]),
                        int(float(row[pair[0]])),
                        int(float(row[pair[1]])),
                    )
                )
            except (ValueError, TypeError) as exc:
                raise ValueError(f"{path}:{line}: {exc}") from exc
    rows.sort(key=lambda s: (s.boundary, s.serial))
    return rows


class ReplaySource(MeterSource):
    name = "replay"

    def __init__(self, path: str | Path, shift_s: int = 0) -> None:
        self.path = Path(path)
        self._rows = load_csv(self.path)
        self.shift_s = shift_s
        self._times = [r.boundary + shift_s for r in self._rows]
        self._next = 0

    @property
    def first_timestamp(self) -> int | None:
        return self._rows[0].boundary if self._rows else None

    def exhausted(self) -> bool:
        return self._next >= len(self._rows)

    def serials(self) -> list[str]:
        return sorted({r.serial for r in self._rows})

    def seek(self, boundary: int) -> None:
        self._next = max(self._next, bisect.bisect_right(self._times, boundary))

    def read(self, boundary: int) -> list[CounterSample]:
        end = bisect.bisect_right(self._times, boundary)
        rows = self._rows[self._next : end]
        self._next = max(self._next, end)
        s = self.shift_s
        return [CounterSample(r.serial, r.boundary + s, r.positive_wh, r.negative_wh) for r in rows]
