"""A simulated microgrid community, so the demo has believable meter data without hardware.

PV: pvlib's clear-sky irradiance (Ineichen with its bundled Linke turbidity table, works offline) at the community's
location, times the panel size, a performance ratio and a deterministic cloud factor. Load: demandlib's BDEW 2025
standard load profiles (H25 households by default; G25/L25/P25/S25 selectable) scaled to each household's annual kWh,
with per-interval noise. If demandlib cannot build a profile, a documented synthetic double-peak household curve
(`synthetic_household_kw`) stands in and a warning is logged.

Each meter counts generation (positive) and consumption (negative) in Wh. Noise is seeded by (seed, serial, boundary),
so a run is reproducible; after a restart the counters continue from the last accepted values.
"""

from __future__ import annotations

import json
import logging
import math
import warnings
import zlib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from functools import lru_cache
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd

from meter_oracle.model import CounterSample
from meter_oracle.sources.base import MeterSource
from meter_oracle.validation import MeterState

log = logging.getLogger("meter_oracle.simulated")

PERFORMANCE_RATIO = 0.8  # inverter, wiring, temperature and soiling losses of a rooftop system
PROFILES = ("H25", "G25", "L25", "P25", "S25")
# Malaysia's fixed-date national holidays (moving religious holidays would need a calendar package): load on these
# days follows the profile's Sunday/holiday shape.
FIXED_HOLIDAYS = ((1, 1), (5, 1), (8, 31), (9, 16), (12, 25))


@dataclass(frozen=True)
class Location:
    name: str = "Microgrid lab, Serdang, Selangor, Malaysia"
    latitude: float = 2.9926
    longitude: float = 101.7071
    altitude: float = 40.0
    tz: str = "Asia/Kuala_Lumpur"


@dataclass(frozen=True)
class Household:
    name: str
    serial: str
    kind: str  # "prosumer" | "consumer"
    pv_kwp: float
    annual_kwh: float
    profile: str = "H25"


@dataclass(frozen=True)
class Community:
    name: str
    location: Location
    interval_s: int
    households: tuple[Household, ...]
    seed: int = 7


def load_community(path: str | Path) -> Community:
    """Read a community file (see meter_oracle/config/demo-community.json) and check it."""
    data = json.loads(Path(path).read_text())
    loc = Location(**data.get("location", {}))
    households = []
    for h in data["households"]:
        hh = Household(
            h["name"],
            h["serial"],
            h["kind"],
            float(h.get("pv_kwp", 0)),
            float(h["annual_kwh"]),
            h.get("profile", "H25"),
        )
        if hh.kind not in ("prosumer", "consumer"):
            raise ValueError(f"{path}: household {hh.name}: kind must be prosumer or consumer")
        if hh.profile not in PROFILES:
            raise ValueError(f"{path}: household {hh.name}: profile must be one of {PROFILES}")
        if hh.kind == "consumer" and hh.pv_kwp:
            raise ValueError(f"{path}: household {hh.name}: a consumer has no PV")
        households.append(hh)
    serials = [h.serial for h in households]
    if len(set(serials)) != len(serials):
        raise ValueError(f"{path}: meter serials must be unique")
    return Community(
        data.get("name", Path(path).stem),
        loc,
        int(data.get("interval_s", 60)),
        tuple(households),
        int(data.get("seed", 7)),
    )


def synthetic_household_kw(local_hour: float) -> float:
    """Fallback load shape (kW for 1 GWh/year, like demandlib's): base load plus morning and evening peaks."""
    base = 0.6
    morning = 0.7 * math.exp(-(((local_hour - 7.5) / 1.5) ** 2))
    evening = 1.4 * math.exp(-(((local_hour - 20.0) / 2.0) ** 2))
    return (base + morning + evening) * 1e6 / 8760 / 1.02  # the shape's mean is ~1.02


@lru_cache(maxsize=32)
def load_profile_day(profile: str, day: date, tz: str) -> np.ndarray:
    """96 quarter-hour values (kW per GWh/year) of a BDEW profile for one local day."""
    import demandlib.bdew as bdew

    holidays = {date(day.year, m, d): "holiday" for m, d in FIXED_HOLIDAYS}
    index = pd.date_range(datetime(day.year, day.month, day.day), periods=96, freq="15min")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # demandlib uses pandas' deprecated inplace= keyword
            series = getattr(bdew, profile)(index, holidays=holidays)
        values = np.asarray(series.to_numpy(), dtype=float)
        if values.shape != (96,) or not np.isfinite(values).all():
            raise ValueError(f"unexpected profile shape {values.shape}")
        return values
    except Exception as exc:  # any demandlib failure: fall back, loudly
        log.warning("demandlib %s profile failed (%s); using the synthetic household curve", profile, exc)
        return np.array([synthetic_household_kw(q / 4 + 0.125) for q in range(96)])


@lru_cache(maxsize=8)
def clear_sky_ghi_day(lat: float, lon: float, alt: float, day_start: int, step_s: int) -> np.ndarray:
    """Clear-sky GHI (W/m²) at the middle of each interval of one UTC day."""
    import pvlib

    times = pd.to_datetime(np.arange(day_start, day_start + 86_400, step_s) + step_s / 2, unit="s", utc=True)
    location = pvlib.location.Location(lat, lon, tz="UTC", altitude=alt)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # pvlib 0.16 still calls pandas' deprecated dayofyear
        ghi = location.get_clearsky(times, model="ineichen")["ghi"].fillna(0).to_numpy()
        return np.asarray(ghi, dtype=float)


def _rng(*parts: int) -> np.random.Generator:
    return np.random.default_rng([p & 0xFFFFFFFF for p in parts])


class SimulatedSource(MeterSource):
    name = "simulated"

    def __init__(self, community: Community, interval_s: int | None = None) -> None:
        self.community = community
        self.interval_s = interval_s or community.interval_s
        self._tz = ZoneInfo(community.location.tz)
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
        """Share of clear-sky irradiance that reaches the panels: a cloudiness per day, varying per 15 minutes."""
        seed = self.community.seed
        day = t // 86_400
        cloudiness = _rng(seed, day).uniform(0.05, 0.6)
        block, frac = divmod(t, 900)
        a, b = (_rng(seed, day, block + k).uniform() for k in (0, 1))
        return 1.0 - cloudiness * (a + (b - a) * frac / 900)

    def ghi(self, t: int) -> float:
        loc = self.community.location
        day_start = t // 86_400 * 86_400
        values = clear_sky_ghi_day(loc.latitude, loc.longitude, loc.altitude, day_start, self.interval_s)
        return float(values[min((t - day_start) // self.interval_s, len(values) - 1)])

    def load_kw_per_gwh(self, profile: str, t: int) -> float:
        local = datetime.fromtimestamp(t, self._tz)
        values = load_profile_day(profile, local.date(), self.community.location.tz)
        return float(values[(local.hour * 60 + local.minute) // 15])

    def interval_energy(self, household: Household, start: int) -> tuple[float, float]:
        """(generated Wh, consumed Wh) of one household in the interval starting at `start`."""
        hours = self.interval_s / 3600
        mid = start + self.interval_s // 2
        rng = _rng(self.community.seed, zlib.crc32(household.serial.encode()), start)
        pv_kw = household.pv_kwp * self.ghi(mid) / 1000 * PERFORMANCE_RATIO * self.cloud_factor(mid)
        pv_kw *= rng.uniform(0.97, 1.03)  # panel orientation and shading differ between roofs
        load_kw = self.load_kw_per_gwh(household.profile, mid) * household.annual_kwh / 1e6
        load_kw *= rng.lognormal(0.0, 0.25)  # appliances switch on and off
        return max(pv_kw, 0.0) * hours * 1000, load_kw * hours * 1000

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


def noon_of(day: date, tz: str) -> int:
    """Unix time of local noon (handy in tests)."""
    return int((datetime(day.year, day.month, day.day, 12, tzinfo=ZoneInfo(tz))).timestamp())


__all__ = ["Community", "Household", "Location", "SimulatedSource", "load_community", "noon_of"]
