"""The simulated community's meters as a meter-oracle source: the simulator sets each interval's energy, the real
oracle (validation, outbox, submitter) reads the counters at the boundary exactly as it reads real meters."""

from __future__ import annotations

import zlib
from collections.abc import Mapping

from meter_oracle.model import CounterSample
from meter_oracle.sources.base import MeterSource
from meter_oracle.validation import MeterState


class CommunityMeters(MeterSource):
    name = "simulation"

    def __init__(self, serials: list[str]) -> None:
        self._serials = list(serials)
        # Meters were not new when the oracle started: counters begin at a serial-dependent value.
        self.counters = {s: [100_000 + zlib.crc32(s.encode()) % 900_000, 200_000] for s in self._serials}

    def serials(self) -> list[str]:
        return list(self._serials)

    def restore(self, states: Mapping[str, MeterState]) -> None:
        for serial, state in states.items():
            if serial in self.counters:
                self.counters[serial] = [state.positive_wh, state.negative_wh]

    def add(self, serial: str, positive_wh: int, negative_wh: int) -> None:
        """Energy the meter counted in the interval that just ended (export side, import side)."""
        if positive_wh < 0 or negative_wh < 0:
            raise ValueError(f"{serial}: counter increments must be >= 0, got {positive_wh}/{negative_wh}")
        c = self.counters[serial]
        c[0] += positive_wh
        c[1] += negative_wh

    def read(self, boundary: int) -> list[CounterSample]:
        return [CounterSample(s, boundary, c[0], c[1]) for s, c in self.counters.items()]
