"""PV: pvlib's clear-sky irradiance (Ineichen with its bundled Linke turbidity table, works offline)."""

from __future__ import annotations

import warnings
from functools import lru_cache

import numpy as np
import pandas as pd

PERFORMANCE_RATIO = 0.8  # inverter, wiring, temperature and soiling losses of a rooftop system


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
