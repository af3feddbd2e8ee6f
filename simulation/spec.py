"""What one simulation run is: the community, its days and interval, the seed, the agents' settings, the designs."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from zoneinfo import ZoneInfo

import numpy as np

from agents.bounds import UserBounds
from agents.pricing import Tariffs
from household_model import Community, HouseholdModel

BASE_DESIGNS = ("grid-only", "order-book", "auction")
ALL_DESIGNS = tuple(d for b in BASE_DESIGNS for d in (b, b + "+battery"))
DEFAULT_DATE = date(2026, 3, 21)  # an equinox day: ~12 h of sun in Selangor
# Grid tariffs as deployed (scripts/deploy.py): retail RM 0.50/kWh, feed-in RM 0.20/kWh, in mgMYR per kWh.
DEFAULT_TARIFFS = Tariffs(retail=500_000, feed_in=200_000)


@dataclass(frozen=True)
class RunSpec:
    community: Community
    days: int
    interval_s: int
    seed: int
    day: date = DEFAULT_DATE
    strategy: str = "sdr"
    forecaster: str = "clear-sky"
    tariffs: Tariffs = DEFAULT_TARIFFS
    money_per_day: int = 50_000_000  # RM 50 of settlement tokens per household per day
    bounds: UserBounds = field(default_factory=lambda: UserBounds(daily_spend_cap=20_000_000))
    intervals: int | None = None  # default: days x intervals per day
    start_hour: float = 0.0  # local time of the first interval (short test runs start at noon)

    def __post_init__(self) -> None:
        if self.interval_s <= 0 or 86_400 % self.interval_s:
            raise ValueError(f"interval_s must divide a day, got {self.interval_s}")
        if self.days < 1:
            raise ValueError("days must be >= 1")

    @property
    def n_intervals(self) -> int:
        return self.intervals if self.intervals is not None else self.days * 86_400 // self.interval_s

    @property
    def tz(self) -> str:
        return self.community.location.tz

    @property
    def start_ts(self) -> int:
        """Local midnight of the first day, plus `start_hour`."""
        midnight = datetime(self.day.year, self.day.month, self.day.day, tzinfo=ZoneInfo(self.tz)).timestamp()
        return int(midnight + self.start_hour * 3600) // self.interval_s * self.interval_s

    def interval_start(self, k: int) -> int:
        return self.start_ts + k * self.interval_s


@dataclass(frozen=True)
class Physics:
    """Generation and consumption (whole Wh) of every household and interval: the same in every design."""

    generation: np.ndarray  # [households, intervals]
    consumption: np.ndarray

    @classmethod
    def of(cls, spec: RunSpec) -> Physics:
        model = HouseholdModel(spec.community, spec.interval_s)
        starts = [spec.interval_start(j) for j in range(spec.n_intervals)]
        gen, use = model.energy_matrix(spec.community.households, starts)
        return cls(np.round(gen).astype(np.int64), np.round(use).astype(np.int64))
