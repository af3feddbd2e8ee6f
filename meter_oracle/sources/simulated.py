"""A simulated microgrid community, so the demo has believable meter data without hardware.

The household model (PV from pvlib's clear sky x a seeded cloud factor, load from demandlib's BDEW profiles) lives
in the `household_model` package, shared with the webapp and the community simulator; this source turns it into
meter counters. Each meter counts generation (positive) and consumption (negative) in Wh. Noise is seeded by
(seed, serial, boundary), so a run is reproducible; after a restart the counters continue from the last accepted
values.
"""

from __future__ import annotations

import zlib
from collections.abc import Mapping

from household_model import (
    PERFORMANCE_RATIO,
    PROFILES,
    Community,
    Household,
    HouseholdModel,
    Location,
    clear_sky_ghi_day,
    load_community,
    load_profile_day,
    noon_of,
    synthetic_household_kw,
)
from meter_oracle.model import CounterSample
from meter_oracle.sources.base import MeterSource
from meter_oracle.validation import MeterState


class SimulatedSource(MeterSource):
    name = "simulated"

    def __init__(self, community: Community, interval_s: int | None = None) -> None:
        self.community = community
        self.model = HouseholdModel(community, interval_s)
        self.interval_s = self.model.interval_s
        self._counters: dict[str, list[float]] = {}
        self._last: int | None = None
        for h in community.households:
            base = 100_000 + zlib.crc32(h.serial.encode()) % 900_000  # meters were not new when the oracle started
            self._counters[h.serial] = [float(base), float(base) * 1.7]

    def serials(self) -> list[str]:
        return [h.serial for h in self.community.households]

    def restore(self, states: Mapping[str, MeterState]) -> None:
        for serial, state in states.items():
            if serial in self._counters:
                self._counters[serial] = [float(state.positive_wh), float(state.negative_wh)]
        if states:
            self._last = max(s.boundary for s in states.values())

    def seek(self, boundary: int) -> None:
        self._last = boundary if self._last is None else max(self._last, boundary)

    def cloud_factor(self, t: int) -> float:
        return self.model.cloud_factor(t)

    def ghi(self, t: int) -> float:
        return self.model.ghi(t)

    def load_kw_per_gwh(self, profile: str, t: int) -> float:
        return self.model.load_kw_per_gwh(profile, t)

    def interval_energy(self, household: Household, start: int) -> tuple[float, float]:
        """(generated Wh, consumed Wh) of one household in the interval starting at `start`."""
        return self.model.interval_energy(household, start)

    def read(self, boundary: int) -> list[CounterSample]:
        step = self.interval_s
        first = boundary - step if self._last is None else self._last
        # A long pause (oracle down) is filled interval by interval, up to one day back.
        starts = range(max(first, boundary - 86_400), boundary, step)
        for h in self.community.households:
            counters = self._counters[h.serial]
            for start in starts:
                gen, use = self.interval_energy(h, start)
                counters[0] += gen
                counters[1] += use
        self._last = boundary if self._last is None else max(self._last, boundary)
        return [
            CounterSample(h.serial, boundary, int(self._counters[h.serial][0]), int(self._counters[h.serial][1]))
            for h in self.community.households
        ]


__all__ = [
    "PERFORMANCE_RATIO",
    "PROFILES",
    "Community",
    "Household",
    "Location",
    "SimulatedSource",
    "clear_sky_ghi_day",
    "load_community",
    "load_profile_day",
    "noon_of",
    "synthetic_household_kw",
]
