"""Energy of each household per interval: PV (clear sky x cloud factor x roof noise) and load (profile x noise)."""

from __future__ import annotations

import zlib
from collections.abc import Sequence
from datetime import date, datetime
from zoneinfo import ZoneInfo

import numpy as np

from household_model.demand import load_profile_day
from household_model.pv import PERFORMANCE_RATIO, clear_sky_ghi_day
from household_model.spec import Community, Household
from household_model.weather import cloud_factor, rng


class HouseholdModel:
    """Deterministic given the community's seed: noise is seeded by (seed, serial, interval start)."""

    def __init__(self, community: Community, interval_s: int | None = None) -> None:
        self.community = community
        self.interval_s = interval_s or community.interval_s
        self._tz = ZoneInfo(community.location.tz)

    def cloud_factor(self, t: int) -> float:
        return cloud_factor(self.community.seed, t)

    def ghi(self, t: int) -> float:
        """Clear-sky GHI (W/m²) of the interval containing `t`."""
        loc = self.community.location
        day_start = t // 86_400 * 86_400
        values = clear_sky_ghi_day(loc.latitude, loc.longitude, loc.altitude, day_start, self.interval_s)
        return float(values[min((t - day_start) // self.interval_s, len(values) - 1)])

    def load_kw_per_gwh(self, profile: str, t: int) -> float:
        local = datetime.fromtimestamp(t, self._tz)
        values = load_profile_day(profile, local.date(), self.community.location.tz)
        return float(values[(local.hour * 60 + local.minute) // 15])

    def clear_sky_pv_wh(self, household: Household, start: int) -> float:
        """PV of the interval under a clear sky (what a forecaster can compute without weather data)."""
        mid = start + self.interval_s // 2
        return household.pv_kwp * self.ghi(mid) / 1000 * PERFORMANCE_RATIO * self.interval_s / 3.6

    def interval_energy(self, household: Household, start: int) -> tuple[float, float]:
        """(generated Wh, consumed Wh) of one household in the interval starting at `start`."""
        hours = self.interval_s / 3600
        mid = start + self.interval_s // 2
        noise = rng(self.community.seed, zlib.crc32(household.serial.encode()), start)
        pv_kw = household.pv_kwp * self.ghi(mid) / 1000 * PERFORMANCE_RATIO * self.cloud_factor(mid)
        pv_kw *= noise.uniform(0.97, 1.03)  # panel orientation and shading differ between roofs
        load_kw = self.load_kw_per_gwh(household.profile, mid) * household.annual_kwh / 1e6
        load_kw *= noise.lognormal(0.0, 0.25)  # appliances switch on and off
        return max(pv_kw, 0.0) * hours * 1000, load_kw * hours * 1000

    def energy_matrix(self, households: Sequence[Household], starts: Sequence[int]) -> tuple[np.ndarray, np.ndarray]:
        """(generated Wh, consumed Wh) as [household, interval] arrays: the same numbers as `interval_energy`,
        with irradiance, clouds and load profiles computed once per interval instead of once per household."""
        hours = self.interval_s / 3600
        mids = [s + self.interval_s // 2 for s in starts]
        ghi = np.array([self.ghi(m) for m in mids])
        cloud = np.array([self.cloud_factor(m) for m in mids])
        profiles = {p: np.array([self.load_kw_per_gwh(p, m) for m in mids]) for p in {h.profile for h in households}}
        gen = np.zeros((len(households), len(starts)))
        use = np.zeros((len(households), len(starts)))
        for i, h in enumerate(households):
            crc = zlib.crc32(h.serial.encode())
            draws = [rng(self.community.seed, crc, s) for s in starts]
            roof = np.array([d.uniform(0.97, 1.03) for d in draws])
            appliances = np.array([d.lognormal(0.0, 0.25) for d in draws])
            pv_kw = h.pv_kwp * ghi / 1000 * PERFORMANCE_RATIO * cloud * roof
            load_kw = profiles[h.profile] * h.annual_kwh / 1e6 * appliances
            gen[i] = np.maximum(pv_kw, 0.0) * hours * 1000
            use[i] = load_kw * hours * 1000
        return gen, use


def noon_of(day: date, tz: str) -> int:
    """Unix time of local noon (handy in tests)."""
    return int((datetime(day.year, day.month, day.day, 12, tzinfo=ZoneInfo(tz))).timestamp())
