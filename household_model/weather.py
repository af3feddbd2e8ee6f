"""Weather variability: a seeded cloudiness process (a cloudiness per day, varying per 15 minutes)."""

from __future__ import annotations

import numpy as np


def rng(*parts: int) -> np.random.Generator:
    """A generator seeded by integers (e.g. seed, day, block), so any instant can be recomputed on its own."""
    return np.random.default_rng([p & 0xFFFFFFFF for p in parts])


def cloud_factor(seed: int, t: int) -> float:
    """Share of clear-sky irradiance that reaches the panels at unix time `t`.

    Each UTC day draws a cloudiness in [0.05, 0.6]; within it the factor moves linearly between values drawn per
    15-minute block, so consecutive intervals are correlated (persistence forecasts work, but not perfectly).
    """
    day = t // 86_400
    cloudiness = rng(seed, day).uniform(0.05, 0.6)
    block, frac = divmod(t, 900)
    a, b = (rng(seed, day, block + k).uniform() for k in (0, 1))
    return 1.0 - cloudiness * (a + (b - a) * frac / 900)
