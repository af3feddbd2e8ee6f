"""A synthetic community of any size: mixed prosumers and consumers, some with batteries, all from one seed."""

from __future__ import annotations

from household_model.spec import Battery, Community, Household, Location
from household_model.weather import rng

PROSUMER_SHARE = 0.4  # share of households with rooftop PV
BATTERY_SHARE = 0.5  # share of prosumers that also have a battery (used only by the "+battery" designs)


def generate_community(
    households: int,
    seed: int,
    interval_s: int = 900,
    prosumer_share: float = PROSUMER_SHARE,
    battery_share: float = BATTERY_SHARE,
    location: Location | None = None,
    serial_prefix: str = "SIM",
) -> Community:
    """`households` homes: PV 3-10 kWp on prosumers, 2 500-6 500 kWh/year, a few shops (G25), batteries of
    5-13.5 kWh / 2.5-5 kW / 90 % on some prosumers. The same (households, seed) always gives the same community."""
    if households < 1:
        raise ValueError("a community needs at least one household")
    if not 0 <= prosumer_share <= 1 or not 0 <= battery_share <= 1:
        raise ValueError("shares must be within [0, 1]")
    out = []
    for i in range(households):
        r = rng(seed, 0xC0FFEE, i)
        prosumer = r.uniform() < prosumer_share
        shop = r.uniform() < 0.08
        battery = None
        if prosumer and r.uniform() < battery_share:
            capacity = float(r.choice([5.0, 7.5, 10.0, 13.5]))
            battery = Battery(capacity * 1000, min(5.0, capacity / 2) * 1000, 0.9)
        out.append(
            Household(
                name=f"household {i + 1}",
                serial=f"{serial_prefix}-{seed}-{i + 1:05d}",
                kind="prosumer" if prosumer else "consumer",
                pv_kwp=round(float(r.uniform(3.0, 10.0)), 1) if prosumer else 0.0,
                annual_kwh=round(float(r.uniform(2500, 6500)) * (2.0 if shop else 1.0)),
                profile="G25" if shop else "H25",
                battery=battery,
            )
        )
    return Community(f"simulated community ({households} households, seed {seed})", location or Location(),
                     interval_s, tuple(out), seed)  # fmt: skip
