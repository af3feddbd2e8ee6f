"""Household load: demandlib's BDEW 2025 standard load profiles, with a documented synthetic fallback."""

from __future__ import annotations

import logging
import math
import warnings
from datetime import date, datetime
from functools import lru_cache

import numpy as np
import pandas as pd

log = logging.getLogger("household_model.demand")

PROFILES = ("H25", "G25", "L25", "P25", "S25")
# Malaysia's fixed-date national holidays (moving religious holidays would need a calendar package): load on these
# days follows the profile's Sunday/holiday shape.
FIXED_HOLIDAYS = ((1, 1), (5, 1), (8, 31), (9, 16), (12, 25))


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
